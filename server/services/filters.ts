/** The search filters of GET /api/denials, the denial list page and `whydenied search`, turned into repository filters. */
import type { DenialQuery } from '../schemas/denials.js'
import type { DenialFilters } from '../db/repositories/search.js'
import { BadFilterError } from '../errors.js'
import { resolveBound } from '../util/time.js'

/** Query string → repository filters, resolving relative periods against now. */
export function toFilters (q: DenialQuery, now = new Date()): DenialFilters {
  const bound = (v: string | undefined, kind: 'since' | 'until'): string | undefined => {
    if (!v) return undefined
    try {
      return resolveBound(v, kind, now)
    } catch (err) {
      throw new BadFilterError(`${kind}: ${(err as Error).message}`)
    }
  }
  return {
    action: q.action || undefined,
    service: q.service || undefined,
    principal: q.principal || undefined,
    account: q.account || undefined,
    resource: q.resource || undefined,
    condition: q.condition?.filter(c => c !== ''),
    decision: q.decision,
    since: bound(q.since, 'since'),
    until: bound(q.until, 'until'),
    q: q.q || undefined
  }
}
