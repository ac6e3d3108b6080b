/** Helpers for page tests: seeding fixtures, parsing HTML, CSRF tokens and multipart bodies. */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { parse, type HTMLElement } from 'node-html-parser'
import { readFileRecords, readTextRecords } from '../../../server/ingest/index.js'
import { generate } from '../../../fixtures/generate.js'
import { DECODED_FIXTURES } from '../../helpers/build.js'

export const FIXTURE_FILES = readdirSync(DECODED_FIXTURES).filter(f => f.endsWith('.json')).sort()

/** Import every decoded fixture (one import per file, named after it). */
export async function seedFixtures (app: FastifyInstance): Promise<void> {
  for (const f of FIXTURE_FILES) await app.repos.importer.run(readFileRecords(path.join(DECODED_FIXTURES, f), f), { label: f })
}

/** Import `n` synthetic messages spread over the last `days` days. */
export async function seedSynthetic (app: FastifyInstance, n: number, days = 20): Promise<void> {
  const lines = [...generate(n, { end: new Date().toISOString(), days })].join('\n')
  await app.repos.importer.run(readTextRecords(lines, 'synthetic.ndjson'), { label: 'synthetic.ndjson' })
}

export function fixtureText (name: string): string {
  return readFileSync(path.join(DECODED_FIXTURES, name), 'utf8')
}

/** The id of the denial stored from a fixture file (looked up through its first occurrence's source). */
export function denialIdFor (app: FastifyInstance, fixture: string): number {
  const items = app.repos.search.search({}, { limit: 500, facets: false }).items
  const hit = items.find(i => app.repos.denials.get(i.id)?.occurrenceList.some(o => o.source === fixture))
  if (!hit) throw new Error(`no denial stored from ${fixture}`)
  return hit.id
}

/** Parse a page; <pre> is parsed as markup too (node-html-parser keeps it raw by default). */
export function html (res: LightMyRequestResponse | string): HTMLElement {
  return parse(typeof res === 'string' ? res : res.body, { blockTextElements: { script: true, noscript: true, style: true } })
}

export function texts (root: HTMLElement, selector: string): string[] {
  return root.querySelectorAll(selector).map(e => e.text.replace(/\s+/g, ' ').trim())
}

/** A page's CSRF token and the cookie that goes with it. */
export async function csrfFor (app: FastifyInstance, url = '/import', headers: Record<string, string> = {}): Promise<{ token: string, cookie: string }> {
  const res = await app.inject({ url, headers })
  const token = html(res).querySelector('input[name="_csrf"]')?.getAttribute('value')
  const set = res.cookies.find(c => c.name === '_csrf')
  if (!token || !set) throw new Error(`no CSRF token on ${url} (status ${res.statusCode})`)
  return { token, cookie: `_csrf=${set.value}` }
}

export type Part = { name: string, value: string } | { name: string, filename: string, content: string | Buffer, type?: string }

/** A multipart/form-data body, as a browser would send the form. */
export function multipart (parts: Part[]): { payload: Buffer, headers: Record<string, string> } {
  const boundary = '----whydeniedTestBoundary' + Math.random().toString(16).slice(2)
  const chunks: Buffer[] = []
  for (const p of parts) {
    if ('filename' in p) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: ${p.type ?? 'application/json'}\r\n\r\n`))
      chunks.push(Buffer.isBuffer(p.content) ? p.content : Buffer.from(p.content))
      chunks.push(Buffer.from('\r\n'))
    } else {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`))
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

/** POST a multipart form with a valid CSRF token, as the import page does. */
export async function postForm (app: FastifyInstance, url: string, parts: Part[], extraHeaders: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const { token, cookie } = await csrfFor(app, '/import', extraHeaders)
  const body = multipart([{ name: '_csrf', value: token }, ...parts])
  return app.inject({ method: 'POST', url, payload: body.payload, headers: { ...body.headers, cookie: [cookie, extraHeaders.cookie].filter(Boolean).join('; '), ...omit(extraHeaders, 'cookie') } })
}

function omit (o: Record<string, string>, k: string): Record<string, string> {
  const { [k]: _, ...rest } = o
  return rest
}
