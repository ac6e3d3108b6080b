/**
 * POST /api/imports under load, over real HTTP on 127.0.0.1 against a started server: a body of
 * millions of bad lines answers quickly with a small summary, memory stays bounded, and searches
 * keep being answered during a 64 MiB import. Run `npm run build` first (the server is dist/).
 * It lives in test/api-load/ because tap starts files in path order: its ~45 s run first, not last,
 * while the other job works through short files (as the last file it left one core idle ~18 s).
 */
import t from 'tap'
import { generate } from '../../fixtures/generate.js'
import { MAX_IMPORT_BODY } from '../../server/routes/api/imports.js'
import { peakRssMb, percentile, probeWhile, startServer } from '../helpers/server.js'

async function postImport (url: string, body: Buffer): Promise<{ status: number, text: string, ms: number }> {
  const started = performance.now()
  const res = await fetch(new URL('api/imports', url), { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
  const text = await res.text()
  return { status: res.status, text, ms: performance.now() - started }
}

t.test('8 MiB of bad lines: a small summary in seconds, bounded memory, other requests answered', async t => {
  const { url, pid } = await startServer(t)
  // 4.2 million one-character lines, each a JSON value that is not a message: 4.2 million rejections.
  // (16 MiB, 8.4 million, until 2026-12-01: the same checks at twice the test's time. An answer that
  // listed every rejection would be ~190 MB here, and fails the size check long before memory.)
  const LINES = 4 * 1024 * 1024
  const body = Buffer.from('1\n'.repeat(LINES))
  const post = postImport(url, body)
  const latencies = await probeWhile(new URL('api/denials?facets=false', url).href, post)
  const { status, text, ms } = await post
  t.equal(status, 200, text.slice(0, 200))
  const s = JSON.parse(text)
  t.equal(s.rejectedCount, LINES, 'every rejection counted')
  t.equal(s.rejected.length, 1000, 'the first 1,000 in full')
  t.same(s.rejected[999], { source: 'api', line: 1000, reason: 'expected a JSON object, got a number' })
  t.same(s.rejectedReasons, { 'expected a JSON object, got a number': LINES })
  t.ok(text.length < 200_000, `a small answer (${text.length} bytes)`)
  // About 15 s for 16 MiB on an idle 2-core machine; before, 74 s and a 500.
  t.ok(ms < 90_000, `answered in ${Math.round(ms)} ms`)
  const peak = peakRssMb(pid)
  t.ok(peak < 400, `server peak RSS ${Math.round(peak)} MB`)
  t.ok(latencies.length >= 3, `${latencies.length} searches during the import`)
  t.ok(percentile(latencies, 95) < 1000, `searches p95 ${Math.round(percentile(latencies, 95))} ms`)
  const imports = await (await fetch(new URL('import?format=json', url))).json() as { latestImports: Array<{ rejected: number, finishedAt: string | null }> }
  t.equal(imports.latestImports[0]!.rejected, LINES, 'the imports row counts them all')
  t.ok(imports.latestImports[0]!.finishedAt, 'and is finished')
})

t.test('searches during a 64 MiB import are answered, p95 under 1 s', async t => {
  const { url, pid } = await startServer(t)
  const lines: string[] = []
  let size = 0
  for (const l of generate(200_000, { seed: 21 })) {
    if (size + l.length + 1 > MAX_IMPORT_BODY) break
    lines.push(l)
    size += l.length + 1
  }
  const body = Buffer.from(lines.join('\n') + '\n')
  t.ok(body.length > MAX_IMPORT_BODY - 4096, `a ${(body.length / 1024 / 1024).toFixed(1)} MiB body`)
  const post = postImport(url, body)
  const latencies = await probeWhile(new URL('api/denials?action=ec2:*', url).href, post)
  const { status, text } = await post
  t.equal(status, 200, text.slice(0, 200))
  const s = JSON.parse(text)
  t.equal(s.imported, lines.length)
  t.equal(s.rejectedCount, 0)
  const p95 = percentile(latencies, 95)
  t.ok(latencies.length >= 10, `${latencies.length} searches during the import`)
  t.ok(p95 < 1000, `searches p95 ${Math.round(p95)} ms (max ${Math.round(Math.max(...latencies))} ms)`)
  t.comment(`server peak RSS ${Math.round(peakRssMb(pid))} MB`)
})
