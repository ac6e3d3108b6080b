/**
 * Checking a shared token: constant-time comparison, the bearer header, and a limit on wrong tokens per
 * client address. Used by the security plugin (serve) and by the mock STS's encode route (mock-sts --token).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { TooManyAttemptsError } from '../errors.js'

/** Wrong tokens (bearer header or sign-in form) one client address may send per window. */
export const AUTH_FAILURE_LIMIT = 10
export const AUTH_FAILURE_WINDOW_MS = 60_000
/** Bound on the client addresses whose failures are remembered. */
const MAX_TRACKED = 10_000

/** Constant-time comparison of two secrets of any length. */
export function sameSecret (given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

/** The token of an `Authorization: Bearer` header; '' for any other Authorization; null without one. */
export function bearerOf (req: FastifyRequest): string | null {
  const auth = req.headers.authorization
  if (auth === undefined) return null
  return /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1] ?? ''
}

/**
 * Wrong tokens per client address, in fixed windows. Hand-written rather than @fastify/rate-limit on
 * purpose: that plugin counts every request it sees (we count failures only), cannot tell whether a
 * client is over without counting it, and its limiter is async, so a burst of concurrent guesses
 * would all be compared before the first one was counted. Here the check before the secret is
 * compared and the count after it happen in the same synchronous step: exactly `max` wrong tokens
 * per window, and past that not even the right one is compared (429 vs 200 would otherwise tell).
 */
export class FailureCounter {
  private readonly windows = new Map<string, { count: number, resetAt: number }>()

  constructor (private readonly max: number, private readonly windowMs: number, private readonly cap = MAX_TRACKED, private readonly now: () => number = Date.now) {}

  /** Seconds this client must wait before trying a token again (0: it may try now). */
  retryAfter (key: string): number {
    const w = this.windows.get(key)
    if (w === undefined) return 0
    const left = w.resetAt - this.now()
    if (left <= 0) {
      this.windows.delete(key)
      return 0
    }
    return w.count >= this.max ? Math.ceil(left / 1000) : 0
  }

  /** Count a wrong token. */
  fail (key: string): void {
    const now = this.now()
    const w = this.windows.get(key)
    if (w !== undefined && w.resetAt > now) {
      w.count++
      return
    }
    if (this.windows.size >= this.cap) {
      for (const [k, old] of this.windows) if (old.resetAt <= now) this.windows.delete(k)
      // Still full (a flood from many addresses): forget the oldest window first.
      if (this.windows.size >= this.cap) this.windows.delete(this.windows.keys().next().value!)
    }
    this.windows.set(key, { count: 1, resetAt: now + this.windowMs })
  }
}

/** Refuse with 429 and Retry-After. */
export function tooManyAttempts (reply: FastifyReply, seconds: number): never {
  reply.header('retry-after', String(seconds))
  throw new TooManyAttemptsError(seconds)
}
