/**
 * The store: opens the database and builds every repository on it. Other layers reach the data only
 * through the repositories built here, never through the connection, so that they need not know it is SQLite.
 */
import { openDatabase, type OpenOptions } from './connection.js'
import { DenialsRepository } from './repositories/denial-writer.js'
import { ReportsRepository } from './repositories/reports.js'
import { SearchRepository } from './repositories/search.js'
import { StatsRepository } from './repositories/stats.js'

export interface Repositories {
  denials: DenialsRepository
  search: SearchRepository
  stats: StatsRepository
  reports: ReportsRepository
}

export interface Store {
  repos: Repositories
  close: () => void
}

/** Open (creating and migrating as needed) the database file and build its repositories. */
export function openStore (file: string, opts: OpenOptions = {}): Store {
  const db = openDatabase(file, opts)
  try {
    const repos: Repositories = {
      denials: new DenialsRepository(db),
      search: new SearchRepository(db),
      stats: new StatsRepository(db),
      reports: new ReportsRepository(db)
    }
    return { repos, close: () => { db.close() } }
  } catch (err) {
    db.close()
    throw err
  }
}
