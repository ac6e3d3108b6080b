/** Migration 0007: the string dictionary and the rollups agree with direct counts, on new databases (decoded, text and CloudTrail imports, decoding later) and on migrated ones (schema 2, 3 and 5). */
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { createHash } from 'node:crypto'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { expandPath, readFileRecords, readTextRecords } from '../../server/ingest/index.js'
import type { InputItem } from '../../server/authz/types.js'
import { createStsClient } from '../../server/decode/client.js'
import { openDatabase, type DB } from '../../server/db/connection.js'
import { SCHEMA_VERSION } from '../../server/db/migrate.js'
import { repositoriesOn } from '../../server/db/index.js'
import { Importer } from '../../server/services/importer.js'
import { decodePending } from '../../server/services/pending.js'
import { TokenCodec } from '../../server/sts/token.js'
import { generate } from '../../fixtures/generate.js'
import { DECODED_FIXTURES, tempDir } from '../helpers/files.js'
import { CLOUDTRAIL_FIXTURES, TEST_STS_SECRET, TEXT_FIXTURES, writeCloudTrailTree } from '../helpers/cloudtrail.js'

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
  t.same(facet('kind'), sorted(db.prepare('SELECT kind AS key, count(*) AS denials FROM denials GROUP BY 1').all()), `${label}: kind facet`)
  t.same(facet('policyType'), sorted(db.prepare('SELECT policy_type AS key, count(*) AS denials FROM denials WHERE policy_type IS NOT NULL GROUP BY 1').all()), `${label}: policy type facet`)
  t.same(facet('conditionKey'), sorted(db.prepare('SELECT CAST(key_id AS TEXT) AS key, count(*) AS denials FROM conditions WHERE value_index = 0 GROUP BY key_id').all()), `${label}: condition key facet`)
  t.same(db.prepare('SELECT id FROM denials d WHERE occurrences <> (SELECT count(*) FROM occurrences WHERE denial_id = d.id)').all(), [], `${label}: per-denial counters`)
  // search's time window relies on it (search.ts buildWhere).
  t.same(db.prepare(`SELECT id FROM denials d WHERE occurrences > 0 AND (first_seen <> (SELECT min(observed_at) FROM occurrences WHERE denial_id = d.id)
    OR last_seen <> (SELECT max(observed_at) FROM occurrences WHERE denial_id = d.id))`).all(), [], `${label}: first and last seen are the first and last occurrence`)
  t.equal(db.prepare('SELECT count(*) FROM facet_counts WHERE denials <= 0').pluck().get(), 0, `${label}: no facet value counted down to nothing`)
  // The unfiltered facets the list shows (from facet_counts) are those a GROUP BY gives.
  const facets = repositoriesOn(db).search.facets({})
  const group = (expr: string): unknown => db.prepare(`SELECT ${expr} AS value, count(*) AS count FROM denials d WHERE ${expr} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`).all()
  t.same(facets.kind, group('d.kind'), `${label}: kind facet as listed`)
  t.same(facets.policyType, group('d.policy_type'), `${label}: policy type facet as listed`)
  t.same(facets.decision, group('d.decision'), `${label}: decision facet as listed`)
  t.same(facets.account, group('d.principal_account'), `${label}: account facet as listed`)
  // Every term of every denial is where q finds it, and no term is left of a deleted denial.
  t.equal(db.prepare('SELECT count(*) FROM denial_terms t WHERE NOT EXISTS (SELECT 1 FROM denials WHERE id = t.denial_id)').pluck().get(), 0, `${label}: no terms of deleted denials`)
  t.equal(db.prepare(`SELECT count(*) FROM denials d, strings s WHERE s.value IN (d.principal_arn, d.principal_id, d.principal_name, d.role_arn, d.action COLLATE BINARY, d.action_raw, d.resource)
    AND NOT EXISTS (SELECT 1 FROM denial_terms t WHERE t.string_id = s.id AND t.denial_id = d.id)`).pluck().get(), 0, `${label}: every term of every denial`)
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

/** A copy of fixture database `name` at schema `version`, and a read-only look at it before it migrates. */
function oldCopy (t: Test, name: string, version: number): { dir: string, file: string, old: Database.Database } {
  const dir = tempDir(t)
  const file = path.join(dir, name)
  copyFileSync(path.join(fixtures, name), file)
  const old = new Database(file, { readonly: true })
  t.equal(old.pragma('user_version', { simple: true }), version)
  return { dir, file, old }
}

t.test('from schema 3 (written by the release before): conditions, q, condition filters and facets answer as before', async t => {
  const { dir, file, old } = oldCopy(t, 'schema-v3.db', 3)
  const before = captureV3(old)
  const counts = old.prepare('SELECT (SELECT count(*) FROM denials) AS d, (SELECT count(*) FROM occurrences) AS o').get()
  old.close()

  const db = openDatabase(file)
  t.teardown(() => db.close())
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION, 'through 0004, 0005 and 0007')
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
  // Every denial of schema 3 was decoded (0005's default kind), none names a policy type.
  const all = (counts as { d: number }).d
  t.same({ ...facets, conditionKey: lowerKeys(facets.conditionKey) },
    { ...before.facets, conditionKey: lowerKeys(before.facets.conditionKey), kind: [{ value: 'decoded', count: all }], policyType: [] }, 'unfiltered facets')
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

async function * files (paths: string[]): AsyncGenerator<InputItem> {
  for (const p of paths) for (const f of await expandPath(p)) yield * readFileRecords(f)
}

const decodedOf = (fixture: string): string => (JSON.parse(readFileSync(path.join(DECODED_FIXTURES, fixture), 'utf8')) as { DecodedMessage: string }).DecodedMessage
// decode --pending below answers from the token cache only: a call to this endpoint would fail the run.
const noSts = createStsClient({ kind: 'endpoint', endpoint: 'http://127.0.0.1:9/sts' })
const countOf = (db: DB, sql: string): number => db.prepare(sql).pluck().get() as number

t.test('text denials and CloudTrail events: rollups agree through imports, decoding later, and a decoded message that claims its event', async t => {
  const dir = tempDir(t)
  const db = openDatabase(path.join(dir, 'ct.db'))
  t.teardown(() => db.close())
  const repos = repositoriesOn(db)
  const importer = new Importer(repos.writer, repos.imports)
  const tree = writeCloudTrailTree(path.join(dir, 'logs'))
  await importer.run(files([tree.root]), { batchSize: 3 })
  await importer.run(files([path.join(TEXT_FIXTURES, 'messages.log'), path.join(CLOUDTRAIL_FIXTURES, 'lookup-events.json'), path.join(CLOUDTRAIL_FIXTURES, 'lake-export.ndjson')]), { batchSize: 5 })
  await importer.run(readTextRecords([...generate(200, { seed: 3, end: '2026-11-29T00:00:00Z', days: 5 })].join('\n'), 'g.ndjson'))
  checkRollups(t, db, 'text and CloudTrail imported')
  const text = (): number => countOf(db, "SELECT count(*) FROM denials WHERE kind = 'text'")
  const textBefore = text()
  t.ok(textBefore > 5 && countOf(db, 'SELECT count(*) FROM denials WHERE policy_type IS NOT NULL') > 5, 'text denials, with policy types')
  t.equal(countOf(db, "SELECT count(*) FROM events WHERE token_state = 'pending'"), 2)

  // A decoded message whose encoded message an event recorded (decode --store): the event's occurrence moves to it.
  const sha = createHash('sha256').update(tree.tokens.region).digest('hex')
  const claimed = await importer.run([{ kind: 'record', record: { source: 'decode', line: 1, index: 0, value: { DecodedMessage: decodedOf('region-explicit-deny.json') }, encodedSha256: sha } }])
  t.equal(claimed.imported, 1)
  t.equal(countOf(db, "SELECT count(*) FROM events WHERE token_state = 'pending'"), 1)
  checkRollups(t, db, 'a decoded message claimed its event')

  // decode --pending (the message from the token cache): the other event's occurrence moves.
  repos.events.cache(tree.tokens.run, decodedOf('assumed-role-runinstances.json'))
  t.match(await decodePending(repos.events, repos.writer, noSts, 'STS'), { decoded: 1, fromCache: 1, remaining: 0, error: null })
  checkRollups(t, db, 'after decode --pending')
  t.equal(text(), textBefore - 2, 'the two text denials left without an occurrence are gone')
  t.equal(countOf(db, "SELECT count(*) FROM facet_counts WHERE facet = 'kind' AND key = 'text'"), 1)

  // The same files again: only duplicates, nothing counted twice.
  await importer.run(files([tree.root, path.join(TEXT_FIXTURES, 'messages.log')]))
  checkRollups(t, db, 'files imported again')
})

t.test('an event decoded to a denial that already holds its place: the occurrence is dropped and counted once', async t => {
  const db = openDatabase(path.join(tempDir(t), 'drop.db'))
  t.teardown(() => db.close())
  const repos = repositoriesOn(db)
  const importer = new Importer(repos.writer, repos.imports)
  const token = 'AbCd0001'.repeat(20)
  const eventTime = '2026-11-28T10:01:00Z'
  const decoded = JSON.stringify({ allowed: false, explicitDeny: false, context: { action: 'ec2:RunInstances', resource: 'arn:aws:ec2:us-east-1:111122223333:instance/i-1', principal: { arn: 'arn:aws:iam::111122223333:user/bob' } } })
  const event = JSON.stringify({
    eventVersion: '1.11',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    eventID: 'ev-1',
    eventTime,
    awsRegion: 'us-east-1',
    errorCode: 'Client.UnauthorizedOperation',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob' },
    errorMessage: `You are not authorized to perform this operation. Encoded authorization failure message: ${token}`
  })
  await importer.run(readTextRecords(event + '\n', 'ct.ndjson'))
  // The decoded message, stored at the event's place in the same file, with the event's time.
  await importer.run([{ kind: 'record', record: { source: 'ct.ndjson', line: 1, index: 0, value: { DecodedMessage: decoded, observedAt: eventTime } } }])
  t.equal(countOf(db, 'SELECT count(*) FROM occurrences'), 2)
  checkRollups(t, db, 'before decoding')
  repos.events.cache(token, decoded)
  t.match(await decodePending(repos.events, repos.writer, noSts, 'STS'), { decoded: 1, remaining: 0, error: null })
  t.equal(countOf(db, 'SELECT count(*) FROM occurrences'), 1, 'the event\'s occurrence was the decoded one\'s')
  t.equal(countOf(db, "SELECT count(*) FROM denials WHERE kind = 'text'"), 0)
  checkRollups(t, db, 'after decoding')
})

t.test('from schema 5 (before 0006 and 0007): text denials, events, token cache and policy snapshots intact; search and rollups agree; decoding still works', async t => {
  const { file, old } = oldCopy(t, 'schema-v5-events.db', 5)
  const tables = ['denials', 'occurrences', 'events', 'token_cache', 'policy_snapshots', 'snapshot_policies', 'messages', 'statements', 'failures', 'sources', 'imports', 'encoded_messages']
  const dump = (d: Database.Database): Record<string, unknown[]> => Object.fromEntries(tables.map(n => [n, d.prepare(`SELECT * FROM ${n} ORDER BY 1`).all()]))
  const before = dump(old)
  const conditions = new Map<number, Array<{ key: string, value: string }>>()
  for (const r of old.prepare('SELECT denial_id, key, value FROM conditions ORDER BY denial_id, position').all() as Array<{ denial_id: number, key: string, value: string }>) {
    conditions.set(r.denial_id, [...(conditions.get(r.denial_id) ?? []), { key: r.key, value: r.value }])
  }
  const queries = ['mary', 'team-logs', 'codecommit', 'RunInstances', 'eu-west-1', '203.0.113', 'aws-cli/2', 'service/api']
  const q = new Map(queries.map(s => [s, old.prepare('SELECT rowid FROM denials_fts WHERE denials_fts MATCH ? ORDER BY rowid').pluck().all(`"${s}"`) as number[]]))
  const pending = old.prepare("SELECT token FROM events WHERE token_state = 'pending'").pluck().all() as string[]
  old.close()
  t.equal(pending.length, 2, 'two events wait to be decoded, one of them already in the token cache')
  t.ok((before.events!.length) > 5 && (before.token_cache!.length) === 1 && (before.snapshot_policies!.length) > 3, 'the fixture holds events, a cached decoding and a snapshot')

  const db = openDatabase(file)
  t.teardown(() => db.close())
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION)
  // 0006 adds imports.skipped (null: not counted then); everything else is as it was.
  const after = dump(db)
  t.same(after.imports!.map(r => (r as { skipped: unknown }).skipped), before.imports!.map(() => null))
  after.imports = after.imports!.map(r => { const { skipped, ...rest } = r as Record<string, unknown>; return rest })
  // 0009 adds messages.packed: null for the rows stored before, whose text stays in raw.
  t.same(after.messages!.map(r => (r as { packed: unknown }).packed), before.messages!.map(() => null))
  after.messages = after.messages!.map(r => { const { packed, ...rest } = r as Record<string, unknown>; return rest })
  t.same(after, before, 'every row of every table kept')
  t.same(db.pragma('foreign_key_check'), [], 'references intact')
  const repos = repositoriesOn(db)
  for (const [id, list] of conditions) t.same(repos.denials.get(id)!.conditions.flatMap(c => c.values.map(value => ({ key: c.key, value }))), list, `denial ${id}: conditions`)
  for (const [s, ids] of q) {
    t.ok(ids.length > 0, `q=${s} found something before`)
    t.same(repos.search.search({ q: s }, { limit: 500, facets: false }).items.map(i => i.id).sort((a, b) => a - b), ids, `q=${s}`)
  }
  const ids = (sql: string): number[] => db.prepare(sql).pluck().all() as number[]
  const found = (f: Parameters<typeof repos.search.search>[0]): number[] => repos.search.search(f, { limit: 500, facets: false }).items.map(i => i.id).sort((a, b) => a - b)
  t.same(found({ kind: 'text' }), ids("SELECT id FROM denials WHERE kind = 'text' ORDER BY id"), 'kind filter')
  t.same(found({ policyType: 'scp' }), ids("SELECT id FROM denials WHERE policy_type = 'scp' ORDER BY id"), 'policy type filter')
  // A text denial's page: its events, one still waiting to be decoded.
  const withPending = ids("SELECT o.denial_id FROM events e JOIN occurrences o ON o.id = e.occurrence_id WHERE e.token_state = 'pending' ORDER BY 1")
  t.equal(withPending.length, 2)
  for (const id of withPending) t.match(repos.denials.get(id), { kind: 'text', encodedMessage: 'pending', events: [{ encodedMessage: 'pending' }] }, `text denial ${id}: pending`)
  t.ok(repos.policies, 'policies repository opens')
  checkRollups(t, db, 'migrated from 5')

  // The waiting messages decoded after the migration (from the cache): their text denials go, their terms with them.
  const codec = new TokenCodec(TEST_STS_SECRET)
  for (const token of pending) if (repos.events.cached(token) === undefined) repos.events.cache(token, codec.open(token).decoded)
  t.match(await decodePending(repos.events, repos.writer, noSts, 'STS'), { decoded: 2, fromCache: 2, remaining: 0, error: null })
  for (const id of withPending) t.equal(repos.denials.get(id), undefined, `text denial ${id}, left without an occurrence, is gone`)
  checkRollups(t, db, 'decoded after migrating from 5')
})

t.test('a period that starts mid-day: principals and accounts seen only on its first day count when seen after its start', async t => {
  // The totals read the first day's (principal, account) pairs from its rollup and look up only those
  // that no later day has: each case below is such a pair.
  const db = openDatabase(path.join(tempDir(t), 'first-day.db'))
  t.teardown(() => { db.close() })
  const repos = repositoriesOn(db)
  const base = JSON.parse([...generate(1, { seed: 3 })][0]!) as { DecodedMessage: string }
  // The account is the ARN's.
  const message = (arn: string | null, action: string, observedAt: string): string => {
    const m = JSON.parse(base.DecodedMessage) as { context: { principal: Record<string, string>, action: string } }
    m.context.principal = arn === null ? {} : { arn }
    m.context.action = action
    return JSON.stringify({ DecodedMessage: JSON.stringify(m), observedAt })
  }
  const user = (name: string, account = '111122223333'): string => `arn:aws:iam::${account}:user/${name}`
  const lines = [
    message(user('before'), 's3:GetObject', '2026-11-10T09:00:00.000Z'), // before the start: left out
    message(user('after', '444455556666'), 's3:GetObject', '2026-11-10T15:00:00.000Z'), // after it: counted, with its account
    message(user('late'), 's3:GetObject', '2026-11-10T16:00:00.000Z'), // also on a later day
    message(user('late'), 's3:PutObject', '2026-11-11T08:00:00.000Z'),
    // One denial seen before the start and again on a later day: its pair is a later day's.
    message(user('twice', '777788889999'), 'kms:Decrypt', '2026-11-10T08:00:00.000Z'),
    message(user('twice', '777788889999'), 'kms:Decrypt', '2026-11-12T08:00:00.000Z'),
    // A principal seen after the start through one denial, and before it through another.
    message(user('mixed'), 'ec2:RunInstances', '2026-11-10T07:00:00.000Z'),
    message(user('mixed'), 'ec2:StopInstances', '2026-11-10T20:00:00.000Z'),
    message(null, 'sts:AssumeRole', '2026-11-10T21:00:00.000Z') // no principal at all
  ]
  await new Importer(repos.writer, repos.imports).run(readTextRecords(lines.join('\n'), 'first-day.ndjson'))
  checkRollups(t, db, 'first-day pairs')
  const direct = (s: string): unknown => db.prepare(`SELECT count(DISTINCT coalesce(role_arn, principal_arn)) AS principals, count(DISTINCT principal_account) AS accounts
    FROM denials WHERE last_seen >= ?`).get(s)
  for (const since of ['2026-11-10T12:00:00.000Z', '2026-11-10T15:30:00.000Z', '2026-11-10T20:30:00.000Z', '2026-11-10T06:00:00.000Z']) {
    const { principals, accounts } = repos.stats.totals(since)
    t.same({ principals, accounts }, direct(since), `since ${since}`)
  }
  const { principals, accounts } = repos.stats.totals('2026-11-10T12:00:00.000Z')
  t.same({ principals, accounts }, { principals: 4, accounts: 3 }, 'after, late, twice and mixed; their three accounts')
})
