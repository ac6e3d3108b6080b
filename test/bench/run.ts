/**
 * `npm run bench`: import speed beside the reference pipeline, searches, pages and reports at scale.
 * A benchmark, not a test: it prints a table to paste into README.
 *
 *   npm run bench [-- --only import-100k,pages] [--keep] [--pages-messages N] [--pages-end YYYY-MM-DD] [--list]
 *
 * Parts (all by default, in this order): import-100k, import-distinct-100k, import-1m,
 * import-distinct-1m (each: our import, then the reference pipeline of ../shared/bench on the same
 * file, back to back, then our schema's floor: the rows our import stored, written again by SQL and
 * from JavaScript with nothing else to do, see schema-floor.ts), pages (every page and JSON endpoint on a database of ~1M denials / 4M
 * occurrences), search, reports (both on that database). Data goes to ./bench-data (git-ignored);
 * --keep reuses generated files and the pages database.
 */
import { execFileSync } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs'
import { once } from 'node:events'
import path from 'node:path'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { generate, type GenerateOptions } from '../../fixtures/generate.js'
import { openDatabase } from '../../server/db/connection.js'
import { SearchRepository, type DenialFilters } from '../../server/db/repositories/search.js'
import { FLOOR_MODES, type FloorMode, type FloorResult } from './schema-floor.js'

const PARTS = ['import-100k', 'import-distinct-100k', 'import-1m', 'import-distinct-1m', 'pages', 'search', 'reports'] as const
type Part = (typeof PARTS)[number]
// strict: an unknown option (--help, a typo) stops here instead of starting a 40-minute run.
const { values: flags } = (() => {
  try {
    return parseArgs({ options: { only: { type: 'string' }, keep: { type: 'boolean' }, list: { type: 'boolean' }, 'pages-messages': { type: 'string' }, 'pages-end': { type: 'string' } }, strict: true, allowPositionals: false })
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nusage: npm run bench [-- --only ${PARTS.join(',')}] [--keep] [--pages-messages N] [--pages-end YYYY-MM-DD] [--list]\n`)
    process.exit(2)
  }
})()
if (flags.list === true) { process.stdout.write(PARTS.join('\n') + '\n'); process.exit(0) }
const only = flags.only?.split(',') ?? [...PARTS]
for (const o of only) if (!(PARTS as readonly string[]).includes(o)) throw new Error(`unknown part ${o}: one of ${PARTS.join(', ')}`)
const wants = (p: Part): boolean => only.includes(p)
const keep = flags.keep === true
const dir = path.resolve('bench-data')
mkdirSync(dir, { recursive: true })
const here = path.dirname(new URL(import.meta.url).pathname)
/** The reference pipeline (issue 10), run from the project root so that it loads our better-sqlite3. */
const REFERENCE = path.resolve('../shared/bench/limit.mjs')

const rows: Array<[string, string, string]> = []
const row = (what: string, value: string, target: string): void => {
  rows.push([what, value, target])
  process.stderr.write(`${what}: ${value} (target ${target})\n`)
}
const fmt = (n: number): string => Math.round(n).toLocaleString('en')

async function writeNdjson (file: string, n: number, opts: GenerateOptions): Promise<void> {
  if (keep && existsSync(file)) return
  process.stderr.write(`generating ${file}…\n`)
  const out = createWriteStream(file)
  let buf = ''
  for (const line of generate(n, { seed: 42, ...opts })) {
    buf += line + '\n'
    if (buf.length > 1 << 20) { if (!out.write(buf)) await once(out, 'drain'); buf = '' }
  }
  out.end(buf)
  await once(out, 'finish')
}

function removeDb (db: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true })
}

function percentile (xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!
}

interface OurImport { imported: number, ms: number, maxRssMb: number, denials: number, dbBytes: number }
/** `curveEvery`: also print the import's progress every that many records (see import-worker.ts). */
function ourImport (db: string, file: string, curveEvery = 0): OurImport {
  removeDb(db)
  const env = curveEvery > 0 ? { ...process.env, WHYDENIED_BENCH_CURVE: String(curveEvery) } : process.env
  const out = execFileSync(process.execPath, [path.join(here, 'import-worker.js'), db, file], { encoding: 'utf8', maxBuffer: 1 << 20, env })
  return JSON.parse(out) as OurImport
}

interface RefImport { messages: number, seconds: number, msgs_per_s: number, db_bytes: number, db_bytes_per_msg: number, maxRssMb: number }
function referenceImport (db: string, file: string): RefImport | null {
  if (!existsSync(REFERENCE)) return null
  removeDb(db)
  // Through a wrapper that reports the process's peak RSS (the reference prints none).
  const out = execFileSync(process.execPath, [path.join(here, 'reference-rss.js'), REFERENCE, file, db, '--mode=index', '--workers=1', '--batch=100000', '--json'],
    { encoding: 'utf8', maxBuffer: 1 << 20 })
  const lines = out.trim().split('\n')
  const r = JSON.parse(lines[lines.length - 2]!) as RefImport
  r.maxRssMb = (JSON.parse(lines[lines.length - 1]!) as { maxRssMb: number }).maxRssMb
  return r
}

const FLOOR_LABELS: Record<FloorMode, string> = { sql: 'SQL copy', 'sql-nofk': 'SQL copy without foreign keys', bound: 'rows bound from JavaScript' }
/** The rows of our import `db`, written again into `floorDb` (see schema-floor.ts), in a process of its own. */
function schemaFloor (db: string, floorDb: string, mode: FloorMode): FloorResult {
  removeDb(floorDb)
  const out = execFileSync(process.execPath, [path.join(here, 'schema-floor.js'), db, floorDb, mode], { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (!keep) removeDb(floorDb)
  return JSON.parse(out) as FloorResult
}

/** Ours, then the reference, on the same file, back to back: the ratio is what the targets are about. */
async function importPart (n: number, mode: 'skewed' | 'distinct'): Promise<void> {
  const file = path.join(dir, `${mode}-${n}.ndjson`)
  await writeNdjson(file, n, { mode })
  const label = `import ${fmt(n)} ${mode === 'skewed' ? 'skewed (generator, 25% distinct)' : 'distinct-heavy'}`
  process.stderr.write(`${label}: ours…\n`)
  const oursDb = path.join(dir, `ours-${mode}-${n}.db`)
  const ours = ourImport(oursDb, file)
  process.stderr.write(`${label}: reference…\n`)
  const ref = referenceImport(path.join(dir, `ref-${mode}-${n}.db`), file)
  const rate = ours.imported / (ours.ms / 1000)
  const rateTarget = mode === 'distinct' ? (n >= 1_000_000 ? ', ≥ 10,000 msg/s' : ', ≥ 12,000 msg/s') : ''
  if (ref === null) {
    row(`${label}: messages/s`, `${fmt(rate)} (${(ours.ms / 1000).toFixed(1)} s); reference absent (../shared/bench missing)`, `≥ 0.9 × reference${rateTarget}`)
  } else {
    row(`${label}: messages/s`, `ours ${fmt(rate)} (${(ours.ms / 1000).toFixed(1)} s), reference ${fmt(ref.msgs_per_s)} (${ref.seconds.toFixed(1)} s): ratio ${(rate / ref.msgs_per_s).toFixed(2)}`, `≥ 0.9 × reference${rateTarget}`)
  }
  // Per distinct denial for both: the same file holds the same distinct denials (the reference
  // stores a row per line, so on the skewed file its own per-row figure would flatter it).
  const perDenial = (bytes: number): string => fmt(bytes / Math.max(1, ours.denials))
  row(`${label}: DB bytes per distinct denial (${fmt(ours.denials)} denials)`,
    `ours ${perDenial(ours.dbBytes)} (${(ours.dbBytes / 1e6).toFixed(0)} MB)` +
    (ref ? `, reference ${perDenial(ref.db_bytes)} (${(ref.db_bytes / 1e6).toFixed(0)} MB): ratio ${(ours.dbBytes / ref.db_bytes).toFixed(2)}` : ''),
    '≤ reference')
  // Our schema's floor (schema-floor.ts): the rows this import stored, written again three ways.
  const floors = FLOOR_MODES.map(m => ({ m, ...schemaFloor(oursDb, path.join(dir, `floor-${mode}-${n}.db`), m) }))
  const floorText = floors.map(f => {
    const rate = f.denials === ours.denials ? ours.imported / (f.ms / 1000) : NaN
    return `${FLOOR_LABELS[f.m]} ${fmt(rate)} messages/s (${(f.ms / 1000).toFixed(1)} s${ref ? `, ratio ${(rate / ref.msgs_per_s).toFixed(2)}` : ''})`
  }).join('; ')
  const sql = floors[0]!.steps
  row(`${label}: our schema's floor (the stored rows written again in key order: no parsing, no lookups)`,
    `${floorText}; of the SQL copy: denials ${(sql.denials! / 1000).toFixed(1)} s, conditions ${(sql.conditions! / 1000).toFixed(1)} s, strings ${(sql.strings! / 1000).toFixed(1)} s, substring index ${(sql.strings_fts! / 1000).toFixed(1)} s`,
    ref ? `0.9 × reference needs the whole import in ≤ ${(ref.seconds / 0.9).toFixed(1)} s` : '')
  row(`${label}: peak RSS`, `ours ${fmt(ours.maxRssMb)} MB${ref ? `, reference ${fmt(ref.maxRssMb)} MB` : ''}`, '< 400 MB, flat as input grows')
}

if (wants('import-100k')) await importPart(100_000, 'skewed')
if (wants('import-distinct-100k')) await importPart(100_000, 'distinct')
if (wants('import-1m')) await importPart(1_000_000, 'skewed')
if (wants('import-distinct-1m')) await importPart(1_000_000, 'distinct')

// The database for pages, searches and reports: ~1M denials, 4M occurrences (a distinct ratio of
// 0.3 under the generator's skew leaves about a million distinct messages), ending today so the
// dashboard's periods cover it.
const PAGES_N = Number(flags['pages-messages'] ?? 4_000_000)
// --pages-end: the last day of that history (default today); with --keep it reuses a database made on
// an earlier day (reports use that day; the dashboard's periods still end today).
const pagesEnd = flags['pages-end'] ?? new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000).toISOString().slice(0, 10)
if (!/^\d{4}-\d{2}-\d{2}$/.test(pagesEnd)) throw new Error(`--pages-end ${pagesEnd}: give a date, YYYY-MM-DD`)
const pagesFile = path.join(dir, `pages-${PAGES_N}-${pagesEnd}.ndjson`)
const pagesDb = path.join(dir, `pages-${PAGES_N}-${pagesEnd}.db`)
if (wants('pages') || wants('search') || wants('reports')) {
  if (!keep || !existsSync(pagesDb)) {
    await writeNdjson(pagesFile, PAGES_N, { distinctRatio: 0.3, end: `${pagesEnd}T00:00:00Z`, days: 120 })
    process.stderr.write(`importing ${fmt(PAGES_N)} messages for the page benchmark…\n`)
    // Its progress every tenth: where a long import slows down.
    const r = ourImport(pagesDb, pagesFile, Math.ceil(PAGES_N / 10))
    row(`import ${fmt(PAGES_N)} skewed (pages database)`, `${fmt(r.imported / (r.ms / 1000))} messages/s (${(r.ms / 1000).toFixed(0)} s), ${fmt(r.denials)} denials, ${(r.dbBytes / 1e6).toFixed(0)} MB, peak RSS ${fmt(r.maxRssMb)} MB`, '')
  }
}

if (wants('pages')) {
  const out = execFileSync(process.execPath, [path.join(here, 'pages.js'), pagesDb, pagesEnd], { encoding: 'utf8', maxBuffer: 1 << 20 })
  const res = JSON.parse(out) as { denials: number, occurrences: number, results: Array<{ name: string, median: number, p95: number, target: number }> }
  for (const r of res.results) {
    row(`page at ${fmt(res.denials)} denials / ${fmt(res.occurrences)} occurrences: ${r.name}`, `median ${r.median.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms`, `p95 < ${r.target} ms`)
  }
}

if (wants('search')) {
  // Searches through the repository, each run several times after one warm-up.
  const db = openDatabase(pagesDb, { readonly: true })
  const stored = db.prepare('SELECT count(*) FROM occurrences').pluck().get() as number
  const cases: Array<{ name: string, filters: DenialFilters, facets: boolean, target: string }> = [
    { name: 'condition key=value + action', filters: { condition: ['aws:Region=eu-west-1'], action: 'iam:PassRole' }, facets: false, target: 'p95 < 50 ms' },
    // A key without a value: its index went in migration 0010 (the server decides it from the facet columns).
    { name: 'condition key alone', filters: { condition: ['aws:SourceIp'] }, facets: false, target: 'p95 < 200 ms' },
    { name: 'condition key + action', filters: { condition: ['aws:SourceIp'], action: 'iam:PassRole' }, facets: false, target: 'p95 < 50 ms' },
    { name: 'principal (role glob)', filters: { principal: 'arn:aws:iam::111122223333:role/data-*' }, facets: false, target: 'p95 < 50 ms' },
    { name: 'principal (exact user ARN)', filters: { principal: 'arn:aws:iam::444455556666:user/carol' }, facets: false, target: 'p95 < 50 ms' },
    { name: 'resource prefix', filters: { resource: 'arn:aws:s3:::backups/*' }, facets: false, target: 'p95 < 50 ms' },
    { name: 'q substring', filters: { q: 'ml-training' }, facets: false, target: 'p95 < 300 ms' },
    { name: 'facets, no filter', filters: {}, facets: true, target: 'p95 < 200 ms' },
    { name: 'facets + action filter', filters: { action: 'kms:*' }, facets: true, target: 'p95 < 200 ms' },
    { name: 'facets + service + decision (facet clicks)', filters: { service: 's3', decision: 'implicit-deny' }, facets: true, target: 'p95 < 200 ms' }
  ]
  // As the CLI searches (one-shot: matching rows read), and as the server does (the facet columns
  // in memory, loaded before timing: the server loads them in the background when it starts).
  for (const facetColumns of [false, true]) {
    const search = new SearchRepository(db, { facetColumns })
    const t0 = performance.now()
    search.search({ decision: 'explicit-deny' })
    if (facetColumns) row(`search at ${fmt(stored)}: server, loading the facet columns (first filtered search)`, `${(performance.now() - t0).toFixed(0)} ms`, '')
    for (const c of cases) {
      const times: number[] = []
      let total = 0
      for (let i = 0; i < 21; i++) {
        const t0 = process.hrtime.bigint()
        total = search.search(c.filters, { limit: 50, facets: c.facets }).total
        if (i > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e6)
      }
      row(`search at ${fmt(stored)}, ${facetColumns ? 'server' : 'CLI'}: ${c.name} (${fmt(total)} hits)`, `median ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms`, c.target)
    }
  }
  db.close()
}

if (wants('reports')) {
  const mod = await import(path.join(here, 'reports.js')) as { benchReports: (dbPath: string, until: string) => Promise<Array<{ name: string, ms: number, rssMb: number }>> }
  for (const r of await mod.benchReports(pagesDb, pagesEnd)) {
    row(r.name, `${Math.round(r.ms)} ms, RSS ${Math.round(r.rssMb)} MB`, r.name.includes('one team') ? '< 1 s, < 400 MB' : '< 2 s, < 400 MB')
  }
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
process.stdout.write(`\nMachine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z; load average at the end ${os.loadavg().map(l => l.toFixed(1)).join(' ')}\n\n| measure | result | target |\n|---|---|---|\n`)
for (const [a, b, c] of rows) process.stdout.write(`| ${a} | ${b} | ${c} |\n`)
if (existsSync(pagesDb)) process.stderr.write(`pages database: ${pagesDb} (${(statSync(pagesDb).size / 1e6).toFixed(0)} MB)\n`)
