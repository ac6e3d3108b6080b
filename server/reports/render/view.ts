/**
 * The report as the view-model of the report partials (views/partials/report*.hbs): every choice of
 * wording and every chart is made here, so the templates stay if/each only. Values stay raw text;
 * Handlebars escapes them.
 */
import type { Report, ReportGroup, SectionTotals, TeamSection } from '../build.js'
import { periodChart, sparkline, type ChartModel } from '../../render/chart.js'
import { formatNumber, plural } from '../../render/helpers.js'

/** A value shown as code, or "(none)" when null (the partial report-code draws both). */
export type CodeValue = { text: string } | null

export interface Figure { label: string, value: string }

export interface GroupView {
  rank: number
  action: string
  resource: CodeValue
  principal: CodeValue
  status: string
  spark: ChartModel
  occurrences: number
  previousOccurrences: number
  /** "1 occurrence (3 in the previous period)". */
  occurrencesText: string
  sessions: string
  decision: string
  firstSeen: string
  lastSeen: string
  sids: string[]
  summary: string
  hints: string[]
  fix: { changeDeny: true, text: string } | { changeDeny: false, matches: boolean, mismatches: string, policyJson: string } | null
  /** The fix in the policy the snapshot resolves (replaces `fix` when present). */
  resolved: { policy: string, type: string, verified: boolean, note: string, json: string } | null
}

export interface ListView {
  empty: string | null
  countLabel: string
  dayLabel: string
  rows: Array<{ action: CodeValue, resource: CodeValue, principal: CodeValue, count: number, seen: string }>
}

export interface TeamView {
  team: string
  id: string
  figures: Figure[]
  chart: ChartModel | null
  groups: GroupView[]
  omitted: string | null
  newList: ListView
  quietList: ListView
  tops: Array<{ title: string, rows: Array<{ value: CodeValue, occurrences: number }> }>
  policy: { text: string, json: string } | null
  byPolicy: Array<{ policy: string, type: string, fixes: Array<{ action: CodeValue, resource: CodeValue, verified: boolean, note: string }> }>
  explicit: Array<{ action: CodeValue, resource: CodeValue, principal: CodeValue, occurrences: number, statements: string }>
}

/** The period for people: whole days, with the exact instants for a tooltip and the footnote. */
export interface PeriodView {
  since: string
  /** The last day of the period, inclusive. */
  until: string
  previousSince: string
  previousUntil: string
  sinceExact: string
  untilExact: string
  previousSinceExact: string
  /** The footnote: the exact half-open ranges. */
  exact: string
}

export interface ReportView {
  title: string
  period: Report['period']
  periodView: PeriodView
  generatedAt: string
  /** Set when nothing occurred in either period: what that means, instead of a row of zeros. */
  empty: string | null
  redacted: boolean
  growth: Report['growth']
  figures: Figure[]
  teams: TeamView[]
  suppressed: Array<{ rule: Array<{ key: string, glob: string }>, reason: string, until: string, occurrences: number }> | null
}

const code = (s: string | null): CodeValue => s === null ? null : { text: s }
const s = (n: number): string => n === 1 ? '' : 's'

/** An instant to the second, in UTC ("2026-11-30 04:35:44 UTC"): milliseconds say nothing to a reader. */
export function instantText (iso: string): string {
  const t = Date.parse(iso)
  return Number.isNaN(t) ? iso : `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/** The day of an instant, and the last day a period that ends (exclusive) at that instant covers. */
const dayOf = (iso: string): string => new Date(Date.parse(iso)).toISOString().slice(0, 10)
const lastDayBefore = (iso: string): string => new Date(Date.parse(iso) - 1).toISOString().slice(0, 10)

export function periodView (p: Report['period']): PeriodView {
  return {
    since: dayOf(p.since),
    until: lastDayBefore(p.until),
    previousSince: dayOf(p.previousSince),
    previousUntil: lastDayBefore(p.since),
    sinceExact: instantText(p.since),
    untilExact: instantText(p.until),
    previousSinceExact: instantText(p.previousSince),
    exact: `Exact period: from ${instantText(p.since)} up to (not including) ${instantText(p.until)}; the previous period from ${instantText(p.previousSince)} up to ${instantText(p.since)}.`
  }
}

/** Each figure's label agrees with its number: "1 group", "2 groups". */
function figures (t: SectionTotals, last: [string, string, number]): Figure[] {
  const items: Array<[string, string, number]> = [['occurrence', 'occurrences', t.occurrences], ['before', 'before', t.previousOccurrences], ['group', 'groups', t.groups], ['new', 'new', t.new], ['growing', 'growing', t.growing], ['gone quiet', 'gone quiet', t.quiet], last]
  return items.map(([one, many, v]) => ({ label: v === 1 ? one : many, value: formatNumber(v) }))
}

function groupView (g: ReportGroup, report: Report, rank: number): GroupView {
  const f = g.fix
  return {
    rank,
    action: g.action ?? '(no action)',
    resource: code(g.resource),
    principal: code(g.principal),
    status: g.status,
    spark: sparkline(report.days, g.days, report.periodStart, `Occurrences per day of ${g.action ?? 'this denial'}: ${g.occurrences} in the period, ${g.previousOccurrences} before`),
    occurrences: g.occurrences,
    previousOccurrences: g.previousOccurrences,
    occurrencesText: `${plural(g.occurrences, 'occurrence')} (${formatNumber(g.previousOccurrences)} in the previous period)`,
    sessions: `${formatNumber(g.sessions)} session${s(g.sessions)}/principal${s(g.sessions)}`,
    decision: g.decision,
    firstSeen: g.firstSeen,
    lastSeen: g.lastSeen,
    sids: g.sids,
    summary: g.explanation.summary,
    hints: g.explanation.hints.map(h => h.text),
    fix: f === null ? null : f.kind === 'change-deny' ? { changeDeny: true, text: f.text } : { changeDeny: false, matches: f.check.matches, mismatches: f.check.mismatches.join('; '), policyJson: f.policyJson },
    resolved: g.resolvedFix ? { policy: g.resolvedFix.policy, type: g.resolvedFix.policyType, verified: g.resolvedFix.verified, note: g.resolvedFix.note, json: g.resolvedFix.json } : null
  }
}

function listView (groups: ReportGroup[], which: 'new' | 'quiet'): ListView {
  return {
    empty: groups.length === 0 ? `No ${which === 'new' ? 'new' : 'gone-quiet'} groups.` : null,
    countLabel: which === 'new' ? 'Occurrences' : 'Before',
    dayLabel: which === 'new' ? 'First seen' : 'Last seen',
    rows: groups.map(g => ({
      action: code(g.action),
      resource: code(g.resource),
      principal: code(g.principal),
      count: which === 'new' ? g.occurrences : g.previousOccurrences,
      seen: which === 'new' ? g.firstSeen : g.lastSeen
    }))
  }
}

function teamView (t: TeamSection, report: Report): TeamView {
  const counted = (rows: TeamSection['topActions']): Array<{ value: CodeValue, occurrences: number }> => rows.map(r => ({ value: code(r.value), occurrences: r.occurrences }))
  return {
    team: t.team,
    id: `team-${t.team}`,
    figures: figures(t.totals, ['principal', 'principals', t.totals.principals]),
    chart: t.groups.length > 0 ? periodChart(report.days, t.perDay, report.periodStart, `Occurrences per day of team ${t.team}'s listed groups`) : null,
    groups: t.groups.map((g, i) => groupView(g, report, i + 1)),
    omitted: t.omittedGroups > 0 ? `${formatNumber(t.omittedGroups)} more group${s(t.omittedGroups)} with fewer occurrences not listed (limit ${report.limit}).` : null,
    newList: listView(t.newGroups, 'new'),
    quietList: listView(t.quietGroups, 'quiet'),
    tops: ([['Action', t.topActions], ['Service', t.topServices], ['Principal', t.topPrincipals]] as const)
      .filter(([, rows]) => rows.length > 0).map(([title, rows]) => ({ title, rows: counted(rows) })),
    policy: t.policy
      ? { text: `Allows every listed implicit deny (${formatNumber(t.policy.groups)} group${s(t.policy.groups)}); statements are merged only where the merge grants nothing more.`, json: t.policy.json }
      : null,
    byPolicy: t.fixesByPolicy.map(p => ({ policy: p.policy, type: p.policyType, fixes: p.fixes.map(f => ({ action: code(f.action), resource: code(f.resource), verified: f.verified, note: f.note })) })),
    explicit: t.explicitDenies.map(e => ({
      action: code(e.action),
      resource: code(e.resource),
      principal: code(e.principal),
      occurrences: e.occurrences,
      statements: e.statements.length > 0 ? e.statements.join(', ') : 'not named in the message'
    }))
  }
}

export function reportView (report: Report): ReportView {
  return {
    title: report.title,
    period: report.period,
    periodView: periodView(report.period),
    generatedAt: instantText(report.generatedAt),
    empty: report.totals.occurrences === 0 && report.totals.previousOccurrences === 0 && report.totals.suppressedOccurrences === 0
      ? 'No denial occurred in this period or in the one before it.'
      : null,
    redacted: report.redacted,
    growth: report.growth,
    figures: figures(report.totals, ['suppressed', 'suppressed', report.totals.suppressedOccurrences]),
    teams: report.teams.map(t => teamView(t, report)),
    suppressed: report.suppressed.length === 0
      ? null
      : report.suppressed.map(x => ({
        rule: (['action', 'principal', 'resource'] as const).filter(k => x.rule[k] !== undefined).map(k => ({ key: k, glob: x.rule[k]! })),
        reason: x.rule.reason ?? '',
        until: `${x.rule.until ?? ''}${x.active ? '' : ' (expired)'}`,
        occurrences: x.occurrences
      }))
  }
}
