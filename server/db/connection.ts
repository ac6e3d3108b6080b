/** Open the SQLite file with the pragmas whydenied relies on, and bring its schema up to date. */
import Database from 'better-sqlite3'
import { mkdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { DatabaseOpenError, NoDatabaseError, NotADatabaseError } from '../errors.js'
import { migrate } from './migrate.js'

export type DB = Database.Database

export interface OpenOptions {
  readonly?: boolean
  /** A reader: the file must exist (NoDatabaseError otherwise); no directory or file is created. */
  mustExist?: boolean
  /**
   * SQLite's page cache in KiB (default 96 MiB, for imports). A one-shot reader that scans each page
   * once (`whydenied report`) gains nothing from a large one and would hold it at its peak.
   */
  cacheKiB?: number
}

/** SQLite's answers for a file that is not a database. */
const NOT_A_DB = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT'])

const BUSY_TIMEOUT_MS = 10_000

/** Block the thread for ms milliseconds (openDatabase is synchronous, like better-sqlite3). */
function sleepSync (ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * Switch to WAL, retrying while another process holds the file. SQLite answers SQLITE_BUSY at once here,
 * without calling the busy handler: the switch reads the header, then upgrades that read to a write, and
 * SQLite never waits on an upgrade (two upgraders would deadlock). Several processes opening a brand-new
 * file together all hit this, so retry for as long as the busy timeout would have waited.
 */
function enableWal (db: DB): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS
  for (;;) {
    try {
      db.pragma('journal_mode = WAL')
      return
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err
      sleepSync(5 + Math.random() * 20) // jitter, so the processes do not retry in lockstep
    }
  }
}

export function openDatabase (file: string, opts: OpenOptions = {}): DB {
  const memory = file === ':memory:'
  if (!memory && opts.mustExist) {
    let isFile = false
    try {
      isFile = statSync(file).isFile()
    } catch {
      throw new NoDatabaseError(path.resolve(file))
    }
    if (!isFile) throw new NotADatabaseError(path.resolve(file), 'not a regular file')
  }
  if (!memory && !opts.readonly && !opts.mustExist) mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  let db: DB
  try {
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.mustExist ?? false, timeout: BUSY_TIMEOUT_MS })
  } catch (err) {
    throw notADatabase(file, err)
  }
  try {
    if (!opts.readonly) {
      // WAL first: one writer and many readers at once; NORMAL is durable across crashes in WAL mode.
      enableWal(db)
      db.pragma('synchronous = NORMAL')
      // Checkpoint (and fsync) every ~40 MB of WAL rather than every 4 MB: imports write in bulk.
      db.pragma('wal_autocheckpoint = 10000')
    }
    db.pragma('foreign_keys = ON')
    // 96 MiB of page cache: most index pages an import touches stay in memory at 1M messages,
    // and a 1M-message import peaks well under the 400 MB budget (see README, Performance).
    db.pragma(`cache_size = -${Math.max(64, Math.floor(opts.cacheKiB ?? 98_304))}`)
    db.pragma('temp_store = MEMORY')
    if (!opts.readonly) migrate(db)
  } catch (err) {
    db.close()
    throw notADatabase(file, err)
  }
  return db
}

/** SQLite's "file is not a database" and "unable to open" name no file: say which one. Any other error passes unchanged. */
function notADatabase (file: string, err: unknown): unknown {
  const code = (err as { code?: string }).code
  if (code === undefined) return err
  if (NOT_A_DB.has(code)) return new NotADatabaseError(path.resolve(file), (err as Error).message)
  if (code === 'SQLITE_CANTOPEN') return new DatabaseOpenError(path.resolve(file), (err as Error).message)
  return err
}
