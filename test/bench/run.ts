/**
 * `npm run bench`: generate synthetic messages, import them, time typical searches (and reports).
 * A benchmark, not a test: it prints a table to paste into README.
 *
 *   npm run bench [-- --sizes 100000,1000000] [--keep]
 * Data goes to ./bench-data (git-ignored); --keep reuses generated files and databases.
 */
import { execFileSync } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs'
import { once } from 'node:events'
import path from 'node:path'
import os from 'node:os'
import { generate } from '../../fixtures/generate.js'
import { openDatabase } from '../../server/db/connection.js'
import { SearchRepository, type DenialFilters } from '../../server/db/repositories/search.js'

const args = process.argv.slice(2)
const opt = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined }
const sizes = (opt('sizes') ?? '100000,1000000').split(',').map(Number)
const keep = args.includes('--keep')
const dir = path.resolve('bench-data')
mkdirSync(dir, { recursive: true })
const here = path.dirname(new URL(import.meta.url).pathname)

const rows: Array<[string, string, string]> = []
const row = (what: string, value: string, target: string): void => {
  rows.push([what, value, target])
  process.stderr.write(`${what}: ${value} (target ${target})\n`)
}

async function writeNdjson (file: string, n: number): Promise<void> {
  const out = createWriteStream(file)
  let buf = ''
  for (const line of generate(n, { seed: 42 })) {
    buf += line + '\n'
    if (buf.length > 1 << 20) { if (!out.write(buf)) await once(out, 'drain'); buf = '' }
  }
  out.end(buf)
  await once(out, 'finish')
}

function percentile (xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!
}

let largestDb = ''
for (const n of sizes) {
  const file = path.join(dir, `synthetic-${n}.ndjson`)
  const db = path.join(dir, `bench-${n}.db`)
  if (!keep || !existsSync(file)) {
    process.stderr.write(`generating ${n} messages…\n`)
    await writeNdjson(file, n)
  }
  if (!keep || !existsSync(db)) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true })
    process.stderr.write(`importing ${n} messages…\n`)
    const out = execFileSync(process.execPath, [path.join(here, 'import-worker.js'), db, file], { encoding: 'utf8', maxBuffer: 1 << 20 })
    const r = JSON.parse(out) as { imported: number, ms: number, maxRssMb: number }
    row(`import ${n.toLocaleString('en')} messages`, `${Math.round(r.imported / (r.ms / 1000)).toLocaleString('en')} messages/s (${(r.ms / 1000).toFixed(1)} s)`, '≥ 10,000 messages/s')
    row(`import ${n.toLocaleString('en')} messages: peak RSS`, `${Math.round(r.maxRssMb)} MB`, '< 400 MB, flat as input grows')
  }
  largestDb = db
}

// Searches on the largest database, each run several times after one warm-up.
const db = openDatabase(largestDb, { readonly: true })
const search = new SearchRepository(db)
const stored = db.prepare('SELECT count(*) FROM occurrences').pluck().get() as number
const distinct = db.prepare('SELECT count(*) FROM denials').pluck().get() as number
process.stderr.write(`searching ${stored} messages (${distinct} distinct)…\n`)
const cases: Array<{ name: string, filters: DenialFilters, facets: boolean, target: string }> = [
  { name: 'condition key=value + action', filters: { condition: ['aws:Region=eu-west-1'], action: 'iam:PassRole' }, facets: false, target: 'p95 < 50 ms' },
  { name: 'principal (role glob)', filters: { principal: 'arn:aws:iam::111122223333:role/data-*' }, facets: false, target: 'p95 < 50 ms' },
  { name: 'principal (exact user ARN)', filters: { principal: 'arn:aws:iam::444455556666:user/carol' }, facets: false, target: 'p95 < 50 ms' },
  { name: 'resource prefix', filters: { resource: 'arn:aws:s3:::backups/*' }, facets: false, target: 'p95 < 50 ms' },
  { name: 'q substring', filters: { q: 'ml-training' }, facets: false, target: 'p95 < 300 ms' },
  { name: 'facets, no filter', filters: {}, facets: true, target: 'p95 < 300 ms' },
  { name: 'facets + action filter', filters: { action: 'kms:*' }, facets: true, target: 'p95 < 300 ms' }
]
for (const c of cases) {
  const times: number[] = []
  let total = 0
  for (let i = 0; i < 21; i++) {
    const t0 = process.hrtime.bigint()
    total = search.search(c.filters, { limit: 50, facets: c.facets }).total
    if (i > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  row(`search at ${stored.toLocaleString('en')}: ${c.name} (${total.toLocaleString('en')} hits)`, `median ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms`, c.target)
}
db.close()

// Reports (issue 5), when that module is present.
const reportsBench = path.join(here, 'reports.js')
if (existsSync(reportsBench)) {
  const mod = await import(reportsBench) as { benchReports: (dbPath: string) => Promise<Array<{ name: string, ms: number, rssMb: number }>> }
  for (const r of await mod.benchReports(largestDb)) {
    row(r.name, `${Math.round(r.ms)} ms, RSS ${Math.round(r.rssMb)} MB`, r.name.includes('one team') ? '< 1 s, < 400 MB' : '< 2 s, < 400 MB')
  }
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
process.stdout.write(`\nMachine: ${os.cpus().length} × ${cpu}, Node ${process.version}\n\n| measure | result | target |\n|---|---|---|\n`)
for (const [a, b, c] of rows) process.stdout.write(`| ${a} | ${b} | ${c} |\n`)
