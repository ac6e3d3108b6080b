/**
 * `whydenied import` on the inputs that used to sink it: a deeply nested record among thousands,
 * thousands of large records (peak memory measured in the child), 150,000 rejections, and a
 * directory of 10,000 small files. Run `npm run build` first (the CLI is dist/).
 */
import t from 'tap'
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { generate } from '../../fixtures/generate.js'
import { tempDir } from '../helpers/files.js'
import { runCli, type CliResult } from '../helpers/cli.js'

/** Run the CLI with a preload that reports its peak RSS (all threads) on exit. */
async function runMeasured (dir: string, args: string[]): Promise<CliResult & { peakMb: number }> {
  const preload = path.join(dir, 'peak.mjs')
  // eslint-disable-next-line no-template-curly-in-string -- the preload's own template literal
  writeFileSync(preload, "process.on('exit', () => process.stderr.write(`\\npeak-rss-kb=${process.resourceUsage().maxRSS}\\n`))\n")
  const r = await runCli(args, { env: { NODE_OPTIONS: `--import=${pathToFileURL(preload).href}` }, timeoutMs: 120_000 })
  const m = /peak-rss-kb=(\d+)/.exec(r.stderr)
  return { ...r, peakMb: m ? Number(m[1]) / 1024 : Infinity }
}

const query = (db: string, sql: string): unknown[] => {
  const h = new Database(db, { readonly: true })
  try { return h.prepare(sql).all() } finally { h.close() }
}

t.test('a record nested 20,000 levels deep at line 2,601 of 3,000 costs only itself', async t => {
  const dir = tempDir(t)
  const lines = [...generate(3000, { seed: 31 })]
  lines[2600] = '['.repeat(20_000) + ']'.repeat(20_000)
  const file = path.join(dir, 'deep.ndjson')
  writeFileSync(file, lines.join('\n') + '\n')
  const db = path.join(dir, 'd.db')
  const r = await runCli(['import', '--db', db, '--json', file])
  t.equal(r.code, 2, r.stderr)
  const s = JSON.parse(r.stdout)
  t.equal(s.imported + s.duplicates, 2999)
  t.same(s.rejected, [{ source: file, line: 2601, reason: 'JSON nesting deeper than 64 levels' }])
  t.same(query(db, 'SELECT imported + duplicates AS stored, rejected, finished_at IS NOT NULL AS finished FROM imports'), [{ stored: 2999, rejected: 1, finished: 1 }])
})

t.test('3,000 records of 100 KB: all stored, peak memory under 400 MB', async t => {
  const dir = tempDir(t)
  const file = path.join(dir, 'big.ndjson')
  const fd = openSync(file, 'w')
  let i = 0
  const pad = 'p'.repeat(100 * 1024)
  for (const l of generate(3000, { seed: 32 })) {
    const env = JSON.parse(l)
    env.DecodedMessage = JSON.stringify({ ...JSON.parse(env.DecodedMessage), padding: pad + i++ })
    writeSync(fd, JSON.stringify(env) + '\n')
  }
  closeSync(fd)
  const db = path.join(dir, 'b.db')
  const r = await runMeasured(dir, ['import', '--db', db, '--json', file])
  t.equal(r.code, 0, r.stderr)
  t.same(JSON.parse(r.stdout), { imported: 3000, duplicates: 0, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} })
  // Before: 20,000-record batches held every record (1 GB for 50 KB records), and 500-record
  // worker chunks exhausted the worker's heap.
  t.ok(r.peakMb < 400, `peak RSS ${Math.round(r.peakMb)} MB`)
})

t.test('150,000 rejected lines: the summary is printed, with counts', async t => {
  const dir = tempDir(t)
  const lines = [...generate(1000, { seed: 33 })]
  for (let i = 0; i < 150_000; i++) lines.push(`{"nope": ${i}}`)
  const file = path.join(dir, 'rej.ndjson')
  writeFileSync(file, lines.join('\n') + '\n')
  const db = path.join(dir, 'r.db')
  let r = await runCli(['import', '--db', db, file])
  t.equal(r.code, 2, r.stderr)
  t.match(r.stdout, /^imported 1000, duplicates 0, rejected 150000 \(first 1000 shown\)/)
  t.equal(r.stdout.split('\n').filter(l => l.startsWith('  rejected ')).length, 1000)
  t.match(r.stdout, /rejections by reason:\n {2}150000 {2}not a decoded authorization message: expected "DecodedMessage" or the keys "allowed", "explicitDeny" and "context", found \{…\}\n/)
  t.same(query(db, 'SELECT rejected FROM imports'), [{ rejected: 150_000 }], 'the imports row counts every rejection')
  t.same(query(db, 'SELECT count(*) AS n FROM import_rejects'), [{ n: 1000 }], 'a bounded number stored')
  r = await runCli(['import', '--db', db, '--json', file])
  t.equal(r.code, 2)
  const s = JSON.parse(r.stdout)
  t.equal(s.duplicates, 1000)
  t.equal(s.rejectedCount, 150_000)
  t.equal(s.rejected.length, 1000)
  t.same(s.rejected[0], { source: file, line: 1001, reason: 'not a decoded authorization message: expected "DecodedMessage" or the keys "allowed", "explicitDeny" and "context", found {nope}' })
})

t.test('a directory of 10,000 small files: one run, each record with its own file as source', async t => {
  const dir = tempDir(t)
  const root = path.join(dir, 'many')
  mkdirSync(path.join(root, 'sub'), { recursive: true })
  let i = 0
  for (const l of generate(10_000, { seed: 34 })) {
    // Without the envelope's own "source", each occurrence is labelled with its file.
    const { DecodedMessage, observedAt } = JSON.parse(l)
    writeFileSync(path.join(root, i % 2 === 0 ? 'sub' : '', `f${String(i).padStart(5, '0')}.json`), JSON.stringify({ DecodedMessage, observedAt }))
    i++
  }
  writeFileSync(path.join(root, 'sub', 'bad.json'), '{"nope": 1}')
  const db = path.join(dir, 'm.db')
  const started = Date.now()
  const r = await runCli(['import', '--db', db, '--json', root], { timeoutMs: 120_000 })
  const secs = (Date.now() - started) / 1000
  t.equal(r.code, 2, r.stderr)
  const s = JSON.parse(r.stdout)
  t.equal(s.imported, 10_000)
  t.same(s.rejected, [{ source: path.join(root, 'sub', 'bad.json'), line: 1, reason: 'not a decoded authorization message: expected "DecodedMessage" or the keys "allowed", "explicitDeny" and "context", found {nope}' }])
  // Before: one imports row and one transaction per file, 185 s. About 5 s now on an idle machine.
  t.ok(secs < 60, `imported in ${secs.toFixed(1)} s`)
  t.same(query(db, 'SELECT count(*) AS n, sum(imported) AS imported, sum(rejected) AS rejected FROM imports'), [{ n: 1, imported: 10_000, rejected: 1 }], 'one import')
  const sources = query(db, `SELECT s.name AS source, count(*) AS n, min(o.line) AS line FROM occurrences o JOIN sources s ON s.id = o.source_id
    GROUP BY s.name HAVING n <> 1 OR line <> 1`)
  t.same(sources, [], 'one occurrence per file, on its line 1')
  t.same(query(db, 'SELECT count(DISTINCT source_id) AS n FROM occurrences'), [{ n: 10_000 }])
  t.same(query(db, 'SELECT s.name AS source FROM occurrences o JOIN sources s ON s.id = o.source_id ORDER BY o.id LIMIT 2'),
    [{ source: path.join(root, 'f00001.json') }, { source: path.join(root, 'f00003.json') }], 'sources are the files, in the order they were read')
})
