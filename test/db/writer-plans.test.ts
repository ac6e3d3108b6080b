/** No statement the import's writer runs (per record or per batch) reads a whole table that grows with the data. */
import t from 'tap'
import path from 'node:path'
import { openDatabase, type DB } from '../../server/db/connection.js'
import { repositoriesOn } from '../../server/db/index.js'
import { tempDir } from '../helpers/files.js'

interface Statement { source: string, run: unknown }
const isStatement = (v: unknown): v is Statement => typeof v === 'object' && v !== null && typeof (v as Statement).source === 'string' && typeof (v as Statement).run === 'function'

/** The prepared statements an object holds, and those of the objects it holds (the writer's row buffers). */
function statementsOf (o: object, depth = 0): Statement[] {
  const out: Statement[] = []
  for (const v of Object.values(o)) {
    if (isStatement(v)) out.push(v)
    else if (depth < 1 && typeof v === 'object' && v !== null && !(v instanceof Map) && !Array.isArray(v)) out.push(...statementsOf(v as object, depth + 1))
  }
  return out
}

/** EXPLAIN QUERY PLAN of a statement, its parameters bound to NULL (the plan is made when it is prepared). */
function plan (db: DB, sql: string): string[] {
  const named = [...new Set([...sql.matchAll(/[@:$]([A-Za-z_]\w*)/g)].map(m => m[1]!))]
  const positional = (sql.match(/\?/g) ?? []).length
  const args: unknown[] = Array(positional).fill(null)
  if (named.length > 0) args.push(Object.fromEntries(named.map(n => [n, null])))
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map(r => r.detail)
}

t.test('the writer\'s statements search indexes; a scan reads only a partial index', async t => {
  const db = openDatabase(path.join(tempDir(t), 'plans.db'))
  t.teardown(() => db.close())
  const writer = repositoriesOn(db).writer
  const statements = statementsOf(writer)
  t.ok(statements.length > 20, `${statements.length} statements`)
  // Partial indexes hold only the rows their WHERE names (the unplaced occurrences: usually none).
  const partial = new Set(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql LIKE '% WHERE %'").pluck().all() as string[])
  const growing = ['occurrences', 'denials', 'conditions', 'strings', 'denial_terms', 'messages', 'statements', 'failures', 'events', 'daily_principals']
  for (const s of statements) {
    for (const step of plan(db, s.source)) {
      const scan = /^SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?/.exec(step)
      // Only tables the statement names: inserting a parent row shows the foreign-key scans of its
      // children, which SQLite runs only while deferred violations are outstanding (never here).
      if (scan === null || !growing.includes(scan[1]!) || !new RegExp(`\\b${scan[1]}\\b`).test(s.source)) continue
      t.ok(scan[2] !== undefined && partial.has(scan[2]), `${s.source.replace(/\s+/g, ' ').slice(0, 80)}: ${step}`)
    }
  }
  t.ok(statements.some(s => s.source.includes('INDEXED BY idx_occurrences_unplaced')), 'the unplaced-occurrence check is among them')
})
