/** The server's in-memory facet columns give the same totals and facets as reading the matching rows, as denials are added, deleted and their ids reused. */
import t, { type Test } from 'tap'
import path from 'node:path'
import { openDatabase, type DB } from '../../server/db/connection.js'
import { repositoriesOn } from '../../server/db/index.js'
import { FacetColumns } from '../../server/db/repositories/facet-columns.js'
import { buildWhere, type DenialFilters } from '../../server/db/repositories/search.js'
import { tempDir } from '../helpers/files.js'
import { importGenerated } from '../helpers/generated-store.js'

const FILTERS: Array<[string, DenialFilters]> = [
  ['action glob', { action: 'kms:*' }],
  ['action exact, other case', { action: 'S3:GETOBJECT' }],
  ['service', { service: 's3' }],
  ['service + decision', { service: 'ec2', decision: 'explicit-deny' }],
  ['principal glob', { principal: 'arn:aws:iam::111122223333:role/data-*' }],
  ['account', { account: '444455556666' }],
  ['condition key', { condition: ['aws:SourceIp'] }],
  ['condition key=value', { condition: ['aws:Region=eu-west-1'] }],
  ['q substring', { q: 'ml-training' }],
  ['q short', { q: 'ec' }],
  ['since', { since: '2026-11-10T00:00:00.000Z' }],
  ['since + until', { since: '2026-11-01T00:00:00.000Z', until: '2026-11-05T00:00:00.000Z' }],
  ['nothing matches', { action: 'nosuch:Thing' }],
  // Decided in memory: the same answers as SQL's NOCASE, LIKE and = for every shape of pattern.
  ['action glob, other case', { action: 'KMS:*' }],
  ['action ? wildcard', { action: 'kms:?ecrypt' }],
  ['action inner glob', { action: 'ec2:*Instances' }],
  ['action star', { action: '*' }],
  ['action with LIKE and regex characters', { action: '%_.(x)[a]\\*+$^|{1}/-' }],
  ['action, non-ASCII case is not folded', { action: 'ÉC2:*' }],
  ['service, other case', { service: 'S3' }],
  ['account + kind', { account: '111122223333', kind: 'decoded' }],
  ['policy type', { policyType: 'scp' }],
  ['columns and SQL together', { service: 'iam', condition: ['aws:SourceIp'], since: '2026-11-01T00:00:00.000Z' }],
  ['columns and q', { decision: 'explicit-deny', q: 'data' }],
  ['q and a window (q through SQL)', { q: 'data', since: '2026-11-10T00:00:00.000Z' }],
  ['q with FTS5 syntax and quotes', { q: 'role" OR "x*' }],
  ['columns and principal glob', { action: 'iam:*', principal: 'arn:aws:iam::*:role/data-*' }],
  ['principal, exact user', { principal: 'arn:aws:iam::444455556666:user/carol' }],
  ['principal, exact role (its sessions too)', { principal: 'arn:aws:iam::111122223333:role/data-etl' }],
  ['principal, other case (GLOB is case-sensitive)', { principal: 'ARN:aws:iam::*:role/data-*' }],
  ['principal ? and regex characters', { principal: 'arn:aws:iam::11112222333?:role/(data)-[x]*' }],
  ['principal ?', { principal: 'arn:aws:iam::11112222333?:role/data-*' }],
  ['principal, sessions by glob', { principal: 'arn:aws:sts::*:assumed-role/*' }],
  // Few candidates from memory, SQL checks them; many, SQL's matches checked in memory.
  ['principal + condition + since (few candidates)', { condition: ['aws:Region=eu-west-1'], principal: 'arn:aws:iam::111122223333:role/data-*', since: '2026-11-01T00:00:00.000Z' }],
  ['decision + since (many candidates)', { decision: 'implicit-deny', since: '2026-11-01T00:00:00.000Z' }],
  ['service + q + window', { service: 's3', q: 'analytics', since: '2026-10-20T00:00:00.000Z', until: '2026-11-15T00:00:00.000Z' }],
  ['everything but unfiltered', { decision: 'implicit-deny' }],
  // A condition key without a value, decided in memory from key_ids (migration 0010 dropped its index).
  ['condition key, other case', { condition: ['AWS:SOURCEIP'] }],
  ['condition key, spaces around', { condition: ['  aws:SourceIp '] }],
  ['condition key not stored', { condition: ['aws:NoSuchKey'] }],
  ['two condition keys', { condition: ['aws:SourceIp', 'aws:Region'] }],
  ['condition key and key=value', { condition: ['aws:SourceIp', 'aws:Region=eu-west-1'] }],
  ['condition key and q', { condition: ['aws:Region'], q: 'data' }],
  ['condition key and an open window', { condition: ['aws:SourceIp'], since: '2026-11-10T00:00:00.000Z' }],
  ['condition key, key=value, action glob and a closed window (many candidates)', { condition: ['aws:Region', 'aws:Region=eu-west-1'], action: '*', since: '2026-11-01T00:00:00.000Z', until: '2026-11-15T00:00:00.000Z' }],
  ['condition key and principal glob (few candidates)', { condition: ['aws:SourceIp'], principal: 'arn:aws:iam::111122223333:role/data-*' }],
  // Condition filters read as id lists (alone, or intersected with the columns' candidates).
  ['condition + action', { condition: ['aws:Region=eu-west-1'], action: 'iam:PassRole' }],
  ['two conditions + service', { condition: ['aws:Region=eu-west-1', 'aws:SourceIp'], service: 'iam' }],
  ['two conditions, one key in other case', { condition: ['AWS:REGION=eu-west-1', 'aws:SourceIp'] }],
  ['the same condition twice + decision', { condition: ['aws:SourceIp', 'aws:SourceIp'], decision: 'implicit-deny' }],
  ['condition with no such value + account', { condition: ['aws:Region=nowhere-1'], account: '111122223333' }],
  ['condition with no such key', { condition: ['nosuch:Key'] }],
  ['condition value with SQL and LIKE characters', { condition: ["aws:Region=x' OR 1=1 --%_"] }],
  ['condition key with an empty value', { condition: ['aws:Region='] }],
  ['condition + action + since', { condition: ['aws:SourceIp'], action: 'iam:*', since: '2026-11-10T00:00:00.000Z' }],
  ['principal glob + since', { principal: 'arn:aws:iam::111122223333:role/data-*', since: '2026-11-10T00:00:00.000Z' }],
  ['action + since after the last occurrence', { action: 'kms:*', since: '2030-01-01T00:00:00.000Z' }],
  ['decision + since before the first occurrence', { decision: 'explicit-deny', since: '2000-01-01T00:00:00.000Z' }],
  ['action + since + until (a closed window stays SQL)', { action: 's3:*', since: '2026-11-01T00:00:00.000Z', until: '2026-11-12T00:00:00.000Z' }]
]

/** What SQL alone gives: the total, and the first page's ids newest first. */
function bySql (db: DB, f: DenialFilters): { total: number, ids: number[] } {
  const w = buildWhere(f)
  return {
    total: db.prepare(`SELECT count(*) FROM denials d WHERE ${w.sql}`).pluck().get(...w.params) as number,
    ids: db.prepare(`SELECT d.id FROM denials d WHERE ${w.sql} ORDER BY d.last_seen DESC, d.id DESC LIMIT 50`).pluck().all(...w.params) as number[]
  }
}

/** The same search through the columns and through a pass over the matching rows: same total, same facets. */
function agree (t: Test, db: DB, label: string): void {
  const withColumns = repositoriesOn(db, { facetColumns: true }).search
  // Condition filters and open windows read as id lists whatever the number of candidates (on a large database, from 2,000).
  const conditionLists = repositoriesOn(db, { facetColumns: true, idListsAbove: 0 }).search
  const onePass = repositoriesOn(db).search
  const notHeld = repositoriesOn(db, { facetColumns: true, heldKeyValues: 0 }).search
  for (const [name, f] of [...FILTERS, ['no filter', {}] as [string, DenialFilters]]) {
    const a = withColumns.search(f, { facetLimit: 1000 })
    const b = onePass.search(f, { facetLimit: 1000 })
    const c = conditionLists.search(f, { facetLimit: 1000 })
    const sql = bySql(db, f)
    t.equal(b.total, sql.total, `${label}, ${name}: total ${b.total}, as SQL counts`)
    t.same(b.items.map(i => i.id), sql.ids, `${label}, ${name}: first page, as SQL sorts`)
    t.equal(a.total, b.total, `${label}, ${name}: total ${b.total}`)
    t.same(a.facets, b.facets, `${label}, ${name}: facets`)
    t.same(a.items, b.items, `${label}, ${name}: items`)
    t.same(c, a, `${label}, ${name}: conditions and window as id lists`)
    // A condition key's values under the filters (the list's drill-down), as a GROUP BY counts them:
    // held in memory (the server), not held (too many values), and read by SQL (the CLI).
    for (const key of ['aws:SourceIp', 'aws:Region']) {
      const expected = valuesBySql(db, f, key)
      t.same(withColumns.conditionValues(f, key, 50), expected, `${label}, ${name}: ${key} values (held)`)
      t.same(notHeld.conditionValues(f, key, 50), expected, `${label}, ${name}: ${key} values (not held)`)
      t.same(onePass.conditionValues(f, key, 50), expected, `${label}, ${name}: ${key} values (one pass)`)
    }
  }
}

/** The list's drill-down as a GROUP BY over the matching denials: each value's denials, most first, ties by value. */
function valuesBySql (db: DB, f: DenialFilters, key: string, limit = 50): unknown[] {
  const w = buildWhere(f)
  return db.prepare(`SELECT s.value AS value, count(DISTINCT c.denial_id) AS count FROM conditions c JOIN strings s ON s.id = c.value_id
    WHERE c.key_id = (SELECT id FROM condition_keys WHERE key = ?) AND c.denial_id IN (SELECT d.id FROM denials d WHERE ${w.sql})
    GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?`).all(key, ...w.params, limit)
}

/** `n` generated messages over the 40 days before 2026-11-20. */
async function importSeeded (db: DB, n: number, seed: number, source: string): Promise<void> {
  await importGenerated(db, n, { seed, end: '2026-11-20T00:00:00Z', days: 40 }, source)
}

t.test('filtered facets from the columns equal those read from the rows', async t => {
  const db = openDatabase(path.join(tempDir(t), 'facets.db'))
  t.teardown(() => { db.close() })
  await importSeeded(db, 4000, 11, 'a.ndjson')
  t.ok((db.prepare('SELECT count(*) FROM denials').pluck().get() as number) > 500, 'a few hundred denials')
  agree(t, db, 'first import')
  // One repository across imports: its columns load only the new denials, and agree again.
  const kept = repositoriesOn(db, { facetColumns: true }).search
  const before = kept.search({ service: 's3' }).total
  await importSeeded(db, 3000, 12, 'b.ndjson')
  const after = kept.search({ service: 's3' }, { facetLimit: 1000 })
  const direct = repositoriesOn(db).search.search({ service: 's3' }, { facetLimit: 1000 })
  t.ok(after.total > before, 'the later import is counted')
  t.equal(after.total, direct.total)
  t.same(after.facets, direct.facets, 'a kept repository loads what was added since')
  agree(t, db, 'second import')
})

t.test('a repository\'s first search, on conditions alone, counts the facets of every denial it finds', async t => {
  // Each search is the repository's first: the columns must be loaded whichever path finds the ids.
  const db = openDatabase(path.join(tempDir(t), 'first.db'))
  t.teardown(() => { db.close() })
  await importSeeded(db, 500, 13, 'a.ndjson')
  for (const f of [{ condition: ['aws:SourceIp'] }, { condition: ['aws:Region=eu-west-1'] }, { q: 'data' }, { since: '2026-11-10T00:00:00.000Z' }]) {
    const first = repositoriesOn(db, { facetColumns: true }).search.search(f, { facetLimit: 1000 })
    t.same(first.facets, repositoriesOn(db).search.search(f, { facetLimit: 1000 }).facets, JSON.stringify(f))
    t.ok(first.total > 0 && first.facets!.decision.length > 0, 'facets counted')
  }
  // A kept repository, after a later import: the new denials are counted too.
  const kept = repositoriesOn(db, { facetColumns: true }).search
  kept.search({ condition: ['aws:SourceIp'] })
  await importSeeded(db, 500, 14, 'b.ndjson')
  const f = { condition: ['aws:SourceIp'] }
  t.same(kept.search(f, { facetLimit: 1000 }).facets, repositoriesOn(db).search.search(f, { facetLimit: 1000 }).facets, 'after a later import')
})

t.test('a deleted denial whose id is reused is counted under its new values', async t => {
  const db = openDatabase(path.join(tempDir(t), 'reuse.db'))
  t.teardown(() => { db.close() })
  await importSeeded(db, 600, 21, 'a.ndjson')
  const search = repositoriesOn(db, { facetColumns: true }).search
  const max = db.prepare('SELECT max(id) FROM denials').pluck().get() as number
  const first = search.search({ decision: 'implicit-deny' }, { facetLimit: 1000 })
  t.ok(first.total > 0)
  // The newest denial goes (as a decoded placeholder does), and a different one takes its id.
  const row = db.prepare('SELECT * FROM denials WHERE id = ?').get(max) as Record<string, unknown>
  db.prepare('DELETE FROM occurrences WHERE denial_id = ?').run(max)
  db.prepare('DELETE FROM conditions WHERE denial_id = ?').run(max)
  db.prepare('DELETE FROM denial_terms WHERE denial_id = ?').run(max)
  db.prepare('DELETE FROM statements WHERE denial_id = ?').run(max)
  db.prepare('DELETE FROM messages WHERE denial_id = ?').run(max)
  db.prepare('DELETE FROM denials WHERE id = ?').run(max)
  t.equal(db.prepare("SELECT n FROM counters WHERE name = 'denials_deleted'").pluck().get(), 1, 'the trigger counts the deletion')
  const reused = Number(db.prepare(`INSERT INTO denials (content_hash, decision, principal_arn, principal_account, action, service, kind, key_ids, first_seen, last_seen, created_at)
    VALUES ('reused', 'implicit-deny', 'arn:aws:iam::999999999999:user/new', '999999999999', 'brandnew:Action', 'brandnew', ?, '', '2026-11-19T00:00:00Z', '2026-11-19T00:00:00Z', '2026-11-19T00:00:00Z')`)
    .run(row.kind).lastInsertRowid)
  t.equal(reused, max, 'SQLite hands the id out again')
  const again = search.search({ decision: 'implicit-deny' }, { facetLimit: 1000 })
  const direct = repositoriesOn(db).search.search({ decision: 'implicit-deny' }, { facetLimit: 1000 })
  t.same(again.facets, direct.facets, 'counted under the new denial\'s values, not the deleted one\'s')
  t.ok(again.facets!.service.some(v => v.value === 'brandnew'), 'the new service is a facet value')
  t.ok(again.facets!.account.some(v => v.value === '999999999999'))
  // Its keys too: the reused id holds none, whatever the deleted denial held.
  for (const condition of [['aws:Region'], ['aws:SourceIp']]) {
    t.same(search.search({ condition }, { facetLimit: 1000 }), repositoriesOn(db).search.search({ condition }, { facetLimit: 1000 }), `${condition[0]!} after the id was reused`)
  }
})

t.test('the columns count what a GROUP BY counts, and load only what was added', async t => {
  const db = openDatabase(path.join(tempDir(t), 'direct.db'))
  t.teardown(() => { db.close() })
  await importSeeded(db, 800, 31, 'a.ndjson')
  const columns = new FacetColumns(db)
  columns.refresh()
  const check = (label: string): void => {
    const ids = db.prepare("SELECT id FROM denials WHERE service = 'kms' OR decision = 'explicit-deny'").pluck().all() as number[]
    const counts = columns.count(ids)
    const group = (expr: string): Map<string, number> => new Map(db.prepare(`SELECT ${expr}, count(*) FROM denials WHERE (service = 'kms' OR decision = 'explicit-deny') AND ${expr} IS NOT NULL GROUP BY 1`).raw().all() as Array<[string, number]>)
    t.same(counts.facets.action, group('action'), `${label}: action`)
    t.same(counts.facets.principal, group('coalesce(role_arn, principal_arn)'), `${label}: principal`)
    t.same(counts.facets.service, group('service'), `${label}: service`)
    t.same(counts.facets.decision, group('decision'), `${label}: decision`)
    t.same(counts.keys, new Map(db.prepare("SELECT key_id, count(*) FROM conditions WHERE value_index = 0 AND denial_id IN (SELECT id FROM denials WHERE service = 'kms' OR decision = 'explicit-deny') GROUP BY 1").raw().all() as Array<[number, number]>), `${label}: condition keys`)
    // The denials holding a key (or two), as the conditions table says.
    const keyIds = db.prepare('SELECT id FROM condition_keys ORDER BY id').pluck().all() as number[]
    t.ok(keyIds.length > 2)
    const holding = (k: number): number[] => db.prepare('SELECT DISTINCT denial_id FROM conditions WHERE key_id = ? ORDER BY 1').pluck().all(k) as number[]
    for (const k of keyIds) t.same(columns.matchIds([], [k]), holding(k), `${label}: denials holding key ${k}`)
    const both = holding(keyIds[0]!).filter(id => holding(keyIds[1]!).includes(id))
    t.same(columns.matchIds([], [keyIds[0]!, keyIds[1]!]), both, `${label}: denials holding two keys`)
    t.same(columns.filterIds(ids, [], [keyIds[1]!]), ids.filter(id => holding(keyIds[1]!).includes(id)), `${label}: ids filtered by a key`)
    t.same(columns.matchIds([], [-1]), [], `${label}: a key not stored holds nothing`)
  }
  check('loaded')
  const loaded = db.prepare('SELECT max(id) FROM denials').pluck().get() as number
  await importSeeded(db, 800, 32, 'b.ndjson')
  // Not refreshed: the new denials are not in the columns yet and are not counted.
  const newer = db.prepare('SELECT id FROM denials WHERE id > ?').pluck().all(loaded) as number[]
  t.ok(newer.length > 0)
  const notYet = columns.count(newer)
  t.same([...notYet.facets.decision.values()], [], 'ids past the loaded ones count nothing until refresh')
  columns.refresh()
  t.equal([...columns.count(newer).facets.decision.values()].reduce((a, b) => a + b, 0), newer.length, 'refresh loads them')
  check('refreshed')
})

t.test('the drill-down values held in memory are a GROUP BY\'s, after later imports and an id reused after a deletion', async t => {
  const db = openDatabase(path.join(tempDir(t), 'values.db'))
  t.teardown(() => { db.close() })
  await importSeeded(db, 800, 41, 'a.ndjson')
  // Kept across the changes below, as the server keeps its repository; one holding keys of at most 3 values.
  const kept = repositoriesOn(db, { facetColumns: true }).search
  const small = repositoriesOn(db, { facetColumns: true, heldKeyValues: 3 }).search
  const keys = [...db.prepare('SELECT key FROM condition_keys').pluck().all() as string[], 'AWS:REGION', 'nosuch:Key']
  t.ok(keys.length > 5, `${keys.length} keys`)
  const shapes: Array<[string, DenialFilters]> = [
    ['no filter', {}],
    ['service', { service: 's3' }],
    ['decision + since', { decision: 'implicit-deny', since: '2026-11-10T00:00:00.000Z' }],
    ['q', { q: 'data' }],
    ['nothing matches', { action: 'nosuch:Thing' }]
  ]
  const check = (label: string): void => {
    for (const [name, f] of shapes) {
      for (const key of keys) {
        const expected = valuesBySql(db, f, key, 7)
        t.same(kept.conditionValues(f, key, 7), expected, `${label}, ${name}, ${key}`)
        t.same(small.conditionValues(f, key, 7), expected, `${label}, ${name}, ${key} (keys of at most 3 values)`)
      }
    }
  }
  check('first import')
  await importSeeded(db, 800, 42, 'b.ndjson')
  check('after a later import')
  // The newest denial goes, and one holding a new aws:Region value takes its id.
  const max = db.prepare('SELECT max(id) FROM denials').pluck().get() as number
  const row = db.prepare('SELECT * FROM denials WHERE id = ?').get(max) as Record<string, unknown>
  for (const table of ['occurrences', 'conditions', 'denial_terms', 'statements', 'messages']) db.prepare(`DELETE FROM ${table} WHERE denial_id = ?`).run(max)
  db.prepare('DELETE FROM denials WHERE id = ?').run(max)
  const reused = Number(db.prepare(`INSERT INTO denials (content_hash, decision, principal_arn, principal_account, action, service, kind, key_ids, first_seen, last_seen, created_at)
    VALUES ('reused', 'implicit-deny', 'arn:aws:iam::999999999999:user/new', '999999999999', 's3:GetObject', 's3', ?, '', '2026-11-19T00:00:00Z', '2026-11-19T00:00:00Z', '2026-11-19T00:00:00Z')`)
    .run(row.kind).lastInsertRowid)
  t.equal(reused, max, 'SQLite hands the id out again')
  const region = db.prepare("SELECT id, key FROM condition_keys WHERE key = 'aws:Region'").get() as { id: number, key: string }
  const sid = (v: string): number => Number(db.prepare('INSERT INTO strings (value) VALUES (?) ON CONFLICT (value) DO UPDATE SET value = value RETURNING id').pluck().get(v))
  db.prepare('INSERT INTO conditions (denial_id, position, key_id, key_sid, value_id, value_index) VALUES (?, 0, ?, ?, ?, 0), (?, 1, ?, ?, ?, 1)')
    .run(max, region.id, sid(region.key), sid('xx-new-1'), max, region.id, sid(region.key), sid('xx-new-2'))
  check('after an id reused')
  t.ok(kept.conditionValues({ service: 's3' }, 'aws:Region', 1000).some(v => v.value === 'xx-new-2'), 'the new denial\'s second value is counted')
})

t.test('warming loads the columns a chunk at a time in the background, and stops quietly when the database closes', async t => {
  const db = openDatabase(path.join(tempDir(t), 'warm.db'))
  await importSeeded(db, 2000, 61, 'a.ndjson')
  const ids = db.prepare('SELECT id FROM denials').pluck().all() as number[]
  const columns = new FacetColumns(db, 100)
  t.same([...columns.count(ids).facets.decision.values()], [], 'nothing loaded before')
  let turns = 0
  const ticking = setInterval(() => { turns++ }, 0)
  await columns.warm()
  clearInterval(ticking)
  t.ok(turns > 0, `the event loop turned ${turns} times while loading ${ids.length} denials 100 at a time`)
  t.equal([...columns.count(ids).facets.decision.values()].reduce((a, b) => a + b, 0), ids.length, 'every denial loaded')
  // The server closing while they load.
  const other = new FacetColumns(db, 100)
  const warming = other.warm()
  db.close()
  await t.resolves(warming, 'no error once the database is closed')
  t.ok(other.count(ids).facets.decision.size > 0, 'what was loaded before stays')
})
