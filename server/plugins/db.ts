/** The database plugin: one connection per app, migrated before ready, closed on close. */
import fp from 'fastify-plugin'
import { openDatabase, type DB } from '../db/connection.js'
import { DenialsRepository } from '../db/repositories/denials.js'
import { SearchRepository } from '../db/repositories/search.js'
import { Importer } from '../services/importer.js'

export interface Repositories {
  denials: DenialsRepository
  search: SearchRepository
  importer: Importer
}

declare module 'fastify' {
  interface FastifyInstance {
    db: DB
    repos: Repositories
  }
}

export function makeRepositories (db: DB): Repositories {
  const denials = new DenialsRepository(db)
  return { denials, search: new SearchRepository(db), importer: new Importer(denials) }
}

export default fp<{ dbPath: string }>(async (app, opts) => {
  const db = openDatabase(opts.dbPath)
  app.decorate('db', db)
  app.decorate('repos', makeRepositories(db))
  app.addHook('onClose', async () => { db.close() })
}, { name: 'whydenied-db', fastify: '5.x' })
