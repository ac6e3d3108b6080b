import t from 'tap'
import Database from 'better-sqlite3'
import path from 'node:path'
import { openDatabase } from '../../server/db/connection.js'
import { migrate, SCHEMA_VERSION } from '../../server/db/migrate.js'
import { migrations } from '../../server/db/migrations/index.js'
import { tempDir } from '../helpers/build.js'

t.test('a new file is created, migrated to the latest version, in WAL mode', async t => {
  const file = path.join(tempDir(t), 'nested', 'dir', 'w.db')
  const db = openDatabase(file)
  t.teardown(() => db.close())
  t.equal(db.pragma('user_version', { simple: true }), migrations.length)
  t.equal(SCHEMA_VERSION, migrations.length)
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  t.equal(db.pragma('foreign_keys', { simple: true }), 1)
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table') ORDER BY name").pluck().all()
  for (const name of ['conditions', 'denials', 'denials_fts', 'failures', 'import_rejects', 'imports', 'messages', 'occurrences', 'sources', 'statements']) {
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
