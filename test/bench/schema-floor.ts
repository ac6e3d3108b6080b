/**
 * Benchmark child: the floor of our schema. It copies every row of a finished import into a new, empty
 * database, table by table, with SQLite alone (`INSERT … SELECT`, in primary-key order, one transaction
 * per table), and rebuilds the substring index from the strings. No parsing, no JavaScript per row, no
 * duplicate lookups, every b-tree filled in order. That is less work than any import of the same file can
 * do: the time it takes bounds from below what an import that stores these rows can reach.
 *
 * Issue 10 asks for 0.9× the reference pipeline; the bench prints this floor beside both, so that
 * whether the target is reachable by this schema at all is measured, not argued.
 */
import Database from 'better-sqlite3'
import { statSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { openDatabase } from '../../server/db/connection.js'
import { openStore } from '../../server/db/index.js'

export interface FloorResult {
  /** Milliseconds from the first copy to the checkpoint at close. */
  ms: number
  denials: number
  dbBytes: number
  sqlite: string
  /** Milliseconds per table (strings_fts: rebuilding the substring index), in the order copied. */
  steps: Record<string, number>
}

/** The rows of `source` (a database whydenied wrote), written again into `target`, which must not exist yet. */
export function schemaFloor (source: string, target: string): FloorResult {
  // The schema, as an import finds it: every migration run, no rows.
  openStore(target).close()
  const started = process.hrtime.bigint()
  // Opened as an import opens it (WAL, synchronous NORMAL, the same page cache, foreign keys on).
  const db = openDatabase(target)
  db.exec(`ATTACH DATABASE '${source.replaceAll("'", "''")}' AS src`)

  /** The FTS5 index and its shadow tables are rebuilt from the strings, not copied. */
  const isFtsTable = (name: string): boolean => name === 'strings_fts' || name.startsWith('strings_fts_')
  const tables = (db.prepare("SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[])
    .filter(t => !isFtsTable(t))
  const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`

  // Parents before children, so that each foreign-key check finds its row.
  const parentsOf = db.prepare('SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)').pluck()
  const order: string[] = []
  const visit = (t: string, path: Set<string>): void => {
    if (order.includes(t) || path.has(t)) return
    path.add(t)
    for (const p of parentsOf.all(t) as string[]) if (p !== t && tables.includes(p)) visit(p, path)
    order.push(t)
  }
  for (const t of tables) visit(t, new Set())

  const steps: Record<string, number> = {}
  const time = (name: string, sql: string): void => {
    const t0 = process.hrtime.bigint()
    db.transaction(() => db.exec(sql))()
    steps[name] = Number(process.hrtime.bigint() - t0) / 1e6
  }
  const keyOf = db.prepare('SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk').pluck()
  for (const t of order) {
    const pk = (keyOf.all(t) as string[]).map(quote)
    // OR REPLACE: the migrations seed a few rows (counters) that the source holds too.
    time(t, `INSERT OR REPLACE INTO main.${quote(t)} SELECT * FROM src.${quote(t)} ORDER BY ${pk.length > 0 ? pk.join(', ') : 'rowid'}`)
    if (t === 'strings') time('strings_fts', 'INSERT INTO strings_fts (rowid, value) SELECT id, value FROM strings')
  }
  db.exec('DETACH DATABASE src')
  // Closing checkpoints the WAL into the file, as at the end of an import.
  db.close()
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  const check = new Database(target, { readonly: true })
  const denials = check.prepare('SELECT count(*) FROM denials').pluck().get() as number
  const sqlite = check.prepare('SELECT sqlite_version()').pluck().get() as string
  check.close()
  return { ms, denials, dbBytes: statSync(target).size, sqlite, steps }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [source, target] = process.argv.slice(2)
  if (!source || !target) throw new Error('usage: schema-floor SOURCE.db EMPTY.db')
  process.stdout.write(JSON.stringify(schemaFloor(source, target)) + '\n')
}
