/** Configuration: the one place that reads the environment (validated by one schema); everything else receives an AppConfig. */
import path from 'node:path'
import { Type, Value, type Static, type TSchema } from './util/typebox.js'
import { BadEnvironmentError } from './errors.js'

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
export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_PORT = 3000
/** The longest lifetime of a minted message (ten years), for --ttl, ?ttl= and $WHYDENIED_STS_TTL. */
export const MAX_TTL_SECONDS = 10 * 365 * 86400

export const LogLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const Text = (description: string): TSchema => Type.String({ minLength: 1, maxLength: 4096, description })

/** Every environment variable whydenied reads. The descriptions are what an error message tells the user to give. */
export const EnvSchema = Type.Object({
  WHYDENIED_DB: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'a database file path' })),
  WHYDENIED_HOST: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'an address or host name to bind' })),
  WHYDENIED_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'a port number from 0 (pick a free one) to 65535' })),
  WHYDENIED_LOG_LEVEL: Type.Optional(Type.Union(LogLevels.map(l => Type.Literal(l)), { description: `one of ${LogLevels.join(', ')}` })),
  WHYDENIED_TOKEN: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'an access token' })),
  WHYDENIED_STS_IDENTITIES: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'an identities file path' })),
  WHYDENIED_STS_TTL: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_TTL_SECONDS, description: `whole seconds from 0 (never expire) to ${MAX_TTL_SECONDS}` })),
  WHYDENIED_STS_ENDPOINT: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, pattern: '^https?://', description: 'an http:// or https:// URL' })),
  WHYDENIED_STS_SECRET: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'a secret' })),
  WHYDENIED_TEAMS: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'a teams file path' })),
  NODE_ENV: Type.Optional(Text('a Node environment name'))
})
export type Env = Static<typeof EnvSchema>

/**
 * The variables of EnvSchema from `env`, converted and checked; throws BadEnvironmentError naming the
 * first bad variable. An empty variable counts as unset (as `WHYDENIED_TOKEN= whydenied serve` means).
 */
export function readEnv (env: NodeJS.ProcessEnv = process.env): Env {
  const raw: Record<string, string> = {}
  for (const name of Object.keys(EnvSchema.properties)) {
    const v = env[name]
    if (v !== undefined && v !== '') raw[name] = v
  }
  const value = Value.Convert(EnvSchema, { ...raw }) as Record<string, unknown>
  for (const [name, schema] of Object.entries(EnvSchema.properties) as Array<[string, TSchema & { type?: string, description?: string }]>) {
    if (raw[name] === undefined) continue
    // Value.Convert also turns "1.5", "0x10" or "1e3" into numbers: a whole number is decimal digits only.
    const digitsOnly = schema.type !== 'integer' || /^[0-9]{1,10}$/.test(raw[name].trim())
    if (!digitsOnly || !Value.Check(schema, value[name])) throw new BadEnvironmentError(name, raw[name], schema.description ?? 'a valid value')
  }
  return value as Env
}

/** --db FILE, else $WHYDENIED_DB, else ./data/whydenied.db. */
export function resolveDbPath (flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? readEnv(env).WHYDENIED_DB ?? DEFAULT_DB
}

export function loadConfig (overrides: Partial<AppConfig> = {}, env: NodeJS.ProcessEnv = process.env): AppConfig {
  const e = readEnv(env)
  return {
    dbPath: e.WHYDENIED_DB ?? DEFAULT_DB,
    host: e.WHYDENIED_HOST ?? DEFAULT_HOST,
    port: e.WHYDENIED_PORT ?? DEFAULT_PORT,
    logLevel: e.WHYDENIED_LOG_LEVEL ?? 'info',
    token: e.WHYDENIED_TOKEN ?? null,
    trustProxy: false,
    maxUploadBytes: 64 * 1024 * 1024,
    productionViews: e.NODE_ENV !== 'development',
    stsIdentitiesFile: e.WHYDENIED_STS_IDENTITIES ?? null,
    // 0 means never expire, as for --ttl.
    stsTtlSeconds: e.WHYDENIED_STS_TTL ? e.WHYDENIED_STS_TTL : null,
    stsEndpoint: e.WHYDENIED_STS_ENDPOINT ?? null,
    stsSecret: e.WHYDENIED_STS_SECRET ?? null,
    teamsFile: e.WHYDENIED_TEAMS ?? null,
    ...overrides
  }
}
