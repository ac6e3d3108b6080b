/**
 * Build a team report: recurring denial groups per team with their trend, status against the
 * previous period, explanation and fix; suppressed noise counted per rule; one merged policy per
 * team. The result is a plain data model that every renderer (html, md, json, csv) reads.
 */
import { explainDenial, policyDocument, type Explanation, type PolicyStatement } from '../authz/explain.js'
import type { Decision, DenialKind } from '../authz/types.js'
import type { GroupRow, GroupScan, ReportsRepository } from '../db/repositories/reports.js'
import { UnknownTeamError } from '../errors.js'
import { daysOf, GROWTH_FACTOR, GROWTH_MIN_INCREASE, statusOf, type Period, type Status } from './period.js'
import { mergeStatements } from './policy.js'
import { Redactor } from './redact.js'
import { ruleActive, ruleMatcher, teamOf, teamPrefilter, UNASSIGNED, type SuppressRule, type TeamsConfig } from './teams.js'

export const DEFAULT_LIMIT = 50

export interface BuildReportOptions {
  period: Period
  teams: TeamsConfig
  /** Only this team's section (a team name from the file, or "unassigned"). */
  team?: string | null
  /** Replace identifiers with pseudonyms; pass a Redactor to fix its key (tests). */
  redact?: boolean | Redactor
  /** Groups listed per section and list (recurring, new, quiet); 0 lists them all. */
  limit?: number
  now?: Date
  /**
   * The fix of a denial in the policy a policy snapshot resolves (services/policies.ts fixResolver).
   * Left out of redacted reports: it names policies and accounts.
   */
  resolveFix?: ((denialId: number) => ResolvedFix | null) | null
  /** Only denials of this kind; absent: decoded and text denials counted together. */
  kind?: DenialKind | null
}

/** A fix in the policy that decides the denial, from the policy snapshot. */
export interface ResolvedFix { policy: string, policyType: string, kind: string, verified: boolean, note: string, json: string }

/** The resolved fixes of a section, grouped by the policy they change. */
export interface FixesByPolicy { policy: string, policyType: string, fixes: Array<{ action: string | null, resource: string | null, kind: string, verified: boolean, note: string, json: string }> }

export interface ReportGroup {
  team: string
  /** The principal, or the role for assumed-role sessions. */
  principal: string | null
  account: string | null
  action: string | null
  resource: string | null
  decision: Decision
  /** Occurrences in the reported period, and in the period before. */
  occurrences: number
  previousOccurrences: number
  /** Distinct principals (sessions of the role) seen in the reported period. */
  sessions: number
  firstSeen: string
  lastSeen: string
  status: Status
  /** Occurrences per day over report.days (previous period, then the reported one). */
  days: number[]
  sids: string[]
  explanation: Pick<Explanation, 'summary' | 'detail' | 'hints'>
  fix: Explanation['fix']
  /** The fix in the resolved policy, when a policy snapshot covers the principal's account. */
  resolvedFix: ResolvedFix | null
}

export interface CountedValue { value: string, occurrences: number }

export interface SectionTotals {
  occurrences: number
  previousOccurrences: number
  groups: number
  new: number
  growing: number
  ongoing: number
  quiet: number
  principals: number
  implicitGroups: number
  explicitGroups: number
}

export interface TeamSection {
  team: string
  totals: SectionTotals
  /** Recurring groups of the reported period, most occurrences first (at most `limit`). */
  groups: ReportGroup[]
  /** Groups left out of `groups` by the limit. */
  omittedGroups: number
  newGroups: ReportGroup[]
  quietGroups: ReportGroup[]
  topActions: CountedValue[]
  topServices: CountedValue[]
  topPrincipals: CountedValue[]
  /** One policy that allows every listed implicit deny, statements merged where that stays least-privilege. */
  policy: { statements: PolicyStatement[], json: string, groups: number } | null
  /** The resolved fixes of the listed groups, one entry per policy to change. */
  fixesByPolicy: FixesByPolicy[]
  /** Explicit denies: no Allow helps; the Deny statement named must change. */
  explicitDenies: Array<{ principal: string | null, action: string | null, resource: string | null, occurrences: number, statements: string[], text: string }>
  /** Occurrences per day of the listed groups, over report.days. */
  perDay: number[]
}

export interface SuppressionCount {
  rule: SuppressRule
  active: boolean
  occurrences: number
  groups: number
}

export interface Report {
  title: string
  generatedAt: string
  period: Period
  /** Days of the previous and the reported period; the reported period starts at index periodStart. */
  days: string[]
  periodStart: number
  /** The kind the report is restricted to, or null (both). */
  kind: DenialKind | null
  team: string | null
  redacted: boolean
  teamsFile: string | null
  growth: { factor: number, minIncrease: number }
  limit: number
  totals: SectionTotals & { suppressedOccurrences: number }
  suppressed: SuppressionCount[]
  teams: TeamSection[]
}

const emptyTotals = (): SectionTotals => ({ occurrences: 0, previousOccurrences: 0, groups: 0, new: 0, growing: 0, ongoing: 0, quiet: 0, principals: 0, implicitGroups: 0, explicitGroups: 0 })

const cmp = (a: string | null, b: string | null): number => (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0

/**
 * Groups a and b of a scan, most occurrences first; ties by the previous period, then by name
 * (code-point order: fast and stable), then by decision: a total order, so the rank does not depend on
 * the order the scan found the groups in (the index's, from SQL; the signature codes', from memory).
 */
function byRank (s: GroupScan, a: number, b: number): number {
  return s.current[b]! - s.current[a]! || s.previous[b]! - s.previous[a]! || cmp(s.action(a), s.action(b)) ||
    cmp(s.principal(a), s.principal(b)) || cmp(s.resource(a), s.resource(b)) || cmp(s.decision(a), s.decision(b))
}

/**
 * The first k items in `cmp` order, where cmp sorts by `key` descending first. Sorting every group of
 * a long history by name to keep fifty would cost more than the whole scan: only the items whose key
 * reaches the k-th largest key are sorted. k = 0 sorts everything.
 */
export function topK<T> (items: T[], k: number, key: (x: T) => number, cmp: (a: T, b: T) => number): T[] {
  if (k <= 0 || items.length <= k) return items.slice().sort(cmp)
  const keys = new Float64Array(items.length)
  items.forEach((x, i) => { keys[i] = key(x) })
  keys.sort()
  const threshold = keys[items.length - k]!
  return items.filter(x => key(x) >= threshold).sort(cmp).slice(0, k)
}

function top (m: Map<string, number>, n = 10): CountedValue[] {
  return [...m].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).slice(0, n).map(([value, occurrences]) => ({ value, occurrences }))
}

export function buildReport (repo: ReportsRepository, opts: BuildReportOptions): Report {
  const { period, teams } = opts
  const limit = opts.limit ?? DEFAULT_LIMIT
  const redactor = opts.redact instanceof Redactor ? opts.redact : opts.redact ? new Redactor() : null
  const resolveFix = redactor ? null : opts.resolveFix ?? null
  const teamNames = [...teams.teams.map(t => t.name), UNASSIGNED]
  if (opts.team && !teamNames.includes(opts.team)) {
    throw new UnknownTeamError(`no team "${opts.team}"${teams.file ? ` in ${teams.file}` : ''}: use one of ${teamNames.join(', ')}`)
  }
  // Asked per group: one map per principal, no key string built per call.
  const teamCache = new Map<string | null, Map<string | null, string>>()
  const teamFor = (p: string | null, a: string | null): string => {
    let byAccount = teamCache.get(p)
    if (byAccount === undefined) { byAccount = new Map(); teamCache.set(p, byAccount) }
    let t = byAccount.get(a)
    if (t === undefined) { t = teamOf(teams, p, a); byAccount.set(a, t) }
    return t
  }
  const days = daysOf({ since: period.previousSince, until: period.until })
  const scan = repo.groups({ from: period.previousSince, mid: period.since, until: period.until, days, kind: opts.kind ?? null },
    opts.team ? (p, a) => teamFor(p, a) === opts.team : undefined,
    opts.team ? teamPrefilter(teams, opts.team) ?? undefined : undefined)
  const { current: currentOf, previous: previousOf, codes } = scan

  // Suppression first: a suppressed group is counted against its rule and nowhere else.
  const suppressed: SuppressionCount[] = teams.suppress.map(rule => ({ rule, active: ruleActive(rule, period.until), occurrences: 0, groups: 0 }))
  const rules = suppressed.filter(s => s.active).map(s => ({ s, matches: ruleMatcher(s.rule, codes, g => scan.resource(g)) }))
  // A group's team (an index of teamNames), decided once per (principal, account) pair of codes.
  const accountCodes = codes.accounts.length
  const teamByPair = new Map<number, number>()
  const teamIndexOf = (g: number): number => {
    const p = codes.principal[g]!
    const a = codes.account[g]!
    const pair = p * accountCodes + a
    let t = teamByPair.get(pair)
    if (t === undefined) {
      t = teamNames.indexOf(teamFor(p === 0 ? null : codes.principals[p]!, a === 0 ? null : codes.accounts[a]!))
      teamByPair.set(pair, t)
    }
    return t
  }
  // The kept groups (scan indices) with their team and status, in parallel arrays: no object per group.
  // Loops over groups are indexed, not for…of: this function runs once per report, mostly before V8
  // optimises it, and unoptimised for…of allocates an iterator (and a result per step) per loop.
  const kept: number[] = []
  const keptTeam: number[] = []
  const keptStatus: Status[] = []
  for (let g = 0; g < scan.size; g++) {
    const current = currentOf[g]!
    const status = statusOf(current, previousOf[g]!)
    if (status === null) continue
    let rule: SuppressionCount | undefined
    for (let i = 0; i < rules.length; i++) if (rules[i]!.matches(g)) { rule = rules[i]!.s; break }
    if (rule) {
      rule.occurrences += current
      if (current > 0) rule.groups++
      continue
    }
    kept.push(g)
    keptTeam.push(teamIndexOf(g))
    keptStatus.push(status)
  }

  const periodStart = Math.max(0, days.indexOf(period.since.slice(0, 10)))
  const redactArn = (v: string | null): string | null => redactor ? redactor.arn(v) : v
  const redactResource = (v: string | null): string | null => {
    if (!redactor || v === null || v === '*') return v
    return v.startsWith('arn:') ? redactor.arn(v) : redactor.resourcePart('', v)
  }

  const detailCache = new Map<GroupRow, ReportGroup>()
  // Filled in one pass over the scanned occurrences, for every group any section lists (below).
  const perDay = new Map<GroupRow, number[]>()
  /** The kept group k (an index of kept) in full. */
  const detail = (k: number): ReportGroup => {
    const row = scan.row(kept[k]!)
    const cached = detailCache.get(row)
    if (cached) return cached
    repo.seen(row)
    const { firstSeen, lastSeen } = row
    const sample = repo.explainInput(Math.max(...row.ids))
    let explanation: Explanation
    if (sample) {
      // The group speaks for all its sessions: no one session name in the sentence.
      const input = { ...sample, principal: { ...sample.principal, sessionName: null }, occurrences: row.current, firstSeen, lastSeen }
      explanation = explainDenial(redactor ? redactor.explainInput(input) : input)
    } else {
      explanation = { decision: row.decision, summary: '', detail: [], statements: [], hints: [], fix: null }
    }
    const g: ReportGroup = {
      team: teamNames[keptTeam[k]!]!,
      principal: redactArn(row.principal),
      account: redactor ? redactor.account(row.account) : row.account,
      action: row.action,
      resource: redactResource(row.resource),
      decision: row.decision,
      occurrences: row.current,
      previousOccurrences: row.previous,
      sessions: row.sessions,
      firstSeen,
      lastSeen,
      status: keptStatus[k]!,
      days: perDay.get(row) ?? days.map(() => 0),
      // AWS lists matched statements for explicit denies only: an implicit deny has no Sid to look up.
      sids: row.decision === 'implicit-deny' ? [] : repo.sids(row),
      explanation: { summary: explanation.summary, detail: explanation.detail, hints: explanation.hints },
      fix: explanation.fix,
      resolvedFix: resolveFix && sample ? resolveFix(Math.max(...row.ids)) : null
    }
    detailCache.set(row, g)
    return g
  }

  const sectionNames = opts.team ? [opts.team] : teamNames.filter((n, i) => n !== UNASSIGNED || keptTeam.includes(i))
  // Per section, its kept groups as indices of kept.
  const byTeam = new Map<string, number[]>(sectionNames.map(n => [n, []]))
  const teamLists = teamNames.map(n => byTeam.get(n))
  keptTeam.forEach((team, k) => teamLists[team]?.push(k))

  // Which groups each section lists: only those get per-day counts, Sids and explanations.
  const lists = new Map(sectionNames.map(name => {
    const all = byTeam.get(name)!
    const current = all.filter(k => currentOf[kept[k]!]! > 0)
    const rank = (a: number, b: number): number => byRank(scan, kept[a]!, kept[b]!)
    const cur = (k: number): number => currentOf[kept[k]!]!
    const prev = (k: number): number => previousOf[kept[k]!]!
    return [name, {
      all,
      current,
      listed: topK(current, limit, cur, rank),
      fresh: topK(current.filter(k => keptStatus[k] === 'new'), limit, cur, rank),
      quiet: topK(all.filter(k => keptStatus[k] === 'quiet'), limit, prev, (a, b) => prev(b) - prev(a) || rank(a, b))
    }]
  }))
  const shown = [...new Set([...lists.values()].flatMap(l => [...l.listed, ...l.fresh, ...l.quiet].map(k => scan.row(kept[k]!))))]
  scan.daily(shown.map(r => r.ids)).forEach((counts, i) => perDay.set(shown[i]!, counts))

  const serviceOf = new Map<string, string>()
  const sections = sectionNames.map((name): TeamSection => {
    const { all, current, listed: listedC, fresh, quiet } = lists.get(name)!
    const totals = emptyTotals()
    for (let i = 0; i < all.length; i++) {
      const k = all[i]!
      totals.previousOccurrences += previousOf[kept[k]!]!
      totals[keptStatus[k]!]++
    }
    // Occurrences per action and per principal code, then per name.
    const byAction = new Float64Array(codes.actions.length)
    const byPrincipal = new Float64Array(codes.principals.length)
    for (let i = 0; i < current.length; i++) {
      const g = kept[current[i]!]!
      const occurrences = currentOf[g]!
      totals.occurrences += occurrences
      totals.groups++
      const decision = scan.decision(g)
      if (decision === 'explicit-deny') totals.explicitGroups++
      else if (decision === 'implicit-deny') totals.implicitGroups++
      byAction[codes.action[g]!]! += occurrences
      byPrincipal[codes.principal[g]!]! += occurrences
    }
    const actions = new Map<string, number>()
    const services = new Map<string, number>()
    const principals = new Map<string, number>()
    byAction.forEach((occurrences, c) => {
      if (occurrences === 0) return
      const action = c === 0 ? '(none)' : codes.actions[c]!
      actions.set(action, (actions.get(action) ?? 0) + occurrences)
      let service = serviceOf.get(action)
      if (service === undefined) {
        service = action.includes(':') ? action.slice(0, action.indexOf(':')).toLowerCase() : '(unknown)'
        serviceOf.set(action, service)
      }
      services.set(service, (services.get(service) ?? 0) + occurrences)
    })
    byPrincipal.forEach((occurrences, c) => {
      if (occurrences === 0) return
      const p = c === 0 ? '(unknown)' : codes.principals[c]!
      principals.set(p, (principals.get(p) ?? 0) + occurrences)
    })
    totals.principals = principals.size
    const listed = listedC.map(detail)
    const newGroups = fresh.map(detail)
    const quietGroups = quiet.map(detail)

    const fixable = [...new Set([...listed, ...newGroups])].filter(g => g.fix?.kind === 'allow')
    const merged = mergeStatements(fixable.map(g => (g.fix as { statement: PolicyStatement }).statement))
    const explicitDenies = [...new Set([...listed, ...newGroups])].filter(g => g.fix?.kind === 'change-deny').map(g => ({
      principal: g.principal,
      action: g.action,
      resource: g.resource,
      occurrences: g.occurrences,
      statements: (g.fix as { statements: string[] }).statements,
      text: (g.fix as { text: string }).text
    }))
    const byPolicy = new Map<string, FixesByPolicy>()
    for (const g of new Set([...listed, ...newGroups])) {
      const f = g.resolvedFix
      if (!f) continue
      const entry = byPolicy.get(f.policy) ?? { policy: f.policy, policyType: f.policyType, fixes: [] }
      entry.fixes.push({ action: g.action, resource: g.resource, kind: f.kind, verified: f.verified, note: f.note, json: f.json })
      byPolicy.set(f.policy, entry)
    }
    return {
      team: name,
      totals,
      fixesByPolicy: [...byPolicy.values()].sort((a, b) => b.fixes.length - a.fixes.length || a.policy.localeCompare(b.policy)),
      groups: listed,
      omittedGroups: current.length - listed.length,
      newGroups,
      quietGroups,
      topActions: top(actions),
      topServices: top(services),
      // Redacted after ranking: one pseudonym per listed principal, not one per group.
      topPrincipals: top(principals).map(v => ({ ...v, value: v.value === '(unknown)' ? v.value : redactArn(v.value)! })),
      policy: merged.length > 0 ? { statements: merged, json: policyDocument(merged), groups: fixable.length } : null,
      explicitDenies,
      perDay: days.map((_, i) => listed.reduce((n, g) => n + g.days[i]!, 0))
    }
  })

  const totals = { ...emptyTotals(), suppressedOccurrences: suppressed.reduce((n, s) => n + s.occurrences, 0) }
  for (const s of sections) {
    for (const k of Object.keys(totals) as Array<keyof typeof totals>) {
      if (k !== 'suppressedOccurrences' && k !== 'principals') totals[k] += s.totals[k]
    }
    totals.principals += s.totals.principals
  }
  const scope = (opts.team ? `team ${opts.team}` : 'all teams') + (opts.kind === 'text' ? ', access-denied text only' : opts.kind === 'decoded' ? ', decoded messages only' : '')
  return {
    title: `Recurring denials, ${scope}, ${period.since.slice(0, 10)} to ${new Date(Date.parse(period.until) - 1).toISOString().slice(0, 10)}`,
    generatedAt: (opts.now ?? new Date()).toISOString(),
    period,
    days,
    periodStart,
    team: opts.team ?? null,
    kind: opts.kind ?? null,
    redacted: redactor !== null,
    // A path can name a person (/home/alice/…): a redacted report keeps only the file name.
    teamsFile: teams.file && redactor ? teams.file.split(/[\\/]/).pop()! : teams.file,
    growth: { factor: GROWTH_FACTOR, minIncrease: GROWTH_MIN_INCREASE },
    limit,
    totals,
    suppressed: suppressed.map(s => redactor ? { ...s, rule: redactor.rule(s.rule) } : s),
    teams: sections
  }
}
