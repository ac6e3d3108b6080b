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
  const store = openStore(opts.dbPath)
  app.decorate('repos', { ...store.repos, importer: new Importer(store.repos.writer, store.repos.imports) })
  app.addHook('onClose', async () => { store.close() })
}, { name: 'whydenied-db', fastify: '5.x' })
