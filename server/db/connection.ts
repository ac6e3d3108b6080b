/** Open the SQLite file with the pragmas whydenied relies on, and bring its schema up to date. */
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { migrate } from './migrate.js'

export type DB = Database.Database

export interface OpenOptions {
  readonly?: boolean
}

export function openDatabase (file: string, opts: OpenOptions = {}): DB {
  if (file !== ':memory:' && !opts.readonly) mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  const db = new Database(file, { readonly: opts.readonly ?? false, timeout: 10_000 })
  try {
    if (!opts.readonly) {
      // WAL first: one writer and many readers at once; NORMAL is durable across crashes in WAL mode.
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      // Checkpoint (and fsync) every ~40 MB of WAL rather than every 4 MB: imports write in bulk.
      db.pragma('wal_autocheckpoint = 10000')
    }
    db.pragma('foreign_keys = ON')
    // 96 MiB of page cache: most index pages an import touches stay in memory at 1M messages,
    // and a 1M-message import peaks well under the 400 MB budget (see README, Performance).
    db.pragma('cache_size = -98304')
    db.pragma('temp_store = MEMORY')
    if (!opts.readonly) migrate(db)
  } catch (err) {
    db.close()
    throw err
  }
  return db
}
