/** GET /api/denials (search with facets) and GET /api/denials/:id (the whole record). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../util/typebox.js'
import { DenialDetailSchema, DenialQuerySchema, SearchResultSchema } from '../../schemas/denials.js'
import { ErrorBodySchema } from '../../schemas/errors.js'
import { DenialNotFoundError } from '../../errors.js'
import { toFilters } from '../../services/filters.js'
import { policiesOf } from '../../services/policies.js'
import { PoliciesSchema } from '../../schemas/policies.js'

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
      summary: 'One denial: parsed fields, conditions, statements, failures, occurrences, raw JSON, and what the policy snapshot says (policies)',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      response: { 200: Type.Object({ ...DenialDetailSchema.properties, policies: PoliciesSchema }), 404: ErrorBodySchema }
    }
  }, async (req) => {
    const d = app.repos.denials.get(req.params.id)
    if (!d) throw new DenialNotFoundError(String(req.params.id))
    const { policyIds, applicable, ...policies } = policiesOf(app.repos, d)
    void policyIds
    void applicable
    return { ...d, policies }
  })
}

export default denials
