import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { readTextRecords } from '../../server/authz/ingest.js'
import { openDatabase, type DB } from '../../server/db/connection.js'
import { repositoriesOn } from '../../server/db/index.js'
import { Importer } from '../../server/services/importer.js'
import { DECODED_FIXTURES, tempDir, type TapLike } from '../helpers/build.js'

const fixtureBodies = readdirSync(DECODED_FIXTURES).sort().map(f => readFileSync(path.join(DECODED_FIXTURES, f), 'utf8'))
const ndjson = fixtureBodies.map(b => JSON.stringify(JSON.parse(b))).join('\n') + '\n'

function open (t: TapLike): DB {
  const db = openDatabase(path.join(tempDir(t), 'i.db'))
  t.teardown(() => db.close())
  return db
}
const importerOn = (db: DB): Importer => { const repos = repositoriesOn(db); return new Importer(repos.writer, repos.imports) }
const count = (db: DB, table: string): number => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number

t.test('counts, then every record a duplicate on re-import', async t => {
  const db = open(t)
  const importer = importerOn(db)
  const first = await importer.run(readTextRecords(ndjson, 'batch.ndjson'))
  t.same(first, { imported: 9, duplicates: 0, rejected: [] })
  const again = await importer.run(readTextRecords(ndjson, 'batch.ndjson'))
  t.same(again, { imported: 0, duplicates: 9, rejected: [] })
  t.equal(count(db, 'denials'), 9)
  t.equal(count(db, 'occurrences'), 9)
  t.equal(count(db, 'conditions'), db.prepare('SELECT count(*) FROM conditions').pluck().get())
  // Same content from another file, or at another observedAt: a new occurrence of the same denial.
  const other = await importer.run(readTextRecords(ndjson, 'other.ndjson'))
  t.same(other, { imported: 9, duplicates: 0, rejected: [] })
  t.equal(count(db, 'denials'), 9, 'stored once')
  t.equal(count(db, 'occurrences'), 18)
  const text = JSON.parse(fixtureBodies[0]!).DecodedMessage
  const stamped = (at: string) => JSON.stringify({ DecodedMessage: text, observedAt: at, source: 'ticket-7' })
  t.same(await importer.run(readTextRecords(stamped('2026-10-01T00:00:00Z'), 'api')), { imported: 1, duplicates: 0, rejected: [] })
  t.same(await importer.run(readTextRecords(stamped('2026-10-01T00:00:00Z'), 'api')), { imported: 0, duplicates: 1, rejected: [] })
  t.same(await importer.run(readTextRecords(stamped('2026-10-02T00:00:00Z'), 'api')), { imported: 1, duplicates: 0, rejected: [] })
  const d = db.prepare('SELECT occurrences, first_seen FROM denials d JOIN messages m ON m.denial_id = d.id WHERE m.raw = ?').get(text) as { occurrences: number, first_seen: string }
  t.equal(d.occurrences, 4, 'occurrence count kept in step')
  t.equal(d.first_seen, '2026-10-01T00:00:00.000Z', 'first seen from the envelope')
  t.equal(count(db, 'imports'), 6, 'each run is recorded')
})

/** Denials whose occurrences counter disagrees with their occurrence rows (none, always). */
const miscounted = (db: DB): number => db.prepare('SELECT count(*) FROM denials d WHERE d.occurrences <> (SELECT count(*) FROM occurrences o WHERE o.denial_id = d.id)').pluck().get() as number

t.test('an occurrence is a place in the input: records sharing a line count as when pretty-printed', async t => {
  const db = open(t)
  const importer = importerOn(db)
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
    t.same(await importer.run(readTextRecords(body, name)), { imported: records, duplicates: 0, rejected: [] }, `${name}: every record counted`)
    t.same(await importer.run(readTextRecords(body, name)), { imported: 0, duplicates: records, rejected: [] }, `${name}: again, only duplicates`)
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
  const importer = importerOn(db)
  const m = fixtureBodies[0]!.trim()
  const n = JSON.stringify(JSON.parse(fixtureBodies[1]!))
  const first = await importer.run(readTextRecords(`[{"foo": 1}, ${m}]`, 'f.json'))
  t.equal(first.imported, 1)
  t.equal(first.rejected.length, 1)
  t.same(await importer.run(readTextRecords(`[${n}, ${m}]`, 'f.json')), { imported: 1, duplicates: 1, rejected: [] }, 'the mended record is new, the other a duplicate')
  t.equal(miscounted(db), 0)
})

t.test('a message without an action is rejected with its line and reason; nothing is stored for it', async t => {
  const db = open(t)
  const importer = importerOn(db)
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
  const importer = importerOn(db)
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
  const repos = repositoriesOn(db)
  const importer = new Importer(repos.writer, repos.imports)
  // Make the 5th condition insert fail, in the middle of a record.
  let n = 0
  const stmt = (repos.writer as unknown as { insertCondition: { run: (...a: unknown[]) => unknown } }).insertCondition
  const real = stmt.run.bind(stmt)
  stmt.run = (...a: unknown[]) => { if (++n === 5) throw new Error('disk full'); return real(...a) }
  await t.rejects(importer.run(readTextRecords(ndjson, 'x')), /disk full/)
  for (const table of ['denials', 'messages', 'conditions', 'occurrences', 'statements', 'failures']) t.equal(count(db, table), 0, `${table} empty`)
  stmt.run = real
  t.same(await importer.run(readTextRecords(ndjson, 'x')), { imported: 9, duplicates: 0, rejected: [] }, 'retry completes')
})

t.test('batches commit separately; progress is reported', async t => {
  const db = open(t)
  const importer = importerOn(db)
  const seen: number[] = []
  const s = await importer.run(readTextRecords(ndjson, 'p'), { batchSize: 4, onProgress: p => seen.push(p.records) })
  t.equal(s.imported, 9)
  t.same(seen, [4, 8, 9])
})

t.test('a large import is parsed on a worker thread, stored in order, same results', async t => {
  const { generate } = await import('../../fixtures/generate.js')
  const lines = [...generate(6000, { seed: 11 })]
  lines.splice(3000, 0, '{"not": "a message"}')
  const body = lines.join('\n') + '\n'
  const results = []
  for (const parallel of [true, false]) {
    const db = open(t)
    const importer = importerOn(db)
    const s = await importer.run(readTextRecords(body, 'big.ndjson'), { parallel })
    t.equal(s.imported, 6000, `parallel=${parallel}`)
    t.same(s.rejected.map(r => r.line), [3001])
    results.push(db.prepare('SELECT d.content_hash, o.line, o.observed_at FROM occurrences o JOIN denials d ON d.id = o.denial_id ORDER BY o.id').all())
  }
  t.same(results[0], results[1], 'the worker path stores exactly what the single-thread path stores, in the same order')
})
