/** Helpers shared by the CLI commands: the --db option, output, and turning errors into exit codes. */
import { InvalidArgumentError, type Command } from 'commander'
import { MAX_TTL_SECONDS, resolveDbPath } from '../config.js'

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

export function collect (value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/** Read all of stdin as a Buffer. */
export async function readStdin (): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}
