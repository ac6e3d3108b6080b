import t from 'tap'
import Database from 'better-sqlite3'
import { copyFileSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { readFileRecords, readTextRecords } from '../../server/ingest/index.js'
import { openDatabase } from '../../server/db/connection.js'
import { migrate, SCHEMA_VERSION } from '../../server/db/migrate.js'
import { migrations } from '../../server/db/migrations/index.js'
import { repositoriesOn } from '../../server/db/index.js'
import { Importer } from '../../server/services/importer.js'
import { buildTestApp, DECODED_FIXTURES, tempDir } from '../helpers/build.js'
import { CLOUDTRAIL_FIXTURES } from '../helpers/cloudtrail.js'
import { generate } from '../../fixtures/generate.js'
import { html, texts } from '../routes/pages/support.js'

t.test('a new file is created, migrated to the latest version, in WAL mode', async t => {
  const file = path.join(tempDir(t), 'nested', 'dir', 'w.db')
  const db = openDatabase(file)
  t.teardown(() => db.close())
  t.equal(db.pragma('user_version', { simple: true }), migrations.length)
  t.equal(SCHEMA_VERSION, migrations.length)
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  t.equal(db.pragma('foreign_keys', { simple: true }), 1)
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table') ORDER BY name").pluck().all()
  for (const name of ['conditions', 'daily_counts', 'daily_principals', 'denial_last_days', 'denial_terms', 'denials', 'facet_counts', 'failures', 'import_rejects', 'imports', 'messages', 'occurrences', 'sources', 'statements', 'strings', 'strings_fts']) {
    t.ok(tables.includes(name), `table ${name}`)
  }
  migrations.forEach((m, i) => t.equal(m.version, i + 1, `migration ${m.name} is number ${i + 1}`))
})

t.test('migrating again is a no-op; a database newer than the code is refused clearly', async t => {
  const file = path.join(tempDir(t), 'w.db')
  openDatabase(file).close()
  const again = openDatabase(file)
  t.equal(again.pragma('user_version', { simple: true }), SCHEMA_VERSION)
  again.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
  again.close()
  t.throws(() => openDatabase(file), { code: 'WHYDENIED_DB_TOO_NEW', message: /schema version \d+, newer than this whydenied understands/ })
})

t.test('a failing migration rolls back whole and names itself', async t => {
  const db = new Database(':memory:')
  t.teardown(() => db.close())
  const list = [{ version: 1, name: 'ok', up: 'CREATE TABLE a (x)' }, { version: 2, name: 'broken', up: 'CREATE TABLE b (y); THIS IS NOT SQL' }]
  t.throws(() => migrate(db, list), { code: 'WHYDENIED_MIGRATION_FAILED', message: /Migration 2 \(broken\) failed/ })
  t.equal(db.pragma('user_version', { simple: true }), 1, 'stops after the last good step')
  t.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'b'").pluck().get(), 0, 'no half-applied step')
})

t.test('0003: a schema-2 database keeps every occurrence; re-importing its files adds only what the old key dropped', async t => {
  // Written by the previous release (see fixtures/README.md): 10 occurrences, of which compact.json
  // ([a,a,b] on one line) kept 2 of its 3 records.
  const fixtures = path.join(import.meta.dirname, 'fixtures')
  const file = path.join(tempDir(t), 'old.db')
  copyFileSync(path.join(fixtures, 'schema-v2.db'), file)
  const before = new Database(file, { readonly: true })
  t.equal(before.pragma('user_version', { simple: true }), 2)
  const rowsBefore = before.prepare('SELECT id, denial_id, observed_at, source_id, line, stamped_ms FROM occurrences ORDER BY id').all()
  const countersBefore = before.prepare('SELECT id, occurrences, first_seen, last_seen FROM denials ORDER BY id').all()
  before.close()
  t.equal(rowsBefore.length, 10)

  const db = openDatabase(file)
  t.teardown(() => db.close())
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION)
  t.same(db.prepare('SELECT id, denial_id, observed_at, source_id, line, stamped_ms FROM occurrences ORDER BY id').all(), rowsBefore, 'every row kept as it was')
  t.same(db.prepare('SELECT id, occurrences, first_seen, last_seen FROM denials ORDER BY id').all(), countersBefore, 'counters unchanged')
  t.equal(db.prepare('SELECT count(*) FROM occurrences WHERE item < 0').pluck().get(), 10, 'migrated rows do not know their index within the line yet')
  t.same(db.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'occurrences' AND type = 'index' AND sql IS NOT NULL ORDER BY name").pluck().all(),
    ['idx_occurrences_denial_observed', 'idx_occurrences_observed_at', 'idx_occurrences_unplaced'])
  t.same(db.pragma('foreign_key_check'), [], 'references intact')

  const repos = repositoriesOn(db)
  const importer = new Importer(repos.writer, repos.imports)
  const reimport = async (name: string) => importer.run(readFileRecords(path.join(fixtures, 'schema-v2', name), name), { label: name })
  const expected: Record<string, { imported: number, duplicates: number }> = {
    'lines.ndjson': { imported: 0, duplicates: 3 },
    'compact.json': { imported: 1, duplicates: 2 }, // the second `a`, which the old key dropped
    'array-line.ndjson': { imported: 0, duplicates: 3 }, // [a,b] on line 1: each claims its own row
    'pretty.json': { imported: 0, duplicates: 2 }
  }
  for (const [name, want] of Object.entries(expected)) t.same(await reimport(name), { ...want, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} }, `${name} re-imported`)
  t.equal(db.prepare('SELECT count(*) FROM occurrences').pluck().get(), 11)
  t.equal(db.prepare('SELECT count(*) FROM occurrences WHERE item < 0').pluck().get(), 0, 'every migrated row claimed its place')
  t.equal(db.prepare('SELECT count(*) FROM denials d WHERE d.occurrences <> (SELECT count(*) FROM occurrences o WHERE o.denial_id = d.id)').pluck().get(), 0, 'counters exact')
  for (const name of Object.keys(expected)) {
    const s = await reimport(name)
    t.equal(s.imported, 0, `${name} a third time: only duplicates`)
  }
  t.equal(db.prepare('SELECT sum(occurrences) FROM denials').pluck().get(), 11)
})

t.test('0003 on an empty database: the new key, no unplaced rows', async t => {
  const db = new Database(':memory:')
  t.teardown(() => db.close())
  migrate(db)
  const cols = db.prepare("SELECT name FROM pragma_table_info('occurrences') ORDER BY cid").pluck().all()
  t.same(cols, ['id', 'denial_id', 'observed_at', 'source_id', 'line', 'item', 'encoded_id', 'stamped_ms', 'import_id'])
  t.same(db.prepare("SELECT name FROM pragma_table_info('encoded_messages') ORDER BY cid").pluck().all(), ['id', 'sha256'])
})

t.test('0006: a schema-5 database keeps its imports, which show skipped as not recorded; new imports count it', async t => {
  // Written by the previous release (see fixtures/README.md): 4 imports, the last of which skipped one event.
  const file = path.join(tempDir(t), 'v5.db')
  copyFileSync(path.join(import.meta.dirname, 'fixtures', 'schema-v5.db'), file)
  const before = new Database(file, { readonly: true })
  t.equal(before.pragma('user_version', { simple: true }), 5)
  const rowsBefore = before.prepare('SELECT id, started_at, finished_at, source, imported, duplicates, rejected FROM imports ORDER BY id').all()
  const occurrencesBefore = before.prepare('SELECT count(*) FROM occurrences').pluck().get()
  before.close()
  t.equal(rowsBefore.length, 4)

  const db = openDatabase(file)
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION)
  t.same(db.prepare('SELECT id, started_at, finished_at, source, imported, duplicates, rejected FROM imports ORDER BY id').all(), rowsBefore, 'every import row kept as it was')
  t.same(db.prepare('SELECT skipped FROM imports ORDER BY id').pluck().all(), [null, null, null, null], 'what they skipped was never counted: null, not a made-up 0')
  t.equal(db.prepare('SELECT count(*) FROM occurrences').pluck().get(), occurrencesBefore)
  const repos = repositoriesOn(db)
  const importer = new Importer(repos.writer, repos.imports)
  t.match(await importer.run(readFileRecords(path.join(CLOUDTRAIL_FIXTURES, 'lookup-events.json'), 'again.json'), { label: 'again.json' }), { imported: 0, skipped: 1 })
  t.match(repos.imports.list(2), [{ source: 'again.json', duplicates: 4, skipped: 1 }, { source: 'fixtures/cloudtrail/lookup-events.json', duplicates: 1, skipped: null }])
  t.throws(() => db.prepare('UPDATE imports SET skipped = -1 WHERE id = 1').run(), /CHECK constraint/, 'a count is never negative')
  db.close()

  // The pages show the old rows' count as not recorded (a dash), the new row's as a number.
  const app = await buildTestApp(t, { dbPath: file })
  for (const url of ['/import', '/?period=all']) {
    t.same(texts(html(await app.inject({ url })), '.imports-table td[data-label="Skipped"]'), ['1', '—not recorded', '—not recorded', '—not recorded', '—not recorded'], `${url}: the Skipped column`)
  }
  t.same((await app.inject({ url: '/import?format=json' })).json().latestImports.map((i: { skipped: number | null }) => i.skipped), [1, null, null, null, null], 'the JSON twin')
})

t.test('0009: messages stored before it keep their text in raw and read back the same; new ones are packed', async t => {
  const file = path.join(tempDir(t), 'v5.db')
  copyFileSync(path.join(import.meta.dirname, 'fixtures', 'schema-v5.db'), file)
  const before = new Database(file, { readonly: true })
  const rawBefore = before.prepare('SELECT denial_id, raw FROM messages ORDER BY denial_id').all() as Array<{ denial_id: number, raw: string }>
  before.close()
  t.ok(rawBefore.length > 0)

  const db = openDatabase(file)
  t.teardown(() => db.close())
  t.same(db.prepare('SELECT count(*) FROM messages WHERE packed IS NOT NULL').pluck().get(), 0, 'nothing rewritten')
  const repos = repositoriesOn(db)
  for (const r of rawBefore) t.equal(repos.denials.get(r.denial_id)!.raw, r.raw, `denial ${r.denial_id}: raw as stored before`)

  const decoded = JSON.stringify({ allowed: false, explicitDeny: false, matchedStatements: { items: [] }, failures: { items: [] }, context: { principal: { id: 'AIDAX', arn: 'arn:aws:iam::123456789012:user/ünï 😀' }, action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', conditions: { items: [] } } }, null, 2)
  await new Importer(repos.writer, repos.imports).run(readTextRecords(JSON.stringify({ DecodedMessage: decoded }) + '\n', 'new.ndjson'))
  const row = db.prepare('SELECT denial_id, raw, packed FROM messages ORDER BY denial_id DESC LIMIT 1').get() as { denial_id: number, raw: string, packed: Buffer }
  t.equal(row.raw, '', 'the text is in packed')
  t.ok(row.packed.length < decoded.length / 2, 'packed to well under half')
  t.equal(repos.denials.get(row.denial_id)!.raw, decoded, 'read back byte for byte, whitespace and all')
})

t.test('0010: the index of condition keys goes, the substring index gathers 32 MiB before writing a segment; a key filter finds what the conditions table holds, with and without the facet columns', async t => {
  const file = path.join(tempDir(t), 'v5-events.db')
  copyFileSync(path.join(import.meta.dirname, 'fixtures', 'schema-v5-events.db'), file)
  const db = openDatabase(file)
  t.teardown(() => db.close())
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION)
  t.same(db.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'conditions' AND type = 'index' AND sql IS NOT NULL ORDER BY name").pluck().all(), ['idx_conditions_value'])
  t.equal(db.prepare("SELECT v FROM strings_fts_config WHERE k = 'hashsize'").pluck().get(), 32 * 1024 * 1024)
  const keys = db.prepare('SELECT id, key FROM condition_keys ORDER BY id').all() as Array<{ id: number, key: string }>
  t.ok(keys.length > 3, 'the migrated conditions have keys')
  const server = repositoriesOn(db, { facetColumns: true }).search
  const cli = repositoriesOn(db).search
  for (const k of keys) {
    const direct = db.prepare('SELECT DISTINCT denial_id FROM conditions WHERE key_id = ? ORDER BY 1').pluck().all(k.id)
    for (const [label, search] of [['server', server], ['cli', cli]] as const) {
      const found = search.search({ condition: [k.key.toUpperCase()] }, { limit: 500, facets: false }).items.map(d => d.id).sort((a, b) => a - b)
      t.same(found, direct, `${k.key} (${label})`)
    }
  }
  // Imports into it after the migration: q finds what a substring scan of the vocabulary finds.
  const repos = repositoriesOn(db)
  await new Importer(repos.writer, repos.imports).run(readTextRecords([...generate(600, { mode: 'distinct', seed: 5, end: '2026-11-27T00:00:00Z' })].join('\n'), 'more.ndjson'), { batchSize: 100 })
  for (const q of ['data', 'eu-west', 'kms:Decrypt', 'ROLE/', '12345']) {
    const like = `%${q}%`
    const direct = db.prepare(`SELECT denial_id FROM conditions c JOIN strings s ON s.id = c.value_id WHERE s.value LIKE ?
      UNION SELECT denial_id FROM denial_terms t JOIN strings s ON s.id = t.string_id WHERE s.value LIKE ? ORDER BY 1`).pluck().all(like, like)
    for (const [label, search] of [['server', server], ['cli', cli]] as const) {
      const found = search.search({ q }, { limit: 500, facets: false })
      t.equal(found.total, direct.length, `q=${q}: ${direct.length} denials (${label})`)
    }
  }
})

t.test('the page cache is 96 MiB unless the opener asks for less (the report command: 8 MiB)', async t => {
  const file = path.join(tempDir(t), 'cache.db')
  const big = openDatabase(file)
  t.equal(big.pragma('cache_size', { simple: true }), -98304)
  big.close()
  const { REPORT_CACHE_KIB } = await import('../../server/cli/report.js')
  const small = openDatabase(file, { mustExist: true, cacheKiB: REPORT_CACHE_KIB })
  t.teardown(() => small.close())
  t.equal(small.pragma('cache_size', { simple: true }), -8192)
})

t.test('0011: moving or deleting an occurrence is counted; adding one is not', async t => {
  const db = openDatabase(path.join(tempDir(t), 'changes.db'))
  t.teardown(() => db.close())
  const repos = repositoriesOn(db)
  await new Importer(repos.writer, repos.imports).run(readTextRecords(readFileSync(path.join(DECODED_FIXTURES, 'kms-decrypt.json')), 'a.json'))
  const changes = (): number => db.prepare("SELECT n FROM counters WHERE name = 'occurrences_changed'").pluck().get() as number
  t.equal(changes(), 0, 'an import adds without counting')
  db.prepare('UPDATE occurrences SET import_id = NULL').run()
  t.equal(changes(), 0, 'a change that moves nothing is not counted')
  const n0 = db.prepare("UPDATE occurrences SET observed_at = '2026-01-01T00:00:00.000Z'").run().changes
  t.equal(changes(), n0)
  const n = db.prepare('SELECT count(*) FROM occurrences').pluck().get() as number
  t.ok(n > 0)
  db.prepare('DELETE FROM occurrences').run()
  t.equal(changes(), n0 + n)
})
