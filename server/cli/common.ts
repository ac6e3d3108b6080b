/** Helpers shared by the CLI commands: the --db option, output, and turning errors into exit codes. */
import type { Command } from 'commander'
import { resolveDbPath } from '../config.js'

export interface DbOption { db?: string }

/** Every command takes --db FILE (default: $WHYDENIED_DB, else ./data/whydenied.db). */
export function withDb (cmd: Command): Command {
  return cmd.option('--db <file>', 'SQLite database file (default: $WHYDENIED_DB, else ./data/whydenied.db; created on first use)')
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

/** A --port value: a whole number from 0 (pick a free port) to 65535. */
export function parsePort (value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port ${value} is not a port number`)
  return port
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
