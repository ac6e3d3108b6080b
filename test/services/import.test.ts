import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { once } from 'node:events'
import path from 'node:path'
import { readTextRecords } from '../../server/ingest/index.js'
import { openDatabase, type DB } from '../../server/db/connection.js'
import { repositoriesOn } from '../../server/db/index.js'
import { Importer, SERVER_IMPORT_OPTIONS } from '../../server/services/importer.js'
import type { InputItem } from '../../server/authz/types.js'
import { unpackText } from '../../server/util/packed-text.js'
import { DECODED_FIXTURES, tempDir, type TapLike } from '../helpers/files.js'

const fixtureBodies = readdirSync(DECODED_FIXTURES).sort().map(f => readFileSync(path.join(DECODED_FIXTURES, f), 'utf8'))
const ndjson = fixtureBodies.map(b => JSON.stringify(JSON.parse(b))).join('\n') + '\n'

function open (t: TapLike): DB {
  const db = openDatabase(path.join(tempDir(t), 'i.db'))
  t.teardown(() => db.close())
  return db
}
/** The repositories on a test's own connection, with an importer on them (as the app decorates). */
function makeRepositories (db: DB): ReturnType<typeof repositoriesOn> & { importer: Importer } {
  const repos = repositoriesOn(db)
  return { ...repos, importer: new Importer(repos.writer, repos.imports) }
}
const count = (db: DB, table: string): number => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number

t.test('counts, then every record a duplicate on re-import', async t => {
  const db = open(t)
  const { importer } = makeRepositories(db)
  const first = await importer.run(readTextRecords(ndjson, 'batch.ndjson'))
  t.same(first, { imported: 9, duplicates: 0, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} })
  const again = await importer.run(readTextRecords(ndjson, 'batch.ndjson'))
  t.same(again, { imported: 0, duplicates: 9, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} })
  t.equal(count(db, 'denials'), 9)
  t.equal(count(db, 'occurrences'), 9)
  t.equal(count(db, 'conditions'), db.prepare('SELECT count(*) FROM conditions').pluck().get())
  // Same content from another file, or at another observedAt: a new occurrence of the same denial.
  const other = await importer.run(readTextRecords(ndjson, 'other.ndjson'))
  t.same(other, { imported: 9, duplicates: 0, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} })
  t.equal(count(db, 'denials'), 9, 'stored once')
  t.equal(count(db, 'occurrences'), 18)
  const text = JSON.parse(fixtureBodies[0]!).DecodedMessage
  const stamped = (at: string) => JSON.stringify({ DecodedMessage: text, observedAt: at, source: 'ticket-7' })
  t.same(await importer.run(readTextRecords(stamped('2026-10-01T00:00:00Z'), 'api')), { imported: 1, duplicates: 0, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} })
  t.same(await importer.run(readTextRecords(stamped('2026-10-01T00:00:00Z'), 'api')), { imported: 0, duplicates: 1, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} })
  t.same(await importer.run(readTextRecords(stamped('2026-10-02T00:00:00Z'), 'api')), { imported: 1, duplicates: 0, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} })
  // The raw JSON is stored packed (migration 0009): compared unpacked.
  db.function('unpacked', (packed: Buffer) => unpackText(packed))
  const d = db.prepare('SELECT occurrences, first_seen FROM denials d JOIN messages m ON m.denial_id = d.id WHERE unpacked(m.packed) = ?').get(text) as { occurrences: number, first_seen: string }
  t.equal(d.occurrences, 4, 'occurrence count kept in step')
  t.equal(d.first_seen, '2026-10-01T00:00:00.000Z', 'first seen from the envelope')
  t.equal(count(db, 'imports'), 6, 'each run is recorded')
})

/** Denials whose occurrences counter disagrees with their occurrence rows (none, always). */
const miscounted = (db: DB): number => db.prepare('SELECT count(*) FROM denials d WHERE d.occurrences <> (SELECT count(*) FROM occurrences o WHERE o.denial_id = d.id)').pluck().get() as number

t.test('an occurrence is a place in the input: records sharing a line count as when pretty-printed', async t => {
  const db = open(t)
  const { importer } = makeRepositories(db)
  const m = JSON.parse(fixtureBodies[0]!)
  const n = JSON.parse(fixtureBodies[1]!)
  const c = JSON.stringify(m)
  const inputs: Array<[string, string, number]> = [
    ['pretty.json', JSON.stringify([m, m, m], null, 2), 3],
    ['compact.json', JSON.stringify([m, m, m]), 3],
    ['documents.json', `${c}${c} ${c}\n`, 3],
    ['array-line.ndjson', `${JSON.stringify([m, m, m])}\n${JSON.stringify(n)}\n`, 4],
    // Documents one after another (`>>`): a pretty array, then an array and an object on one line.
    ['appended.json', `${JSON.stringify([m, m], null, 2)}\n${JSON.stringify([m])}${c}\n`, 4]
  ]
  for (const [name, body, records] of inputs) {
    t.same(await importer.run(readTextRecords(body, name)), { imported: records, duplicates: 0, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} }, `${name}: every record counted`)
    t.same(await importer.run(readTextRecords(body, name)), { imported: 0, duplicates: records, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} }, `${name}: again, only duplicates`)
  }
  const counts = db.prepare('SELECT d.occurrences FROM denials d ORDER BY d.id').pluck().all()
  t.same(counts, [16, 1], 'one denial, 16 occurrences; the other, 1')
  t.equal(miscounted(db), 0, 'denials.occurrences agrees with the rows')
  const last = JSON.stringify([m, m], null, 2).split('\n').length + 1
  t.same(db.prepare("SELECT o.line, o.item FROM occurrences o JOIN sources s ON s.id = o.source_id WHERE s.name = 'appended.json' ORDER BY o.id").all(),
    [{ line: 1, item: 0 }, { line: 1, item: 1 }, { line: last, item: 0 }, { line: last, item: 1 }], 'each document\'s elements at its first line, numbered')
})

t.test('a rejected record keeps its place: mending it later does not recount the others', async t => {
  const db = open(t)
  const { importer } = makeRepositories(db)
  const m = fixtureBodies[0]!.trim()
  const n = JSON.stringify(JSON.parse(fixtureBodies[1]!))
  const first = await importer.run(readTextRecords(`[{"foo": 1}, ${m}]`, 'f.json'))
  t.equal(first.imported, 1)
  t.equal(first.rejected.length, 1)
  t.same(await importer.run(readTextRecords(`[${n}, ${m}]`, 'f.json')), { imported: 1, duplicates: 1, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} }, 'the mended record is new, the other a duplicate')
  t.equal(miscounted(db), 0)
})

t.test('a message without an action is rejected with its line and reason; nothing is stored for it', async t => {
  const db = open(t)
  const { importer } = makeRepositories(db)
  const body = `${ndjson.split('\n')[0]}\n{"allowed":false,"explicitDeny":true,"context":{"resource":"*"}}\n`
  const s = await importer.run(readTextRecords(body, 'no-action.ndjson'))
  t.equal(s.imported, 1)
  t.same(s.rejected.map(r => r.line), [2])
  t.match(s.rejected[0]!.reason, /no action: "context.action" is missing/)
  t.equal(count(db, 'denials'), 1)
  t.equal(db.prepare('SELECT count(*) FROM denials WHERE action IS NULL').pluck().get(), 0)
})

t.test('valid records beside bad ones are kept; rejects carry source, line and reason', async t => {
  const db = open(t)
  const { importer } = makeRepositories(db)
  const lines = ndjson.trim().split('\n')
  const body = [lines[0], '{"DecodedMessage": "{\\"allowed\\":false', '{"foo": 1}', lines[1], '{"DecodedMessage": "{}"}'].join('\n')
  const s = await importer.run(readTextRecords(body, 'mixed.ndjson'))
  t.equal(s.imported, 2)
  t.same(s.rejected.map(r => [r.source, r.line]), [['mixed.ndjson', 2], ['mixed.ndjson', 3], ['mixed.ndjson', 5]])
  t.match(s.rejected[1]!.reason, /not a decoded authorization message/)
  t.equal(count(db, 'import_rejects'), 3, 'rejections kept with the import')
})

t.test('a failed write leaves no half-record: the whole batch rolls back', async t => {
  const db = open(t)
  const repos = makeRepositories(db)
  // Make the 5th new string fail, in the middle of a record (each record adds several).
  let n = 0
  const stmt = (repos.writer as unknown as { insertString: { run: (...a: unknown[]) => unknown } }).insertString
  const real = stmt.run.bind(stmt)
  stmt.run = (...a: unknown[]) => { if (++n === 5) throw new Error('disk full'); return real(...a) }
  await t.rejects(repos.importer.run(readTextRecords(ndjson, 'x')), /disk full/)
  for (const table of ['denials', 'messages', 'conditions', 'occurrences', 'statements', 'failures', 'strings', 'denial_terms', 'daily_counts', 'facet_counts']) t.equal(count(db, table), 0, `${table} empty`)
  stmt.run = real
  t.same(await repos.importer.run(readTextRecords(ndjson, 'x')), { imported: 9, duplicates: 0, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} }, 'retry completes')
  // The ids handed out by the rolled-back batch were forgotten: every reference resolves.
  t.equal(db.prepare('SELECT count(*) FROM conditions c WHERE NOT EXISTS (SELECT 1 FROM strings WHERE id = c.value_id) OR NOT EXISTS (SELECT 1 FROM strings WHERE id = c.key_sid)').pluck().get(), 0, 'conditions refer to stored strings')
  t.equal(db.prepare('SELECT count(*) FROM denial_terms t WHERE NOT EXISTS (SELECT 1 FROM strings WHERE id = t.string_id)').pluck().get(), 0, 'terms refer to stored strings')
  // And to the right ones: the conditions read back are those of the same records stored in one go.
  const clean = makeRepositories(open(t))
  await clean.importer.run(readTextRecords(ndjson, 'x'))
  const hashes = db.prepare('SELECT id, content_hash FROM denials').all() as Array<{ id: number, content_hash: string }>
  t.equal(hashes.length, 9)
  for (const h of hashes) t.same(repos.denials.get(h.id)!.conditions, clean.denials.get(clean.denials.idByHash(h.content_hash)!)!.conditions, `denial ${h.id}: its own conditions`)
})

t.test('batches commit separately; progress is reported', async t => {
  const db = open(t)
  const { importer } = makeRepositories(db)
  const seen: number[] = []
  const s = await importer.run(readTextRecords(ndjson, 'p'), { batchSize: 4, onProgress: p => seen.push(p.records) })
  t.equal(s.imported, 9)
  t.same(seen, [4, 8, 9])
})

t.test('a large import is parsed on a worker thread, stored in order, same results', async t => {
  const { generate } = await import('../../fixtures/generate.js')
  // The worker takes over after 500 records (2,000 by default): 2,500 go to it, in five chunks.
  const lines = [...generate(3000, { seed: 11 })]
  lines.splice(1500, 0, '{"not": "a message"}')
  const body = lines.join('\n') + '\n'
  const results = []
  for (const parallel of [true, false]) {
    const db = open(t)
    const { importer } = makeRepositories(db)
    const s = await importer.run(readTextRecords(body, 'big.ndjson'), { parallel, parallelAfter: 500 })
    t.equal(s.imported, 3000, `parallel=${parallel}`)
    t.same(s.rejected.map(r => r.line), [1501])
    results.push(db.prepare('SELECT d.content_hash, o.line, o.observed_at FROM occurrences o JOIN denials d ON d.id = o.denial_id ORDER BY o.id').all())
  }
  t.same(results[0], results[1], 'the worker path stores exactly what the single-thread path stores, in the same order')
})

/** Occurrences as stored, in order: what two runs must agree on. */
const stored = (db: DB): unknown[] => db.prepare('SELECT d.content_hash, o.line FROM occurrences o JOIN denials d ON d.id = o.denial_id ORDER BY o.id').all()
const importsRows = (db: DB): Array<{ imported: number, duplicates: number, rejected: number, finished: number }> =>
  db.prepare('SELECT imported, duplicates, rejected, finished_at IS NOT NULL AS finished FROM imports').all() as Array<{ imported: number, duplicates: number, rejected: number, finished: number }>

t.test('worker path: bad, deeply nested and oversized records in a large input cost only themselves', async t => {
  const { generate } = await import('../../fixtures/generate.js')
  const lines = [...generate(3000, { seed: 12 })]
  lines[2600] = '['.repeat(20_000) + ']'.repeat(20_000)
  lines[2700] = `{"DecodedMessage": ${JSON.stringify(JSON.stringify({ allowed: false, context: { deep: JSON.parse('['.repeat(100) + ']'.repeat(100)) } }))}}`
  lines[2800] = JSON.stringify({ DecodedMessage: 'x', pad: 'p'.repeat(1024 * 1024) })
  lines[2900] = '{"DecodedMessage": "{\\"allowed\\":false'
  lines[2950] = '1'
  const body = lines.join('\n') + '\n'
  const runs = []
  for (const parallel of [true, false]) {
    const db = open(t)
    const { importer } = makeRepositories(db)
    const s = await importer.run(readTextRecords(body, 'faults.ndjson'), { parallel })
    t.equal(s.imported + s.duplicates, 2995, `parallel=${parallel}: every other record stored`)
    t.same(s.rejected.map(r => [r.line, r.reason.slice(0, 40)]), [
      [2601, 'JSON nesting deeper than 64 levels'],
      [2701, 'JSON nesting deeper than 64 levels (fiel'],
      [2801, 'record is larger than the 1 MiB limit'],
      [2901, 'not valid JSON: the line ends before the'],
      [2951, 'expected a JSON object, got a number']
    ])
    t.same(importsRows(db), [{ imported: s.imported, duplicates: s.duplicates, rejected: 5, finished: 1 }])
    runs.push({ stored: stored(db), summary: s })
  }
  t.same(runs[0], runs[1], 'the worker path stores and reports exactly what the single-thread path does')
})

t.test('a record the worker cannot receive is parsed here: nothing else is lost', async t => {
  const { generate } = await import('../../fixtures/generate.js')
  const db = open(t)
  const { importer } = makeRepositories(db)
  // Built by hand, so no ingest pre-check sees it: structured clone overflows the stack on it.
  let deep: unknown = 1
  for (let i = 0; i < 20_000; i++) deep = [deep]
  const items: InputItem[] = [...generate(3000, { seed: 13 })].map((l, i) => ({ kind: 'record', record: { source: 'hand', line: i + 1, index: 0, value: i === 2600 ? { DecodedMessage: 'x', deep } : JSON.parse(l) } }))
  const s = await importer.run(items)
  t.equal(s.imported + s.duplicates, 2999)
  t.same(s.rejected.map(r => r.line), [2601])
  t.match(s.rejected[0]!.reason, /JSON nesting deeper than 64 levels/)
  t.equal(count(db, 'occurrences'), 2999)
  t.same(importsRows(db), [{ imported: s.imported, duplicates: s.duplicates, rejected: 1, finished: 1 }])
})

t.test('a worker that runs out of memory costs nothing: its chunks are parsed here, and the process lives on', async t => {
  const { generate } = await import('../../fixtures/generate.js')
  const lines = [...generate(1000, { seed: 14 })]
  // Within every input limit (under 1 MiB, 3 levels deep) but about 20 MB once parsed: the worker,
  // given the smallest heap there is, runs out on the first of them. (The worker takes over after
  // 100 records here.)
  const bulky = (l: string): string => {
    const env = JSON.parse(l)
    return JSON.stringify({ ...env, DecodedMessage: JSON.stringify({ ...JSON.parse(env.DecodedMessage), padding: Array(300_000).fill({}) }) })
  }
  for (const i of [300, 301, 302, 600, 950]) lines[i] = bulky(lines[i]!)
  t.ok(lines.every(l => Buffer.byteLength(l) < 1024 * 1024), 'every record is within the 1 MiB limit')
  const body = lines.join('\n') + '\n'
  const reference = open(t)
  const expected = await makeRepositories(reference).importer.run(readTextRecords(body, 'w.ndjson'), { parallel: false })
  const db = open(t)
  const failures: Error[] = []
  // A limit of 1 MiB is raised to MIN_WORKER_HEAP_MB: on Node 24 a worker whose heap cannot hold its
  // startup snapshot aborted the whole process (SIGILL), this test with it.
  const s = await makeRepositories(db).importer.run(readTextRecords(body, 'w.ndjson'), { workerHeapMb: 1, parallelAfter: 100, onWorkerFailure: e => failures.push(e) })
  t.equal(failures.length, 1, 'the worker failed, once')
  t.equal((failures[0] as NodeJS.ErrnoException | undefined)?.code, 'ERR_WORKER_OUT_OF_MEMORY', 'of its heap limit, reported as an error')
  t.same(s, expected, 'the same summary as on one thread')
  t.equal(s.imported + s.duplicates + s.rejectedCount, 1000)
  t.same(stored(db), stored(reference), 'the same records, in the same order')
  t.equal(importsRows(db)[0]!.finished, 1)
})

t.test('a parse worker that does not fail is not reported as failed when the import ends', async t => {
  const { generate } = await import('../../fixtures/generate.js')
  const db = open(t)
  const failures: Error[] = []
  const s = await makeRepositories(db).importer.run(readTextRecords([...generate(300, { seed: 15 })].join('\n') + '\n', 'ok.ndjson'), { parallelAfter: 10, onWorkerFailure: e => failures.push(e) })
  t.equal(s.imported + s.duplicates, 300)
  t.same(failures, [])
})

t.test('the imports row is finished also when nothing was stored, or the import failed', async t => {
  const db = open(t)
  const repos = makeRepositories(db)
  await repos.importer.run(readTextRecords('1\n2\n', 'bad'))
  t.same(importsRows(db), [{ imported: 0, duplicates: 0, rejected: 2, finished: 1 }])
  const stmt = (repos.writer as unknown as { insertString: { run: (...a: unknown[]) => unknown } }).insertString
  const real = stmt.run.bind(stmt)
  stmt.run = () => { throw new Error('disk full') }
  await t.rejects(repos.importer.run(readTextRecords(ndjson, 'x')), /disk full/)
  stmt.run = real
  t.same(importsRows(db)[1], { imported: 0, duplicates: 0, rejected: 0, finished: 1 })
})

t.test('rejections: the first 1,000 in full, every one counted, by reason; a bounded number stored', async t => {
  const { generate } = await import('../../fixtures/generate.js')
  const lines = [...generate(2000, { seed: 15 })]
  for (let i = 0; i < 5000; i++) lines.splice(i + 500, 0, i % 2 === 0 ? `{"nope": ${i}}` : JSON.stringify({ DecodedMessage: JSON.parse(fixtureBodies[0]!).DecodedMessage, observedAt: `day ${i}` }))
  const db = open(t)
  const { importer } = makeRepositories(db)
  const s = await importer.run(readTextRecords(lines.join('\n') + '\n', 'many'))
  t.equal(s.imported + s.duplicates, 2000)
  t.equal(s.rejectedCount, 5000)
  t.equal(s.rejected.length, 1000)
  t.same(s.rejected.slice(0, 2).map(r => r.line), [501, 502], 'in input order')
  t.equal(s.rejected[999]!.line, 1500)
  t.same(s.rejectedReasons, {
    'not a decoded authorization message: expected "DecodedMessage" or the keys "allowed", "explicitDeny" and "context", found {…}': 2500,
    'observedAt "…" is not an ISO-8601 date-time with a time zone (e.g. 2026-11-28T10:15:00Z) (field observedAt)': 2500
  })
  t.equal(count(db, 'import_rejects'), 1000, 'reject rows stored per import are bounded')
  t.equal(importsRows(db)[0]!.rejected, 5000, 'the imports row counts them all')
})

t.test('summaries add up without growing: SummaryBuilder and reasonCategory', async t => {
  const { SummaryBuilder, reasonCategory, MAX_REASON_CATEGORIES, OTHER_REASONS } = await import('../../server/services/importer.js')
  const b = new SummaryBuilder()
  for (let i = 0; i < 1500; i++) b.reject({ source: 's', line: i + 1, reason: `not JSON: the line starts with "${i}"` })
  const big = { imported: 3, duplicates: 1, skipped: 2, rejected: Array.from({ length: 200_000 }, (_, i) => ({ source: 't', line: i, reason: 'r' })), rejectedCount: 200_000, rejectedReasons: { r: 200_000 } }
  b.add(big)
  const s = b.summary()
  t.equal(s.imported, 3)
  t.equal(s.rejectedCount, 201_500)
  t.equal(s.rejected.length, 1000)
  t.same(s.rejectedReasons, { 'not JSON: the line starts with "…"': 1500, r: 200_000 })
  const c = new SummaryBuilder()
  for (let i = 0; i < MAX_REASON_CATEGORIES + 10; i++) c.reject({ source: 's', line: 1, reason: `reason number ${'x'.repeat(i)}` })
  c.reject({ source: 's', line: 1, reason: '__proto__' })
  const reasons = c.summary().rejectedReasons
  t.equal(Object.keys(reasons).length, MAX_REASON_CATEGORIES + 1, 'categories are bounded')
  t.equal(reasons[OTHER_REASONS], 11)
  t.equal(Object.getPrototypeOf(reasons), Object.prototype)
  t.equal(reasonCategory('not valid JSON: Unexpected token \'}\', "{"a":}" is not valid JSON'), 'not valid JSON: Unexpected token …, "…" is not valid JSON')
  t.equal(reasonCategory('not valid JSON: Expected property name or \'}\' in JSON at position 1 (line 1 column 2)'), 'not valid JSON: Expected property name or \'}\'')
  t.equal(reasonCategory('a condition needs a string "key" (field context.conditions.items[3])'), 'a condition needs a string "key" (field context.conditions.items[*])')
  t.equal(reasonCategory('contains a NUL character (field $.a.b[2])'), 'contains a NUL character (field $…)')
  t.equal(reasonCategory('x'.repeat(500)).length, 200)
})

t.test('batches are bounded by bytes as well as records: large records commit in smaller batches', async t => {
  const db = open(t)
  const { importer } = makeRepositories(db)
  const text = JSON.parse(fixtureBodies[0]!).DecodedMessage
  const pad = 'p'.repeat(100 * 1024)
  const lines = Array.from({ length: 400 }, (_, i) => JSON.stringify({ DecodedMessage: JSON.stringify({ ...JSON.parse(text), padding: pad + i }) }))
  const seen: number[] = []
  const s = await importer.run(readTextRecords(lines.join('\n'), 'big'), { onProgress: p => seen.push(p.records) })
  t.equal(s.imported, 400)
  t.ok(seen.length >= 3, `${seen.length} batches of at most 16 MiB (${seen.join(', ')})`)
})

t.test('a long import gives the event loop turns', async t => {
  const db = open(t)
  const { importer } = makeRepositories(db)
  let last = performance.now()
  let worst = 0
  let turns = 0
  const timer = setInterval(() => { const now = performance.now(); worst = Math.max(worst, now - last); last = now; turns++ }, 5)
  const started = performance.now()
  const s = await importer.run(readTextRecords('1\n'.repeat(100_000) + 'x'.repeat(100), 'flood'), SERVER_IMPORT_OPTIONS)
  const took = performance.now() - started
  clearInterval(timer)
  t.equal(s.rejectedCount, 100_001)
  // Before, the whole import ran without one turn of the loop (seconds). Counted in turns, not in
  // milliseconds, so that a loaded machine (which slows both) cannot fail it: at least one turn per
  // 100 ms of import (the importer yields every 20 ms).
  t.ok(turns >= Math.max(3, Math.floor(took / 100)), `${turns} timer turns during ${Math.round(took)} ms; longest wait ${Math.round(worst)} ms`)
})

t.test('worker path: each denial keeps the raw JSON of its first record byte for byte, packed on the worker once per denial', async t => {
  const { generate } = await import('../../fixtures/generate.js')
  const lines = [...generate(600, { seed: 21 })]
  // The same denial pretty-printed: another raw text, the same content hash, so the first one is kept.
  const first = JSON.parse(lines[0]!) as { DecodedMessage: string }
  lines.push(JSON.stringify({ ...first, DecodedMessage: JSON.stringify(JSON.parse(first.DecodedMessage), null, 2) }))
  const body = lines.join('\n') + '\n'
  const rawOf = (db: DB): unknown[] => {
    const repos = repositoriesOn(db)
    return (db.prepare('SELECT id FROM denials ORDER BY content_hash').pluck().all() as number[]).map(id => [repos.denials.get(id)!.contentHash, repos.denials.get(id)!.raw])
  }
  const reference = open(t)
  await makeRepositories(reference).importer.run(readTextRecords(body, 'p.ndjson'), { parallel: false })
  const db = open(t)
  await makeRepositories(db).importer.run(readTextRecords(body, 'p.ndjson'), { parallelAfter: 10 })
  t.equal(db.prepare("SELECT count(*) FROM messages WHERE raw <> '' OR packed IS NULL").pluck().get(), 0, 'every message packed')
  t.same(rawOf(db), rawOf(reference), 'the same raw JSON as parsed on one thread')
  t.ok((rawOf(db) as Array<[string, string]>).some(([, raw]) => raw === first.DecodedMessage), 'the compact first spelling kept')

  // The worker itself: a recurring denial's message is packed at its first record only.
  const { Worker } = await import('node:worker_threads')
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
  const worker = new Worker(new URL(`../../server/services/parse-worker${ext}`, import.meta.url))
  t.teardown(() => worker.terminate())
  const records = lines.slice(0, 200).map((l, i) => ({ value: JSON.parse(l) as unknown, source: 'p', line: i + 1 }))
  records.push({ ...records[0]!, line: 201 })
  worker.postMessage({ id: 1, records, source: undefined })
  const [answer] = await once(worker, 'message') as [{ results: Array<{ message: { contentHash: string, raw: string, packed?: string, rawLength?: number } } | { known: { contentHash: string }, rawLength: number }> }]
  const seen = new Set<string>()
  let packed = 0
  let known = 0
  for (const [i, r] of answer.results.entries()) {
    const input = (records[i]!.value as { DecodedMessage: string }).DecodedMessage
    if ('known' in r) {
      // The same text as a record before: answered with its content hash, nothing to pack.
      known++
      t.ok(seen.has(r.known.contentHash), 'known: a denial read before')
      t.equal(r.rawLength, input.length, 'with the length of its text')
      continue
    }
    const isNew = !seen.has(r.message.contentHash)
    seen.add(r.message.contentHash)
    t.equal(r.message.packed !== undefined, isNew, `packed ${isNew ? 'at the first record' : 'never again'}`)
    if (r.message.packed !== undefined) {
      packed++
      t.equal(unpackText(Buffer.from(r.message.packed, 'latin1')), input, 'the packed text is the record\'s raw JSON')
      t.same([r.message.raw, r.message.rawLength], ['', input.length], 'sent packed only, with its length')
    } else {
      t.equal(r.message.raw, input, 'sent as it is')
    }
  }
  t.equal(packed, seen.size)
  t.ok(seen.size < answer.results.length, 'the input has recurring denials')
  t.ok(known > 0 && known <= answer.results.length - seen.size, `${known} records answered as known`)
})

/**
 * What an import leaves, as rows: denials with their counters, occurrences with their places, and every
 * rollup. A record without observedAt is observed at the import's time, which differs between two runs:
 * times after the generator's last day read "import time".
 */
function contents (db: DB): Record<string, unknown[]> {
  const q = (sql: string): unknown[] => db.prepare(sql).all()
  const time = (col: string): string => `CASE WHEN ${col} >= '2026-11-29' THEN 'import time' ELSE ${col} END`
  return {
    denials: q(`SELECT content_hash, occurrences, first_seen, ${time('last_seen')} AS last_seen, principal_arn, role_arn, principal_account FROM denials ORDER BY content_hash`),
    occurrences: q(`SELECT d.content_hash, s.name, o.line, o.item, ${time('o.observed_at')} AS observed_at, o.stamped_ms FROM occurrences o JOIN denials d ON d.id = o.denial_id JOIN sources s ON s.id = o.source_id ORDER BY o.id`),
    daily_counts: q('SELECT * FROM daily_counts ORDER BY day'),
    daily_principals: q('SELECT * FROM daily_principals ORDER BY day, principal, account'),
    denial_last_days: q('SELECT * FROM denial_last_days ORDER BY day'),
    facet_counts: q('SELECT * FROM facet_counts ORDER BY facet, key'),
    imports: q('SELECT imported, duplicates, rejected, skipped FROM imports')
  }
}

t.test('worker path: a message read before word for word is answered as known, and stores exactly what one thread stores', async t => {
  const { generate } = await import('../../fixtures/generate.js')
  const lines = [...generate(2000, { seed: 23 })]
  const first = JSON.parse(lines[0]!) as { DecodedMessage: string, observedAt: string }
  // Known texts in envelopes that differ: each must come out as parsing it in full would.
  lines.push(
    JSON.stringify({ ...first, observedAt: 'yesterday' }), // rejected: the envelope's own field
    JSON.stringify({ ...first, note: 'a NUL \u0000 here' }), // rejected: checked as a whole record
    JSON.stringify({ ...first, source: 'from-the-envelope' }), // the envelope names its source
    JSON.stringify({ ...first, source: 7 }), // rejected
    JSON.stringify({ DecodedMessage: first.DecodedMessage }), // the AWS CLI's output: no time, no source
    JSON.stringify({ ...first, observedAt: '2026-11-01T10:00:00+02:00' }) // another instant, as UTC
  )
  // A text with U+FFFD, twice (known the second time), then the same text with an unpaired surrogate
  // there instead: its UTF-8 bytes, and so its hash, are the same, but it must be rejected.
  const decoded = JSON.parse(first.DecodedMessage) as { context: { resource: string } }
  decoded.context.resource += '-\uFFFD'
  const replaced = JSON.stringify(decoded)
  lines.push(JSON.stringify({ ...first, DecodedMessage: replaced }), JSON.stringify({ ...first, DecodedMessage: replaced }),
    JSON.stringify({ ...first, DecodedMessage: replaced.replace('\uFFFD', '\uD800') }))
  const body = lines.join('\n') + '\n'
  for (const source of [undefined, 'label']) {
    const runs: Array<{ summary: unknown, contents: Record<string, unknown[]> }> = []
    let knownRecords = 0
    for (const parallel of [false, true]) {
      const db = open(t)
      const repos = makeRepositories(db)
      const storeBatch = repos.writer.storeBatch.bind(repos.writer)
      repos.writer.storeBatch = (records, ...rest) => {
        knownRecords += records.filter(r => 'known' in r).length
        return storeBatch(records, ...rest)
      }
      const s = await repos.importer.run(readTextRecords(body, 'k.ndjson'), { parallel, parallelAfter: 10, batchSize: 300, source })
      t.equal(s.imported + s.duplicates, 2005, `parallel=${parallel}: all but the three bad envelopes and the unpaired surrogate`)
      t.same(s.rejected.map(r => [r.line, r.reason.slice(0, 40)]), [[2001, 'observedAt "yesterday" is not an ISO-860'], [2002, 'contains a NUL character (field $.note)'], [2004, 'source must be a string (field source)'], [2009, 'contains invalid Unicode (an unpaired su']])
      runs.push({ summary: s, contents: contents(db) })
    }
    t.ok(knownRecords > 1000, `source=${source}: ${knownRecords} records reached the writer as known`)
    t.same(runs[1], runs[0], `source=${source}: the same summary, rows and rollups as on one thread`)
    const places = runs[1]!.contents.occurrences as Array<{ name: string, line: number, observed_at: string }>
    const at = (line: number): { name: string, observed_at: string } | undefined => places.find(o => o.line === line)
    t.equal(at(2003)?.name, source ?? 'from-the-envelope', 'the source: --source, else the envelope\'s')
    t.equal(at(2006)?.observed_at, '2026-11-01T08:00:00.000Z', 'observedAt read from its own envelope')
  }
})

t.test('worker path: a known message whose denial went in the meantime is read in full and stored again', async t => {
  const { generate } = await import('../../fixtures/generate.js')
  const lines = [...generate(1500, { seed: 24 })]
  const hot = (JSON.parse(lines[0]!) as { DecodedMessage: string }).DecodedMessage
  const later = lines.slice(1000).filter(l => (JSON.parse(l) as { DecodedMessage: string }).DecodedMessage === hot).length
  t.ok(later > 3, `the first record's message recurs ${later} times after line 1000`)
  const db = open(t)
  const repos = makeRepositories(db)
  const storeBatch = repos.writer.storeBatch.bind(repos.writer)
  let deleted = false
  let knownAfter = 0
  repos.writer.storeBatch = (records, ...rest) => {
    const out = storeBatch(records, ...rest)
    if (deleted) knownAfter += records.filter(r => 'known' in r && r.line > 1000).length
    // After the batch that ends at line 1000: another process deletes the hot denial.
    if (!deleted && records.some(r => r.line === 1000)) {
      db.prepare('DELETE FROM denials WHERE id = (SELECT denial_id FROM occurrences WHERE line = 1)').run()
      deleted = true
    }
    return out
  }
  const s = await repos.importer.run(readTextRecords(lines.join('\n') + '\n', 'gone.ndjson'), { parallelAfter: 10, batchSize: 250 })
  t.ok(deleted)
  t.ok(knownAfter > 0, `${knownAfter} known records after the deletion`)
  t.equal(s.imported, 1500)
  const stored = db.prepare('SELECT d.id, d.occurrences, count(o.id) AS n FROM denials d JOIN occurrences o ON o.denial_id = d.id GROUP BY d.id').all() as Array<{ id: number, occurrences: number, n: number }>
  t.ok(stored.every(d => d.occurrences === d.n), 'every denial counts exactly its occurrences')
  const hotNow = (db.prepare('SELECT id FROM denials').pluck().all() as number[]).map(id => repositoriesOn(db).denials.get(id)!).filter(d => d.raw === hot)
  t.equal(hotNow.length, 1, 'the hot denial is stored again, with its text')
  t.equal(hotNow[0]!.occurrences, later, 'counting only its records after the deletion')
})

t.test('worker path: batches are sized by the raw text, also when the worker sends it packed only', async t => {
  const { generate } = await import('../../fixtures/generate.js')
  const lines = [...generate(600, { seed: 22 })]
  const db = open(t)
  const repos = makeRepositories(db)
  const sizes: number[] = []
  const storeBatch = repos.writer.storeBatch.bind(repos.writer)
  repos.writer.storeBatch = (records, ...rest) => {
    sizes.push(records.reduce((n, r) => n + ('known' in r ? r.rawLength : r.message.rawLength ?? r.message.raw.length), 0))
    return storeBatch(records, ...rest)
  }
  const s = await repos.importer.run(readTextRecords(lines.join('\n') + '\n', 'b.ndjson'), { parallelAfter: 10, batchBytes: 50_000 })
  t.equal(s.imported + s.duplicates, 600)
  const biggest = Math.max(...lines.map(l => (JSON.parse(l) as { DecodedMessage: string }).DecodedMessage.length))
  t.ok(sizes.length > 10, `${sizes.length} batches`)
  t.ok(sizes.every(n => n < 50_000 + biggest), 'none holds more than 50,000 characters of raw text and one record')
  t.equal(db.prepare("SELECT count(*) FROM messages WHERE raw = '' AND packed IS NOT NULL").pluck().get(), db.prepare('SELECT count(*) FROM denials').pluck().get(), 'every message stored packed')
})
