/** GET /api/reports: the team report as JSON (the same model as `whydenied report --format json`). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { reportFor } from '../../reports/query.js'
import { ReportQuerySchema, ReportSchema } from '../../schemas/reports.js'
import { ErrorBodySchema } from '../../schemas/errors.js'
import { fixResolver } from '../../services/policies.js'

const reportsApi: FastifyPluginAsyncTypebox = async (app) => {
  const repo = app.repos.reports
  app.get('/reports', {
    schema: { querystring: ReportQuerySchema, tags: ['reports'], summary: 'Recurring denials per team, compared with the previous period', response: { 200: ReportSchema, 400: ErrorBodySchema } }
  }, async (req) => reportFor(repo, app.config.teamsFile, req.query, fixResolver(app.repos)))
}

export default reportsApi
