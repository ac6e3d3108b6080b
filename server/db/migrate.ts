/** Versioned migrations against PRAGMA user_version; a database newer than the code is refused. */
import type Database from 'better-sqlite3'
import { migrations, type Migration } from './migrations/index.js'
import { DatabaseTooNewError, MigrationFailedError } from '../errors.js'

export const SCHEMA_VERSION = migrations.length

function userVersion (db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number
}

export function migrate (db: Database.Database, list: readonly Migration[] = migrations): number {
  const latest = list.length
  // Unlocked look first, so that opening an up-to-date database (every open but the first) takes no write lock.
  const seen = userVersion(db)
  if (seen > latest) throw new DatabaseTooNewError(db.name, seen, latest)
  if (seen === latest) return latest
  for (const m of list) {
    if (m.version <= seen) continue
    try {
      // BEGIN IMMEDIATE takes the write lock (waiting out the busy timeout), and user_version is read
      // again under it: another process opening the same new file may have applied this step since
      // the look above, and applying it twice fails ("table denials already exists").
      db.transaction(() => {
        const current = userVersion(db)
        if (current > latest) throw new DatabaseTooNewError(db.name, current, latest)
        if (current >= m.version) return
        db.exec(m.up)
        db.pragma(`user_version = ${m.version}`)
      }).immediate()
    } catch (err) {
      if (err instanceof DatabaseTooNewError) throw err
      throw new MigrationFailedError(m.version, m.name, (err as Error).message)
    }
  }
  return latest
}
