/**
 * GET /reports: the team report in the app (a form for team, period and redaction; the report in the
 * layout; download links for every format). GET /reports/download: one format as a file (html is the
 * standalone page). GET /reports/report.css: the report's stylesheet (the app's CSP allows no inline CSS).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import { ReportsRepository } from '../../db/repositories/reports.js'
import {
  buildReport, CONTENT_TYPES, EMPTY_TEAMS, Formats, loadTeamsFile, render, reportCss, reportView, resolvePeriod, UNASSIGNED,
  type Format, type Report, type TeamsConfig
} from '../../reports/index.js'
import { layoutModel } from '../../views/layout.js'

export const ReportQuerySchema = Type.Object({
  team: Type.Optional(Type.String({ maxLength: 100, description: 'One team of the teams file, or "unassigned"; empty or absent: all teams' })),
  since: Type.Optional(Type.String({ maxLength: 40, description: 'Start: 30d, 2w, 12h back from until, a date or an ISO instant (default 30d)' })),
  until: Type.Optional(Type.String({ maxLength: 40, description: 'End: a date (inclusive) or an ISO instant (default now)' })),
  redact: Type.Optional(Type.Union(['1', '0', 'on', 'true', 'false', ''].map(v => Type.Literal(v)), { description: 'Replace identifiers with stable pseudonyms' })),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000, description: 'Groups listed per team and list (0: all; default 50)' }))
})
export type ReportQuery = Static<typeof ReportQuerySchema>

const PageQuery = Type.Object({ ...ReportQuerySchema.properties, format: Type.Optional(Type.Union([Type.Literal('html'), Type.Literal('json')], { description: 'json: the report model instead of the page' })) })
const DownloadQuery = Type.Object({ ...ReportQuerySchema.properties, format: Type.Union(Formats.map(f => Type.Literal(f)), { description: 'html (standalone page), md, json or csv' }) })

const isOn = (v: string | undefined): boolean => v === '1' || v === 'on' || v === 'true'

/** Read the teams file on every request: editing it re-attributes history without a restart. */
export function teamsFor (file: string | null): TeamsConfig {
  return file ? loadTeamsFile(file) : EMPTY_TEAMS
}

/** Build the report a query asks for (errors carry statusCode 400 with a message a person can act on). */
export function reportFor (repo: ReportsRepository, teamsFile: string | null, q: ReportQuery): Report {
  const period = resolvePeriod(q.since || undefined, q.until || undefined)
  return buildReport(repo, { period, teams: teamsFor(teamsFile), team: q.team || null, redact: isOn(q.redact), limit: q.limit })
}

function queryString (q: ReportQuery, format?: Format): string {
  const p = new URLSearchParams()
  if (q.team) p.set('team', q.team)
  if (q.since) p.set('since', q.since)
  if (q.until) p.set('until', q.until)
  if (isOn(q.redact)) p.set('redact', '1')
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
  const repo = new ReportsRepository(app.db)

  app.get('/reports/report.css', async (_req, reply) => {
    return reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(reportCss())
  })

  app.get('/reports', { schema: { querystring: PageQuery } }, async (req, reply) => {
    const q = req.query
    const file = app.config.teamsFile
    let teams: TeamsConfig = EMPTY_TEAMS
    let report: Report | null = null
    let problem: string | null = null
    let status = 200
    try {
      teams = teamsFor(file)
      report = reportFor(repo, file, q)
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
        redact: isOn(q.redact)
      },
      teamsFile: file,
      problem,
      downloads: report ? Formats.map((f, i) => ({ href: `/reports/download?${queryString(q, f)}`, label: f === 'html' ? 'HTML (standalone)' : f === 'md' ? 'Markdown' : f.toUpperCase(), last: i === Formats.length - 1 })) : null,
      // Drawn by the report partials, as in the standalone file.
      report: report ? reportView(report) : null
    })
  })

  app.get('/reports/download', { schema: { querystring: DownloadQuery } }, async (req, reply) => {
    const report = reportFor(repo, app.config.teamsFile, req.query)
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
