/**
 * GET /reports: the team report in the app (a form for team, period and redaction; the report in the
 * layout; download links for every format). GET /reports/download: one format as a file (html is the
 * standalone page). GET /reports/report.css: the report's stylesheet (the app's CSP allows no inline CSS).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '../../util/typebox.js'
import {
  CONTENT_TYPES, EMPTY_TEAMS, Formats, loadTeamsFile, render, reportCss, reportView, UNASSIGNED,
  type Format, type Report, type TeamsConfig
} from '../../reports/index.js'
import { isOn, reportFor, teamsFor } from '../../reports/query.js'
import { ReportQuerySchema, type ReportQuery } from '../../schemas/reports.js'
import { layoutModel } from '../../render/layout.js'
import { fixResolver } from '../../services/policies.js'
import { ReportSchema, twinSchema, twinSerializer } from '../../schemas/pages.js'

const PageQuery = Type.Object({ ...ReportQuerySchema.properties, format: Type.Optional(Type.Union([Type.Literal('html'), Type.Literal('json')], { description: 'json: the report model instead of the page' })) })
const DownloadQuery = Type.Object({ ...ReportQuerySchema.properties, format: Type.Union(Formats.map(f => Type.Literal(f)), { description: 'html (standalone page), md, json or csv' }) })

function queryString (q: ReportQuery, format?: Format): string {
  const p = new URLSearchParams()
  if (q.team) p.set('team', q.team)
  if (q.since) p.set('since', q.since)
  if (q.until) p.set('until', q.until)
  if (isOn(q.redact)) p.set('redact', '1')
  if (q.kind) p.set('kind', q.kind)
  if (q.limit !== undefined) p.set('limit', String(q.limit))
  if (format) p.set('format', format)
  return p.toString()
}

export function fileName (r: Report, format: Format): string {
  const team = (r.team ?? 'all-teams').replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 60)
  return `whydenied-report-${team}-${r.period.since.slice(0, 10)}${r.redacted ? '-redacted' : ''}.${format}`
}

const reportPages: FastifyPluginAsyncTypebox = async (app) => {
  // Fail at boot on a broken teams file; it is read again for every report, so later edits apply at once.
  if (app.config.teamsFile) loadTeamsFile(app.config.teamsFile)
  const repo = app.repos.reports

  app.get('/reports/report.css', async (_req, reply) => {
    return reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(reportCss())
  })

  app.get('/reports', { schema: twinSchema('Team reports: the report model (as GET /api/reports)', ReportSchema, { querystring: PageQuery }), serializerCompiler: twinSerializer }, async (req, reply) => {
    const q = req.query
    const file = app.config.teamsFile
    let teams: TeamsConfig = EMPTY_TEAMS
    let report: Report | null = null
    let problem: string | null = null
    let status = 200
    try {
      teams = teamsFor(file)
      report = reportFor(repo, file, q, fixResolver(app.repos))
    } catch (err) {
      const e = err as Error & { statusCode?: number }
      if (e.statusCode === undefined || e.statusCode >= 500) throw err
      if (q.format === 'json') throw err
      problem = e.message
      status = 400
    }
    if (q.format === 'json') return report
    return renderPage(req, reply, status, {
      form: {
        teams: [{ value: '', label: 'All teams', selected: !q.team }, ...[...teams.teams.map(t => t.name), UNASSIGNED].map(n => ({ value: n, label: n, selected: q.team === n }))],
        since: q.since ?? '30d',
        until: q.until ?? '',
        redact: isOn(q.redact),
        kinds: [{ value: '', label: 'Decoded and text, together', selected: !q.kind }, { value: 'decoded', label: 'Decoded messages only', selected: q.kind === 'decoded' }, { value: 'text', label: 'Access-denied text only', selected: q.kind === 'text' }]
      },
      teamsFile: file,
      problem,
      downloads: report ? Formats.map(f => ({ href: `/reports/download?${queryString(q, f)}`, label: f === 'html' ? 'HTML (standalone)' : f === 'md' ? 'Markdown' : f.toUpperCase() })) : null,
      // An empty report says why: nothing stored at all, or nothing in this period.
      noData: report !== null && app.repos.stats.totals(null).denials === 0,
      widerHref: `/reports?${queryString({ ...q, since: '90d', until: undefined })}`,
      // Drawn by the report partials, as in the standalone file.
      report: report ? reportView(report) : null
    })
  })

  app.get('/reports/download', { schema: { querystring: DownloadQuery } }, async (req, reply) => {
    const report = reportFor(repo, app.config.teamsFile, req.query, fixResolver(app.repos))
    const format = req.query.format
    return reply
      .type(CONTENT_TYPES[format])
      .header('content-disposition', `attachment; filename="${fileName(report, format)}"`)
      .send(render(report, format))
  })
}

async function renderPage (req: FastifyRequest, reply: FastifyReply, status: number, model: Record<string, unknown>): Promise<unknown> {
  return reply.code(status).viewAsync('reports/page.hbs', { ...layoutModel(req, reply, 'Team reports', 'reports'), ...model })
}

export default reportPages
