/**
 * The denial list's whole state lives in its query string, so every view is a permalink. This module
 * turns that state into links: add or remove a filter, change the sort, go to the next page.
 */
import type { DenialFilters, DenialQuery, SortOrder } from '../../schemas/denials.js'

/** The single-valued filters, in the order they appear in URLs. */
export const SCALAR_FILTERS = ['q', 'action', 'service', 'principal', 'account', 'resource', 'decision', 'kind', 'policyType', 'policyArn', 'since', 'until'] as const satisfies ReadonlyArray<keyof DenialFilters>
export type ScalarFilter = (typeof SCALAR_FILTERS)[number]

/**
 * The filters of DenialFiltersSchema as they appear in links (trimmed, empty ones left out; a facet's
 * value is any string, checked by the schema when the link is followed), the sort and the page.
 */
export type ListState = { [K in ScalarFilter]?: string | undefined } & Required<Pick<DenialFilters, 'condition'>> & {
  sort: SortOrder
  limit?: number | undefined
  cursor?: string | undefined
}

export const DEFAULT_PAGE_SIZE = 50

export function stateFromQuery (q: DenialQuery): ListState {
  const s: ListState = { condition: (q.condition ?? []).filter(c => c.trim() !== ''), sort: q.sort ?? 'lastSeen' }
  for (const k of SCALAR_FILTERS) {
    const v = q[k]
    if (typeof v === 'string' && v.trim() !== '') s[k] = v.trim()
  }
  if (q.limit !== undefined && q.limit !== DEFAULT_PAGE_SIZE) s.limit = q.limit
  if (q.cursor) s.cursor = q.cursor
  return s
}

/** The URL of a state: empty values and defaults are left out, so equal views have equal URLs. */
export function listHref (s: ListState): string {
  const p = new URLSearchParams()
  for (const k of SCALAR_FILTERS) {
    const v = s[k]
    if (v) p.append(k, v)
  }
  for (const c of s.condition) p.append('condition', c)
  if (s.sort !== 'lastSeen') p.append('sort', s.sort)
  if (s.limit !== undefined) p.append('limit', String(s.limit))
  if (s.cursor) p.append('cursor', s.cursor)
  const qs = p.toString()
  return qs === '' ? '/denials' : `/denials?${qs}`
}

/** A copy of the state, back on the first page (any filter change invalidates the cursor). */
function firstPage (s: ListState): ListState {
  return { ...s, condition: [...s.condition], cursor: undefined }
}

/** The key of a condition filter entry (`KEY` or `KEY=VALUE`), lower-cased: IAM keys ignore case. */
export function conditionKeyOf (entry: string): string {
  const eq = entry.indexOf('=')
  return (eq < 0 ? entry : entry.slice(0, eq)).trim().toLowerCase()
}

/** Toggle a single-valued filter: set it to `value`, or remove it when it already is `value`. */
export function toggleScalar (s: ListState, key: ScalarFilter, value: string): { href: string, active: boolean } {
  const active = s[key] === value
  const next = firstPage(s)
  next[key] = active ? undefined : value
  return { href: listHref(next), active }
}

/** Toggle "condition key present": add `KEY`, or remove every filter on that key. */
export function toggleConditionKey (s: ListState, key: string): { href: string, active: boolean } {
  const k = key.toLowerCase()
  const active = s.condition.some(c => conditionKeyOf(c) === k)
  const next = firstPage(s)
  next.condition = active ? s.condition.filter(c => conditionKeyOf(c) !== k) : [...s.condition, key]
  return { href: listHref(next), active }
}

/** Toggle `KEY=VALUE`: it replaces the other filters on that key, and clicking it again goes back to `KEY`. */
export function toggleConditionValue (s: ListState, key: string, value: string): { href: string, active: boolean } {
  const k = key.toLowerCase()
  const entry = `${key}=${value}`
  const active = s.condition.some(c => conditionKeyOf(c) === k && c.slice(c.indexOf('=') + 1) === value && c.includes('='))
  const next = firstPage(s)
  const others = s.condition.filter(c => conditionKeyOf(c) !== k)
  next.condition = active ? [...others, key] : [...others, entry]
  return { href: listHref(next), active }
}

/** Remove one filter (for the "active filters" chips). */
export function withoutScalar (s: ListState, key: ScalarFilter): string {
  const next = firstPage(s)
  next[key] = undefined
  return listHref(next)
}

export function withoutCondition (s: ListState, index: number): string {
  const next = firstPage(s)
  next.condition = s.condition.filter((_, i) => i !== index)
  return listHref(next)
}

export function withSort (s: ListState, sort: ListState['sort']): string {
  const next = firstPage(s)
  next.sort = sort
  return listHref(next)
}

export function withCursor (s: ListState, cursor: string): string {
  return listHref({ ...s, cursor })
}

/** A link to the list filtered by exactly this (from the denial page). */
export function filterHref (filters: Partial<Record<ScalarFilter, string>> & { condition?: string[] }): string {
  return listHref({ condition: filters.condition ?? [], sort: 'lastSeen', ...filters })
}
