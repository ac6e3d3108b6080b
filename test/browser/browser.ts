/** One headless Chromium per test file (found by findChromium, driven by playwright-core), against the real server. */
import t from 'tap'
import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { FastifyInstance } from 'fastify'
import { findChromium, requireForFile } from '../helpers/binaries.js'
import { ROOT } from '../helpers/files.js'

export const ARTIFACTS = path.join(ROOT, 'test', 'artifacts')
mkdirSync(ARTIFACTS, { recursive: true })

// Without Chromium the importing test file is skipped with the reason (failed under
// WHYDENIED_REQUIRE_ALL=1) before its own top-level code starts a server.
export const CHROMIUM = requireForFile(t, findChromium())

export async function launch (): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
  })
}

/** Listen on a free port of 127.0.0.1; returns the base URL. */
export async function serve (app: FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: '127.0.0.1' })
}

export async function screenshot (page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true })
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export interface AxeViolation { id: string, impact: string | null, help: string, nodes: Array<{ target: unknown[], html: string }> }

/** Run axe-core on the page, every rule but those in `skip`; the serious and critical violations. */
export async function axeViolations (page: Page, skip: readonly string[] = []): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol: the page's CSP, which refuses inline scripts, does not apply.
  await page.evaluate(axeSource)
  const rules = Object.fromEntries(skip.map(id => [id, { enabled: false }]))
  const result = await page.evaluate<{ violations: AxeViolation[] }>(`axe.run(document, { resultTypes: ['violations'], rules: ${JSON.stringify(rules)} })`)
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => ({ target: n.target, html: n.html })) }))
}
