/** Time windows as people type them: ISO dates and instants, or "30d", "12h", "2w" ago. */

const RELATIVE = /^(\d{1,5})\s*([mhdw])$/i
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/**
 * Resolve a `since`/`until` bound to an ISO instant. A bare date means the start of that day (UTC)
 * for `since`, and the end of that day for `until` (the window is half-open: [since, until)).
 */
export function resolveBound (value: string, kind: 'since' | 'until', now = new Date()): string {
  const v = value.trim()
  const rel = RELATIVE.exec(v)
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNIT_MS[rel[2]!.toLowerCase()]!).toISOString()
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const t = Date.parse(`${v}T00:00:00Z`)
    if (Number.isNaN(t)) throw new RangeError(`"${value}" is not a valid date`)
    return new Date(kind === 'until' ? t + UNIT_MS.d! : t).toISOString()
  }
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(v)) {
    const t = Date.parse(v)
    if (!Number.isNaN(t)) return new Date(t).toISOString()
  }
  throw new RangeError(`"${value}" is not a date (YYYY-MM-DD), an ISO-8601 instant, or a span such as 30d, 12h, 2w`)
}
