/** Migration 0004: the string dictionary and the rollups agree with direct counts, on new databases and on migrated ones (schema 2 and 3). */
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { copyFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { readFileRecords, readTextRecords } from '../../server/ingest/index.js'
import { openDatabase, type DB } from '../../server/db/connection.js'
import { repositoriesOn } from '../../server/db/index.js'
import { Importer } from '../../server/services/importer.js'
import { generate } from '../../fixtures/generate.js'
import { tempDir } from '../helpers/build.js'

const fixtures = path.join(import.meta.dirname, 'fixtures')
type T = Test

const sorted = <R>(rows: R[]): R[] => rows.map(r => JSON.stringify(r)).sort().map(s => JSON.parse(s) as R)

/** Every rollup equals the count it stands for, computed directly from denials and occurrences. */
function checkRollups (t: T, db: DB, label: string): void {
  t.same(sorted(db.prepare('SELECT day, occurrences FROM daily_counts').all()),
    sorted(db.prepare('SELECT substr(observed_at, 1, 10) AS day, count(*) AS occurrences FROM occurrences GROUP BY 1').all()), `${label}: occurrences per day`)
  t.same(sorted(db.prepare('SELECT day, denials FROM denial_last_days').all()),
    sorted(db.prepare('SELECT substr(last_seen, 1, 10) AS day, count(*) AS denials FROM denials GROUP BY 1').all()), `${label}: denials per last day`)
  t.same(sorted(db.prepare('SELECT day, principal, account, occurrences FROM daily_principals').all()),
    sorted(db.prepare(`SELECT substr(o.observed_at, 1, 10) AS day, coalesce(d.role_arn, d.principal_arn, '') AS principal, coalesce(d.principal_account, '') AS account, count(*) AS occurrences
      FROM occurrences o JOIN denials d ON d.id = o.denial_id GROUP BY 1, 2, 3`).all()), `${label}: principals per day`)
  const facet = (name: string): unknown[] => sorted(db.prepare('SELECT key, denials FROM facet_counts WHERE facet = ?').all(name))
  t.same(facet('action'), sorted(db.prepare('SELECT lower(action) AS key, count(*) AS denials FROM denials WHERE action IS NOT NULL GROUP BY 1').all()), `${label}: action facet`)
  t.same(facet('service'), sorted(db.prepare('SELECT lower(service) AS key, count(*) AS denials FROM denials WHERE service IS NOT NULL GROUP BY 1').all()), `${label}: service facet`)
  t.same(facet('principal'), sorted(db.prepare('SELECT coalesce(role_arn, principal_arn) AS key, count(*) AS denials FROM denials WHERE key IS NOT NULL GROUP BY 1').all()), `${label}: principal facet`)
  t.same(facet('account'), sorted(db.prepare('SELECT principal_account AS key, count(*) AS denials FROM denials WHERE key IS NOT NULL GROUP BY 1').all()), `${label}: account facet`)
  t.same(facet('decision'), sorted(db.prepare('SELECT decision AS key, count(*) AS denials FROM denials GROUP BY 1').all()), `${label}: decision facet`)
  t.same(facet('conditionKey'), sorted(db.prepare('SELECT CAST(key_id AS TEXT) AS key, count(*) AS denials FROM conditions WHERE value_index = 0 GROUP BY key_id').all()), `${label}: condition key facet`)
  t.same(db.prepare('SELECT id FROM denials d WHERE occurrences <> (SELECT count(*) FROM occurrences WHERE denial_id = d.id)').all(), [], `${label}: per-denial counters`)
  // Every string is in the substring index exactly once: the index answers for each of them.
  const strings = db.prepare('SELECT count(*) FROM strings').pluck().get() as number
  t.equal(db.prepare("SELECT count(*) FROM strings_fts WHERE strings_fts MATCH 'aws'").pluck().get(), db.prepare("SELECT count(*) FROM strings WHERE value LIKE '%aws%'").pluck().get(), `${label}: vocabulary indexed`)
  t.ok(strings > 0)
  // What the dashboard shows, from the rollups (plus the partial first day of a period that starts
  // mid-day), equals the direct queries.
  const stats = repositoriesOn(db).stats
  for (const since of [null, '2000-01-01T00:00:00.000Z', '2026-10-01T00:00:00.000Z', '2026-11-10T00:00:00.000Z', '2026-11-10T13:45:12.345Z',
    '2026-11-19T00:00:00.000Z', '2026-11-19T23:59:59.999Z', '2030-01-01T06:00:00.000Z']) {
    const s = since ?? ''
    t.same(stats.totals(since), db.prepare(`SELECT (SELECT count(*) FROM denials WHERE last_seen >= @s) AS denials, (SELECT count(*) FROM occurrences WHERE observed_at >= @s) AS occurrences,
      (SELECT count(DISTINCT coalesce(role_arn, principal_arn)) FROM denials WHERE last_seen >= @s) AS principals,
      (SELECT count(DISTINCT principal_account) FROM denials WHERE last_seen >= @s) AS accounts`).get({ s }), `${label}: totals since ${since}`)
    t.same(stats.perDay(since), db.prepare('SELECT substr(observed_at, 1, 10) AS day, count(*) AS count FROM occurrences WHERE observed_at >= ? GROUP BY 1 ORDER BY 1').all(s), `${label}: per day since ${since}`)
  }
}

/** Search answers as the schema-3 queries gave them, captured on the database before it migrates. */
interface Before {
  conditions: Map<number, Array<{ key: string, value: string }>>
  q: Map<string, number[]>
  filters: Map<string, number[]>
  facets: Record<'action' | 'principal' | 'account' | 'conditionKey' | 'service' | 'decision', Array<{ value: string, count: number }>>
}

const Q = ['eu-west', 'EU-WEST-1', 'arn:aws:sts', 'assumed-role/data', 'AROA', 'ci-1', 'case-', '127.0', 'kms:dec', 'nothing-like-this', 'cc-12', '"quoted']
const FILTERS: Array<[string, string | null]> = [['aws:Region', 'eu-west-1'], ['aws:region', 'eu-west-1'], ['AWS:REGION', 'EU-WEST-1'], ['aws:Service', 'ec2'], ['aws:PrincipalTag/team', null], ['aws:SourceIp', null]]

function captureV3 (db: Database.Database): Before {
  const conditions = new Map<number, Array<{ key: string, value: string }>>()
  for (const r of db.prepare('SELECT denial_id, key, value FROM conditions ORDER BY denial_id, position').all() as Array<{ denial_id: number, key: string, value: string }>) {
    const list = conditions.get(r.denial_id) ?? []
    list.push({ key: r.key, value: r.value })
    conditions.set(r.denial_id, list)
  }
  const q = new Map(Q.map(s => [s, db.prepare('SELECT rowid FROM denials_fts WHERE denials_fts MATCH ? ORDER BY rowid').pluck().all(`"${s.replace(/"/g, '""')}"`) as number[]]))
  const filters = new Map(FILTERS.map(([k, v]) => [`${k}=${v}`, (v === null
    ? db.prepare('SELECT DISTINCT denial_id FROM conditions WHERE key = ? AND value_index = 0 ORDER BY 1').pluck().all(k)
    : db.prepare('SELECT DISTINCT denial_id FROM conditions WHERE key = ? AND value = ? ORDER BY 1').pluck().all(k, v)) as number[]]))
  const group = (expr: string): Array<{ value: string, count: number }> => db.prepare(
    `SELECT ${expr} AS value, count(*) AS count FROM denials d WHERE ${expr} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`).all() as Array<{ value: string, count: number }>
  const facets = {
    action: group('d.action'),
    principal: group('coalesce(d.role_arn, d.principal_arn)'),
    account: group('d.principal_account'),
    conditionKey: db.prepare('SELECT key AS value, count(*) AS count FROM conditions WHERE value_index = 0 GROUP BY key ORDER BY 2 DESC, 1 LIMIT 10').all() as Array<{ value: string, count: number }>,
    service: group('d.service'),
    decision: group('d.decision')
  }
  return { conditions, q, filters, facets }
}

t.test('a new database: rollups agree with direct counts through re-imports, duplicates and encoded messages', async t => {
  const db = openDatabase(path.join(tempDir(t), 'new.db'))
  t.teardown(() => db.close())
  const repos = repositoriesOn(db)
  const importer = new Importer(repos.writer, repos.imports)
  const text = [...generate(3000, { seed: 5, end: '2026-11-20T00:00:00Z', days: 40 })].join('\n')
  // Small batches: rollups are kept per batch, and a denial recurs across many of them.
  const first = await importer.run(readTextRecords(text, 'a.ndjson'), { batchSize: 97 })
  t.equal(first.imported, 3000)
  checkRollups(t, db, 'first import')
  const again = await importer.run(readTextRecords(text, 'a.ndjson'), { batchSize: 500 })
  t.same([again.imported, again.duplicates], [0, 3000], 'the same file again: only duplicates')
  checkRollups(t, db, 'after duplicates')
  await importer.run(readTextRecords(text, 'b.ndjson'), { source: 'b' })
  // No observedAt (the import time), and older than everything stored (last_seen does not move).
  const one = JSON.parse(text.split('\n')[0]!) as { DecodedMessage: string }
  await importer.run(readTextRecords(JSON.stringify({ DecodedMessage: one.DecodedMessage }) + '\n' + JSON.stringify({ DecodedMessage: one.DecodedMessage, observedAt: '2020-01-01T00:00:00Z' }), 'c.ndjson'))
  const encoded = { kind: 'record' as const, record: { source: 'decode', line: 1, index: 0, value: { DecodedMessage: one.DecodedMessage }, encodedSha256: 'ab'.repeat(32) } }
  t.equal((await importer.run([encoded])).imported, 1)
  t.equal((await importer.run([encoded])).duplicates, 1, 'an encoded message decoded again is a duplicate')
  checkRollups(t, db, 'after every kind of import')
  t.equal(db.prepare('SELECT sum(occurrences) FROM daily_counts').pluck().get(), 6003)
})

t.test('from schema 2: migrated rollups agree, and after re-importing the same files', async t => {
  const file = path.join(tempDir(t), 'v2.db')
  copyFileSync(path.join(fixtures, 'schema-v2.db'), file)
  const db = openDatabase(file)
  t.teardown(() => db.close())
  checkRollups(t, db, 'migrated from 2')
  const repos = repositoriesOn(db)
  const importer = new Importer(repos.writer, repos.imports)
  for (const name of ['lines.ndjson', 'compact.json', 'array-line.ndjson', 'pretty.json']) await importer.run(readFileRecords(path.join(fixtures, 'schema-v2', name), name))
  checkRollups(t, db, 'v2 files re-imported')
})

t.test('from schema 3 (written by the release before): conditions, q, condition filters and facets answer as before', async t => {
  const dir = tempDir(t)
  const file = path.join(dir, 'v3.db')
  copyFileSync(path.join(fixtures, 'schema-v3.db'), file)
  const old = new Database(file, { readonly: true })
  t.equal(old.pragma('user_version', { simple: true }), 3)
  const before = captureV3(old)
  const counts = old.prepare('SELECT (SELECT count(*) FROM denials) AS d, (SELECT count(*) FROM occurrences) AS o').get()
  old.close()

  const db = openDatabase(file)
  t.teardown(() => db.close())
  t.equal(db.pragma('user_version', { simple: true }), 4)
  t.same(db.prepare('SELECT (SELECT count(*) FROM denials) AS d, (SELECT count(*) FROM occurrences) AS o').get(), counts, 'nothing lost')
  t.same(db.pragma('foreign_key_check'), [], 'references intact')
  const repos = repositoriesOn(db)
  for (const [id, list] of before.conditions) {
    t.same(repos.denials.get(id)!.conditions.flatMap(c => c.values.map(value => ({ key: c.key, value }))), list, `denial ${id}: conditions as spelled, in order`)
  }
  // Keys that differ only in case are kept as spelled (the case-variants fixture).
  t.ok([...before.conditions.values()].some(l => l.some(c => c.key === 'AWS:REGION')))
  for (const [q, ids] of before.q) {
    t.same(repos.search.search({ q }, { limit: 500, facets: false }).items.map(i => i.id).sort((a, b) => a - b), ids, `q=${q}`)
  }
  for (const [f, ids] of before.filters) {
    const [k, v] = f.split('=')
    const condition = v === 'null' ? k! : `${k}=${v}`
    t.same(repos.search.search({ condition: [condition] }, { limit: 500, facets: false }).items.map(i => i.id).sort((a, b) => a - b), ids, `condition=${condition}`)
  }
  const facets = repos.search.facets({})
  // Condition keys that differ only in case are one facet value, shown in one of their spellings.
  const lowerKeys = (l: Array<{ value: string, count: number }>): unknown => l.map(f => ({ value: f.value.toLowerCase(), count: f.count }))
  t.same({ ...facets, conditionKey: lowerKeys(facets.conditionKey) }, { ...before.facets, conditionKey: lowerKeys(before.facets.conditionKey) }, 'unfiltered facets')
  checkRollups(t, db, 'migrated from 3')

  // The files it was written from, read again: nothing new; then a new one.
  const importer = new Importer(repos.writer, repos.imports)
  const synthetic = path.join(dir, 'synthetic.ndjson')
  writeFileSync(synthetic, [...generate(400, { seed: 7, days: 20, end: '2026-11-20T00:00:00Z' })].join('\n') + '\n')
  t.same((await importer.run(readFileRecords(synthetic, 'synthetic.ndjson'))).duplicates, 400, 'synthetic.ndjson again: only duplicates')
  t.same((await importer.run(readFileRecords(path.join(fixtures, 'schema-v3', 'case-variants.ndjson'), 'case-variants.ndjson'))).duplicates, 3)
  await importer.run(readFileRecords(synthetic, 'elsewhere.ndjson'))
  checkRollups(t, db, 'v3 re-imported')
})
