/** GET /api/denials (search with facets) and GET /api/denials/:id (the whole record). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DenialQuerySchema, SearchResultSchema, type DenialFilters } from '../../schemas/denials.js'
import { BadFilterError, DenialNotFoundError } from '../../errors.js'
import { resolveBound } from '../../util/time.js'

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
    since: bound(q.since, 'since'),
    until: bound(q.until, 'until'),
    q: q.q || undefined
  }
}

const denials: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/denials', {
    schema: {
      tags: ['denials'],
      summary: 'Search denials',
      querystring: DenialQuerySchema,
      response: { 200: SearchResultSchema }
    }
  }, async (req) => {
    const { search } = app.repos
    return search.search(toFilters(req.query), { limit: req.query.limit, cursor: req.query.cursor, sort: req.query.sort, facets: req.query.facets })
  })

  app.get('/denials/:id', {
    schema: {
      tags: ['denials'],
      summary: 'One denial: parsed fields, conditions, statements, failures, occurrences and raw JSON',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) })
    }
  }, async (req) => {
    const d = app.repos.denials.get(req.params.id)
    if (!d) throw new DenialNotFoundError(String(req.params.id))
    return d
  })
}

export default denials
