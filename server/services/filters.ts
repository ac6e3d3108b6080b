/** The search filters of GET /api/denials, the denial list page and `whydenied search`, turned into repository filters. */
import type { DenialFilters } from '../schemas/denials.js'
import { BadFilterError } from '../errors.js'
import { resolveBound } from '../util/time.js'

/** Filters as given (query string, page state, CLI options) → repository filters: empty ones dropped, periods resolved against now. */
export function toFilters (q: DenialFilters, now = new Date()): DenialFilters {
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
    kind: q.kind,
    policyType: q.policyType,
    policyArn: q.policyArn || undefined,
    since: bound(q.since, 'since'),
    until: bound(q.until, 'until'),
    q: q.q || undefined
  }
}
