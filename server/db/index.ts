/**
 * The store: opens the database and builds every repository on it. Other layers reach the data only
 * through the repositories built here, never through the connection, so that they need not know it is SQLite.
 */
import { openDatabase, type DB, type OpenOptions } from './connection.js'
import { DenialWriter } from './repositories/denial-writer.js'
import { DenialsRepository } from './repositories/denials.js'
import { EventsRepository } from './repositories/events.js'
import { ImportsRepository } from './repositories/imports.js'
import { PoliciesRepository } from './repositories/policies.js'
import { FacetColumns } from './repositories/facet-columns.js'
import { OccurrenceTimes } from './repositories/occurrence-times.js'
import { ReportsRepository } from './repositories/reports.js'
import { Rollups } from './repositories/rollups.js'
import { SearchRepository, type SearchRepositoryOptions } from './repositories/search.js'
import { StatsRepository } from './repositories/stats.js'

export interface Repositories {
  /** Reading denials back. */
  denials: DenialsRepository
  /** Storing parsed messages. */
  writer: DenialWriter
  imports: ImportsRepository
  /** CloudTrail events: occurrence identities, and encoded messages waiting to be decoded. */
  events: EventsRepository
  search: SearchRepository
  stats: StatsRepository
  reports: ReportsRepository
  /** Policy snapshots and their policies. */
  policies: PoliciesRepository
}

/** How the store is used: a long-lived process (the server) keeps caches a one-shot command would only fill. */
export interface StoreOptions extends OpenOptions, SearchRepositoryOptions {}

export interface Store {
  repos: Repositories
  close: () => void
}

/** Open (creating and migrating as needed; with mustExist, only an existing file) the database file and build its repositories. */
export function openStore (file: string, opts: StoreOptions = {}): Store {
  const db = openDatabase(file, opts)
  try {
    return { repos: repositoriesOn(db, opts), close: () => { db.close() } }
  } catch (err) {
    db.close()
    throw err
  }
}

/** Every repository on an open connection (openStore's; tests that hold their own connection). */
export function repositoriesOn (db: DB, opts: SearchRepositoryOptions = {}): Repositories {
  const imports = new ImportsRepository(db)
  // Shared: the writer and the events' relinking both change what the rollups count.
  const rollups = new Rollups(db)
  const events = new EventsRepository(db, rollups)
  // A long-lived process keeps the denials' columns in memory once, for the list's facets and for reports.
  const columns = opts.facetColumns === true ? new FacetColumns(db) : null
  return {
    denials: new DenialsRepository(db),
    writer: new DenialWriter(db, imports, events, rollups),
    imports,
    events,
    search: new SearchRepository(db, opts, columns),
    stats: new StatsRepository(db),
    reports: new ReportsRepository(db, columns && { columns, occurrences: new OccurrenceTimes(db) }),
    policies: new PoliciesRepository(db)
  }
}
