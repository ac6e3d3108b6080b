/** Versioned migrations against PRAGMA user_version; a database newer than the code is refused. */
import type Database from 'better-sqlite3'
import { migrations, type Migration } from './migrations/index.js'
import { DatabaseTooNewError, MigrationFailedError } from '../errors.js'

export const SCHEMA_VERSION = migrations.length

export function migrate (db: Database.Database, list: readonly Migration[] = migrations): number {
  const current = db.pragma('user_version', { simple: true }) as number
  const latest = list.length
  if (current > latest) throw new DatabaseTooNewError(db.name, current, latest)
  for (const m of list) {
    if (m.version <= current) continue
    try {
      db.transaction(() => {
        db.exec(m.up)
        db.pragma(`user_version = ${m.version}`)
      }).immediate()
    } catch (err) {
      throw new MigrationFailedError(m.version, m.name, (err as Error).message)
    }
  }
  return latest
}
