/** Test helpers: a real app on a real SQLite file in a fresh temp dir, torn down with the test. */
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import Database from 'better-sqlite3'
import { buildApp } from '../../server/app.js'
import { loadConfig, type AppConfig } from '../../server/config.js'
import { tempDir, type TapLike } from './files.js'

export { DECODED_FIXTURES, FIXTURES, ROOT, tempDir, type TapLike } from './files.js'

/** buildApp on a real database file in a temp dir, logger off; closed when the test ends. */
export async function buildTestApp (t: TapLike, overrides: Partial<AppConfig> = {}): Promise<FastifyInstance> {
  const dir = tempDir(t)
  const config = loadConfig({ dbPath: path.join(dir, 'test.db'), logLevel: 'silent', ...overrides }, {})
  const app = await buildApp(config, { logger: false })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

/**
 * A second, read-only connection to an app's database file, for checking what it stored by plain SQL
 * (the app itself exposes only its repositories); closed when the test ends.
 */
export function sqlOf (t: TapLike, app: FastifyInstance): Database.Database {
  const db = new Database(app.config.dbPath, { readonly: true })
  t.teardown(() => db.close())
  return db
}
