/** The database plugin: decorates the app with the store's repositories (and the importer on them); closes the store on close. */
import fp from 'fastify-plugin'
import { openStore, type Repositories } from '../db/index.js'
import { Importer } from '../services/importer.js'

export interface AppRepositories extends Repositories {
  importer: Importer
}

declare module 'fastify' {
  interface FastifyInstance {
    repos: AppRepositories
  }
}

export default fp<{ dbPath: string }>(async (app, opts) => {
  // The server lives long: the facet columns (filtered lists, reports) and the occurrence times (reports) are loaded once and kept.
  const store = openStore(opts.dbPath, { facetColumns: true })
  app.decorate('repos', { ...store.repos, importer: new Importer(store.repos.writer, store.repos.imports) })
  // Not awaited: the server answers while they load (a search that needs them finishes the load).
  app.addHook('onReady', async () => {
    void store.repos.search.warm().catch((err: unknown) => { app.log.warn({ err }, 'facet columns not loaded in the background') })
    void store.repos.reports.warm().catch((err: unknown) => { app.log.warn({ err }, 'occurrence times not loaded in the background') })
  })
  app.addHook('onClose', async () => { store.close() })
}, { name: 'whydenied-db', fastify: '5.x' })
