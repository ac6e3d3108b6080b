/** Configuration: the one place that reads the environment; everything else receives an AppConfig. */
import path from 'node:path'

export interface AppConfig {
  /** SQLite file (created on first use), or ':memory:'. */
  dbPath: string
  host: string
  port: number
  logLevel: string
  /** Required to bind anything but loopback; then every page and API call needs it. */
  token: string | null
  /** Behind a reverse proxy: honour its X-Forwarded-Proto/-For (nearest hop only); never by default. */
  trustProxy: boolean
  /** Largest upload the import page accepts (bytes, all files and pasted text together); more gets a 413 page. */
  maxUploadBytes: number
  /** Render templates once and cache them (off in development so edits show at once). */
  productionViews: boolean
  /** Mock STS identities file (null: the default in fixtures/). */
  stsIdentitiesFile: string | null
  /** Lifetime of minted encoded messages in seconds (null: they never expire). */
  stsTtlSeconds: number | null
  /** Where `whydenied decode` sends DecodeAuthorizationMessage by default (null: the local mock). */
  stsEndpoint: string | null
  /** Secret the mock STS derives its token key from (null: the key file next to the database, created on first use). */
  stsSecret: string | null
  /** Teams file for reports (YAML or JSON; null: no teams, everything is "unassigned"). */
  teamsFile: string | null
}

export const DEFAULT_DB = path.join('data', 'whydenied.db')

/** --db FILE, else $WHYDENIED_DB, else ./data/whydenied.db. */
export function resolveDbPath (flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env.WHYDENIED_DB || DEFAULT_DB)
}

export function loadConfig (overrides: Partial<AppConfig> = {}, env: NodeJS.ProcessEnv = process.env): AppConfig {
  const port = Number(env.WHYDENIED_PORT ?? 3000)
  return {
    dbPath: resolveDbPath(undefined, env),
    host: env.WHYDENIED_HOST ?? '127.0.0.1',
    port: Number.isInteger(port) ? port : 3000,
    logLevel: env.WHYDENIED_LOG_LEVEL ?? 'info',
    token: env.WHYDENIED_TOKEN || null,
    trustProxy: false,
    maxUploadBytes: 64 * 1024 * 1024,
    productionViews: env.NODE_ENV !== 'development',
    stsIdentitiesFile: env.WHYDENIED_STS_IDENTITIES || null,
    stsTtlSeconds: env.WHYDENIED_STS_TTL ? Number(env.WHYDENIED_STS_TTL) : null,
    stsEndpoint: env.WHYDENIED_STS_ENDPOINT || null,
    stsSecret: env.WHYDENIED_STS_SECRET || null,
    teamsFile: env.WHYDENIED_TEAMS || null,
    ...overrides
  }
}
