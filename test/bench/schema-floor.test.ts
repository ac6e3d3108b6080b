/** The schema floor the bench prints (schema-floor.ts) writes every stored row once, no more and no less: a faithful lower bound. */
import t, { type Test } from 'tap'
import path from 'node:path'
import { openDatabase } from '../../server/db/connection.js'
import { repositoriesOn } from '../../server/db/index.js'
import { generatedStore } from '../helpers/generated-store.js'
import { tempDir } from '../helpers/files.js'
import { FLOOR_MODES, schemaFloor, type FloorMode } from './schema-floor.js'

t.test('each way of copying holds exactly the rows of the import, and the substring index finds the same denials', async t => {
  const { db } = await generatedStore(t, 'source.db', 400, { seed: 7, mode: 'distinct' })
  const source = db.name
  db.close()
  for (const mode of FLOOR_MODES) await t.test(mode, async t => { checkCopy(t, source, mode) })
})

function checkCopy (t: Test, source: string, mode: FloorMode): void {
  const target = path.join(tempDir(t), `floor-${mode}.db`)
  const r = schemaFloor(source, target, mode)

  t.equal(r.denials, 400, 'every denial')
  t.ok(r.ms > 0 && r.dbBytes > 0, `${r.ms.toFixed(0)} ms, ${r.dbBytes} bytes`)
  t.match(r.sqlite, /^3\.\d+\.\d+$/)
  for (const table of ['denials', 'conditions', 'strings', 'strings_fts', 'denial_terms', 'occurrences', 'messages', 'daily_principals']) {
    t.type(r.steps[table], 'number', `${table} is timed`)
  }

  const a = openDatabase(source, { readonly: true })
  const b = openDatabase(target, { readonly: true })
  t.teardown(() => { a.close(); b.close() })
  const tables = a.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'strings_fts%'").pluck().all() as string[]
  t.ok(tables.length > 15, `${tables.length} tables`)
  for (const table of tables) {
    // Every row, column for column: the set difference both ways is empty and the counts agree.
    const rows = (d: typeof a): Array<Record<string, unknown>> => d.prepare(`SELECT * FROM "${table}"`).all() as Array<Record<string, unknown>>
    const key = (r: Record<string, unknown>): string => JSON.stringify(r, (_k, v: unknown) => Buffer.isBuffer(v) ? v.toString('hex') : v)
    const left = rows(a).map(key).sort()
    const right = rows(b).map(key).sort()
    t.same(right, left, `${table}: ${left.length} rows`)
  }
  t.ok((a.prepare('SELECT count(*) FROM conditions').pluck().get() as number) > 3000, 'conditions were copied, not an empty table')

  // q through the search repository: the rebuilt trigram index answers as the imported one does.
  const search = (d: typeof a, q: string): number[] => repositoriesOn(d).search.search({ q }, { limit: 500 }).items.map(i => i.id).sort((x, y) => x - y)
  for (const q of ['PassRole', 'us-east-1', 'example.com', 'sg-']) {
    const found = search(a, q)
    t.ok(found.length > 0, `q=${q} finds ${found.length}`)
    t.same(search(b, q), found, `q=${q}: the same denials`)
  }
}
