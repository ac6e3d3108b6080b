import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { buildTestApp, DECODED_FIXTURES } from '../../helpers/build.js'

const cli = readFileSync(path.join(DECODED_FIXTURES, 'kms-decrypt.json'), 'utf8')
const bare = JSON.parse(cli).DecodedMessage as string

function multipart (files: Array<{ name: string, content: string }>, fields: Record<string, string> = {}): { payload: Buffer, headers: Record<string, string> } {
  const boundary = '----whydenied' + Math.random().toString(16).slice(2)
  const parts: string[] = []
  for (const [k, v] of Object.entries(fields)) parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
  for (const f of files) parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${f.name}"\r\nContent-Type: application/json\r\n\r\n${f.content}\r\n`)
  parts.push(`--${boundary}--\r\n`)
  return { payload: Buffer.from(parts.join('')), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

t.test('JSON body, NDJSON body, and re-posting the same batch', async t => {
  const app = await buildTestApp(t)
  const post = (payload: string, type: string, qs = '') => app.inject({ method: 'POST', url: `/api/imports${qs}`, headers: { 'content-type': type }, payload })
  let res = await post(cli, 'application/json')
  t.equal(res.statusCode, 200)
  t.same(res.json(), { imported: 1, duplicates: 0, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} })
  res = await post(cli, 'application/json')
  t.same(res.json(), { imported: 0, duplicates: 1, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} }, 'same batch again: duplicates')
  res = await post(cli, 'application/json', '?source=ticket-9')
  t.same(res.json(), { imported: 1, duplicates: 0, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} }, 'another source: a new occurrence')
  res = await post(`${bare}\nnot json\n`, 'application/x-ndjson', '?source=nd')
  t.same(res.json(), { imported: 1, duplicates: 0, skipped: 0, rejected: [{ source: 'nd', line: 2, reason: 'not JSON: the line starts with "not json"' }], rejectedCount: 1, rejectedReasons: { 'not JSON: the line starts with "…"': 1 } })
  res = await post(JSON.stringify([JSON.parse(cli), { DecodedMessage: bare, observedAt: '2026-01-01T00:00:00Z' }]), 'application/json', '?source=arr')
  t.same(res.json(), { imported: 2, duplicates: 0, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} })
  const d = (await app.inject({ url: '/api/denials' })).json()
  t.equal(d.total, 1)
  t.equal(d.items[0].occurrences, 5)
  t.equal(d.items[0].firstSeen, '2026-01-01T00:00:00.000Z')
})

t.test('multipart upload of several files', async t => {
  const app = await buildTestApp(t)
  const { payload, headers } = multipart([{ name: 'a.json', content: cli }, { name: 'b.ndjson', content: `${bare}\n{"x":1}\n` }])
  const res = await app.inject({ method: 'POST', url: '/api/imports', headers, payload })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { imported: 2, duplicates: 0, skipped: 0, rejected: [{ source: 'b.ndjson', line: 2, reason: 'not a decoded authorization message: expected "DecodedMessage" or the keys "allowed", "explicitDeny" and "context", found {x}' }], rejectedCount: 1, rejectedReasons: { 'not a decoded authorization message: expected "DecodedMessage" or the keys "allowed", "explicitDeny" and "context", found {…}': 1 } })
  const empty = multipart([])
  const res2 = await app.inject({ method: 'POST', url: '/api/imports', headers: empty.headers, payload: empty.payload })
  t.equal(res2.statusCode, 400)
  t.match(res2.json().message, /no file/)
})

t.test('bad requests get clear 4xx answers, never a crash', async t => {
  const app = await buildTestApp(t)
  let res = await app.inject({ method: 'POST', url: '/api/imports', headers: { 'content-type': 'application/json' }, payload: '' })
  t.equal(res.statusCode, 400)
  t.match(res.json().message, /body is empty/)
  res = await app.inject({ method: 'POST', url: '/api/imports', headers: { 'content-type': 'application/xml' }, payload: '<x/>' })
  t.equal(res.statusCode, 415)
  res = await app.inject({ method: 'POST', url: '/api/imports', headers: { 'content-type': 'application/json' }, payload: '{"DecodedMessage": "{\\"allowed\\":false' })
  t.equal(res.statusCode, 200, 'a rejected record is a summary, not an error')
  t.equal(res.json().rejected.length, 1)
  res = await app.inject({ method: 'POST', url: '/api/imports', headers: { 'content-type': 'application/json' }, payload: Buffer.alloc(65 * 1024 * 1024, 0x20) })
  t.equal(res.statusCode, 413)
  t.equal((await app.inject({ url: '/api/denials' })).json().total, 0)
})

t.test('a record nested 20,000 levels deep among 3,000 costs only itself; the summary counts by reason', async t => {
  const { generate } = await import('../../../fixtures/generate.js')
  const app = await buildTestApp(t)
  const lines = [...generate(3000, { seed: 41 })]
  lines[2600] = '['.repeat(20_000) + ']'.repeat(20_000)
  const res = await app.inject({ method: 'POST', url: '/api/imports', headers: { 'content-type': 'application/x-ndjson' }, payload: lines.join('\n') })
  t.equal(res.statusCode, 200)
  const s = res.json()
  t.equal(s.imported + s.duplicates, 2999)
  t.same(s.rejected, [{ source: 'api', line: 2601, reason: 'JSON nesting deeper than 64 levels' }])
  t.equal(s.rejectedCount, 1)
  t.same(s.rejectedReasons, { 'JSON nesting deeper than 64 levels': 1 })
  const latest = (await app.inject({ url: '/import?format=json' })).json().latestImports[0]
  t.match(latest, { rejected: 1, finishedAt: /^\d{4}-/ }, 'the imports row is finished')
})

t.test('multipart: summaries of several files add up, detail bounded to the first 1,000', async t => {
  const app = await buildTestApp(t)
  const bad = Array.from({ length: 800 }, (_, i) => `{"k${i}": 1}`).join('\n')
  const { payload, headers } = multipart([{ name: 'a.ndjson', content: bad }, { name: 'b.ndjson', content: bad }])
  const s = (await app.inject({ method: 'POST', url: '/api/imports', headers, payload })).json()
  t.equal(s.rejectedCount, 1600)
  t.equal(s.rejected.length, 1000)
  t.same([s.rejected[0].source, s.rejected[999].source, s.rejected[999].line], ['a.ndjson', 'b.ndjson', 200])
  t.same(Object.values(s.rejectedReasons), [1600])
})
