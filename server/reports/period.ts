/** Report periods and the comparison with the period before: new, ongoing, growing, quiet. */
import { BadPeriodError } from '../errors.js'
import { resolveBound } from '../util/time.js'

export interface Period {
  /** The reported period [since, until), ISO instants. */
  since: string
  until: string
  /** The period of the same length just before it: [previousSince, since). */
  previousSince: string
}

export const Statuses = ['new', 'growing', 'ongoing', 'quiet'] as const
export type Status = (typeof Statuses)[number]

/**
 * "Growing" means clearly more than before: at least GROWTH_FACTOR times the previous period's
 * occurrences AND at least GROWTH_MIN_INCREASE more. The absolute floor keeps 1 → 2 from being
 * called growth; the factor keeps 1000 → 1003 from being called growth.
 */
export const GROWTH_FACTOR = 1.5
export const GROWTH_MIN_INCREASE = 3

/** Default: the 30 days before now. `since` takes 30d/12h/2w, a date or an instant; `until` a date (inclusive) or instant. */
export function resolvePeriod (since: string | undefined, until: string | undefined, now = new Date()): Period {
  let u: string
  let s: string
  try {
    u = until ? resolveBound(until, 'until', now) : now.toISOString()
    // A relative since counts back from the period's end, so --until 2026-10-31 --since 7d is that week.
    s = since ? resolveBound(since, 'since', new Date(u)) : new Date(Date.parse(u) - 30 * 86_400_000).toISOString()
  } catch (err) {
    throw new BadPeriodError((err as Error).message)
  }
  if (s >= u) throw new BadPeriodError(`the period is empty: since ${s} is not before until ${u}`)
  const len = Date.parse(u) - Date.parse(s)
  if (len > 3660 * 86_400_000) throw new BadPeriodError('the period is longer than ten years')
  return { since: s, until: u, previousSince: new Date(Date.parse(s) - len).toISOString() }
}

export function statusOf (current: number, previous: number): Status | null {
  if (current === 0) return previous > 0 ? 'quiet' : null
  if (previous === 0) return 'new'
  if (current >= previous * GROWTH_FACTOR && current - previous >= GROWTH_MIN_INCREASE) return 'growing'
  return 'ongoing'
}

/** The UTC days (YYYY-MM-DD) that the period touches, oldest first (at most 400). */
export function daysOf (p: { since: string, until: string }): string[] {
  const out: string[] = []
  let t = Date.parse(p.since.slice(0, 10) + 'T00:00:00Z')
  const end = Date.parse(p.until)
  while (t < end && out.length < 400) {
    out.push(new Date(t).toISOString().slice(0, 10))
    t += 86_400_000
  }
  return out
}
