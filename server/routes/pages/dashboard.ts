/** GET / : the dashboard: totals for a period, denials per day, the most recurring denials, the latest imports. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../util/typebox.js'
import type { StatsRepository } from '../../db/repositories/stats.js'
import { barChart } from '../../render/chart.js'
import { formatDay, formatInstant, formatNumber } from '../../render/helpers.js'
import { resolvePeriod } from '../../reports/period.js'
import { layoutModel } from '../../render/layout.js'
import { denialRow, FormatParam, importRow } from './view-models.js'
import { DashboardTwinSchema, twinSchema, twinSerializer } from '../../schemas/pages.js'

export const PERIODS = [
  { id: '7d', label: '7 days', days: 7 },
  { id: '30d', label: '30 days', days: 30 },
  { id: '90d', label: '90 days', days: 90 },
  { id: '365d', label: '1 year', days: 365 },
  { id: 'all', label: 'All time', days: null }
] as const
export type PeriodId = (typeof PERIODS)[number]['id']

const DashboardQuery = Type.Object({
  period: Type.Optional(Type.Union(PERIODS.map(p => Type.Literal(p.id)), { default: '30d', description: 'Period the totals, chart and top list cover' })),
  format: FormatParam
})

/**
 * The start of the period: "30 days" is the 30 × 24 hours up to now, exactly as a report's
 * `since=30d` and the denial list's `since=30d` (one definition: resolvePeriod), so the same data
 * gives the same counts on every page.
 */
export function periodStart (days: number | null, now: Date): string | null {
  if (days === null) return null
  return resolvePeriod(`${days}d`, undefined, now).since
}

const dashboard: FastifyPluginAsyncTypebox<{ stats: StatsRepository }> = async (app, opts) => {
  const { stats } = opts

  app.get('/', { schema: twinSchema('The dashboard: totals, occurrences per day, most recurring denials, latest imports', DashboardTwinSchema, { querystring: DashboardQuery }), serializerCompiler: twinSerializer }, async (req, reply) => {
    const now = new Date()
    const periodId: PeriodId = req.query.period ?? '30d'
    const period = PERIODS.find(p => p.id === periodId)!
    const since = periodStart(period.days, now)
    const totals = stats.totals(since)
    const perDay = stats.perDay(since)
    const recurring = stats.mostRecurring(since, 10)
    const imports = app.repos.imports.list(8)

    if (req.query.format === 'json') {
      return { period: period.id, since, until: now.toISOString(), totals, perDay, mostRecurring: recurring, latestImports: imports }
    }

    const chartFrom = since ?? stats.firstOccurrence() ?? now.toISOString()
    // Nothing stored at all (an import whose records were all rejected stores none): the empty state.
    const empty = (since === null ? totals : stats.totals(null)).denials === 0
    return reply.viewAsync('pages/dashboard.hbs', {
      ...layoutModel(req, reply, 'Dashboard', 'dashboard'),
      periods: PERIODS.map(p => ({ label: p.label, href: p.id === '30d' ? '/' : `/?period=${p.id}`, current: p.id === period.id })),
      periodLabel: period.days === null ? 'all time' : `the last ${period.label}`,
      rangeText: `${formatDay(chartFrom)} to ${formatDay(now.toISOString())}`,
      // Says what "30 days" means, and that reports and the list count it the same way.
      periodNote: period.days === null
        ? `All time: every occurrence stored, up to ${formatInstant(now.toISOString())}.`
        : `The last ${period.label}: from ${formatInstant(since)} up to now (${formatInstant(now.toISOString())}), ${formatNumber(period.days * 24)} hours; reports and the denial list count since=${period.id} the same way.`,
      totals: [
        { label: 'Denials', value: formatNumber(totals.denials), note: 'distinct messages seen' },
        { label: 'Occurrences', value: formatNumber(totals.occurrences), note: 'times they were seen' },
        { label: 'Principals', value: formatNumber(totals.principals), note: 'users and roles denied' },
        { label: 'Accounts', value: formatNumber(totals.accounts), note: 'AWS accounts involved' }
      ],
      chart: barChart(perDay, chartFrom, now.toISOString(), 'occurrence', 1),
      recurring: recurring.map(denialRow),
      imports: imports.map(importRow),
      empty,
      jsonHref: period.id === '30d' ? '/?format=json' : `/?period=${period.id}&format=json`
    })
  })
}

export default dashboard
