/** Helpers shared by the CLI commands: the --db option, output, and turning errors into exit codes. */
import { InvalidArgumentError, Option, type Command } from 'commander'
import { LogLevels, MAX_TTL_SECONDS, readEnv, resolveDbPath } from '../config.js'

export interface DbOption { db?: string }

/** Every command takes --db FILE (default: $WHYDENIED_DB, else ./data/whydenied.db). */
export function withDb (cmd: Command): Command {
  return cmd.option('--db <file>', 'SQLite database file (default: $WHYDENIED_DB, else ./data/whydenied.db; import, decode --store, mock-sts and serve create it)')
}

export function dbPath (opts: DbOption): string {
  return resolveDbPath(opts.db)
}

/** Exit codes shared by all commands. */
export const Exit = { ok: 0, failed: 1, partial: 2 } as const

/** Print a one-line error to stderr and exit 1: a person sees the cause, not a stack trace. */
export function fail (err: unknown): never {
  const msg = err instanceof Error ? err.message : String(err)
  process.stderr.write(`whydenied: ${msg}\n`)
  process.exit(Exit.failed)
}

/**
 * A commander argParser for a whole number from min to max; `hint` says what to give. Decimal digits
 * only: Number() would also take "1e3", "0x10" or " ".
 */
export function wholeNumber (min: number, max: number, hint: string): (value: string) => number {
  return (value) => {
    const n = /^[0-9]{1,15}$/.test(value) ? Number(value) : NaN
    if (!(n >= min && n <= max)) throw new InvalidArgumentError(hint)
    return n
  }
}

/** --port: a whole number from 0 (pick a free port) to 65535. */
export const parsePort = wholeNumber(0, 65535, 'Give a port number from 0 (pick a free one) to 65535.')

const ttlNumber = wholeNumber(0, MAX_TTL_SECONDS, `Give whole seconds from 0 (never expires) to ${MAX_TTL_SECONDS}.`)
/** --ttl SECONDS → seconds, or null for 0 (never expires). */
export function parseTtl (value: string): number | null {
  const n = ttlNumber(value)
  return n === 0 ? null : n
}

/** --log-level: the log levels of $WHYDENIED_LOG_LEVEL. */
export function logLevelOption (): Option {
  return new Option('--log-level <level>', 'log level (default: $WHYDENIED_LOG_LEVEL, else warn: one line per start, none per request; info logs every request as JSON)').choices(LogLevels)
}

/**
 * The log level of a server command: --log-level, else --quiet (warn), else $WHYDENIED_LOG_LEVEL, else
 * warn. A person starting it sees its URL, not a JSON line per request; the environment still gives more.
 */
export function serverLogLevel (opts: { logLevel?: string, quiet?: boolean }): string {
  return opts.logLevel ?? (opts.quiet ? 'warn' : readEnv().WHYDENIED_LOG_LEVEL ?? 'warn')
}

/**
 * Listening failed: EADDRINUSE and EACCES say what to do (choose another port), anything else as it is.
 * `portFlag` is how this command sets its port.
 */
export function listenFailure (err: unknown, host: string, port: number, portFlag: string): unknown {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'EADDRINUSE') return new Error(`port ${port} on ${host} is taken: another whydenied, or another program, is listening there. Choose another port with ${portFlag}, or --port 0 to pick a free one`)
  if (code === 'EACCES') return new Error(`not allowed to listen on port ${port} on ${host} (ports below 1024 need privileges). Choose another port with ${portFlag}, or --port 0 to pick a free one`)
  if (code === 'EADDRNOTAVAIL') return new Error(`cannot listen on ${host}: it is not an address of this machine. Choose another with --host`)
  return err
}

export function collect (value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/** Read all of stdin as a Buffer. */
export async function readStdin (): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}
