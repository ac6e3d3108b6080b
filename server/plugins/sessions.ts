/**
 * Sign-in sessions, kept in memory: each sign-in gets its own random id, and Sign out ends it.
 * In memory rather than in SQLite on purpose: a session is worth nothing once the server that issued
 * it is gone (signing in again takes the token, which the user has), nothing secret lands in the
 * database file (which people copy and share), and no schema change is needed. Sessions therefore
 * last as long as the server process, at most SESSION_TTL_MS each.
 */
import { createHash, randomBytes } from 'node:crypto'

export const SESSION_TTL_MS = 30 * 86_400_000
/** Bound on live sessions: sign-ins beyond it push out the oldest (a Map iterates in insertion order). */
export const MAX_SESSIONS = 10_000

export class SessionStore {
  /** SHA-256 of the id → expiry (ms). Only hashes are kept, so a heap dump holds no usable cookie. */
  private readonly sessions = new Map<string, number>()

  constructor (private readonly ttlMs = SESSION_TTL_MS, private readonly max = MAX_SESSIONS, private readonly now: () => number = Date.now) {}

  /** Start a session; the returned id (256 random bits, base64url) goes into the cookie. */
  create (): string {
    const id = randomBytes(32).toString('base64url')
    if (this.sessions.size >= this.max) this.prune()
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!)
    this.sessions.set(hash(id), this.now() + this.ttlMs)
    return id
  }

  has (id: string | undefined): boolean {
    if (!id || id.length > 100) return false
    const key = hash(id)
    const expires = this.sessions.get(key)
    if (expires === undefined) return false
    if (expires <= this.now()) {
      this.sessions.delete(key)
      return false
    }
    return true
  }

  revoke (id: string | undefined): void {
    if (id && id.length <= 100) this.sessions.delete(hash(id))
  }

  get size (): number {
    return this.sessions.size
  }

  private prune (): void {
    const now = this.now()
    for (const [k, expires] of this.sessions) if (expires <= now) this.sessions.delete(k)
  }
}

function hash (id: string): string {
  return createHash('sha256').update(id).digest('base64url')
}
