/**
 * Reports repository: denials grouped by signature (principal, or its role for sessions; action;
 * resource; decision) with their occurrences in two adjacent periods, and the per-group details
 * (daily counts, Sids, a sample denial) for the groups a report lists.
 *
 * Why two passes instead of one GROUP BY over occurrences ⋈ denials: on 1M occurrences that join
 * needs a 700k-row temp B-tree (≈6 s). Here occurrences are counted per denial from a covering range
 * scan of idx_occurrences_observed_at (no sort, no table reads), and the denials are read back from a
 * covering index already in signature order (idx_denials_signature, migration 0002), so groups are
 * consecutive and are summed in one streaming pass with no map of every group.
 */
import type { DB } from '../connection.js'
import type { Decision, MatchedStatement } from '../../authz/types.js'
import type { ExplainInput } from '../../authz/explain.js'

export interface ReportWindow {
  /** Start of the previous period (ISO instant, inclusive). */
  from: string
  /** Start of the reported period = end of the previous one. */
  mid: string
  /** End of the reported period (exclusive). */
  until: string
}

/** One denial signature with its counts; `ids` are its denials (for the detail queries). */
export interface GroupRow {
  principal: string | null
  account: string | null
  action: string | null
  resource: string | null
  decision: Decision
  /** Occurrences in [mid, until) and in [from, mid). */
  current: number
  previous: number
  /** Distinct principals (sessions, for a role) with occurrences in the reported period. */
  sessions: number
  ids: number[]
}

/** Decides, per (principal, account), whether its denials belong in the report (e.g. one team). */
export type PrincipalFilter = (principal: string | null, account: string | null) => boolean

type SigRow = [number, string | null, string | null, string | null, Decision, string | null, string | null]

export class ReportsRepository {
  private readonly signatures
  private readonly perDenialAll
  private readonly maxId
  private readonly dailyOne
  private readonly countRange
  private readonly sidsOne
  private readonly detailRow
  private readonly detailConditions
  private readonly detailStatements

  constructor (readonly db: DB) {
    // Same expression and column order as idx_denials_signature: SQLite reads the index, no sort.
    this.signatures = db.prepare(`SELECT id, coalesce(role_arn, principal_arn), action, resource, decision, principal_arn, principal_account
      FROM denials INDEXED BY idx_denials_signature
      ORDER BY coalesce(role_arn, principal_arn), action, resource, decision, principal_arn`).raw()
    // A covering range scan of (observed_at, denial_id): the ids stream out in time order, no sort.
    this.perDenialAll = db.prepare(`SELECT denial_id FROM occurrences INDEXED BY idx_occurrences_observed_at
      WHERE observed_at >= ? AND observed_at < ?`).pluck()
    this.maxId = db.prepare('SELECT coalesce(max(id), 0) FROM denials').pluck()
    this.dailyOne = db.prepare(`SELECT substr(observed_at, 1, 10), count(*), min(observed_at), max(observed_at) FROM occurrences
      WHERE denial_id = ? AND observed_at >= ? AND observed_at < ? GROUP BY 1`).raw()
    this.countRange = db.prepare('SELECT count(*) FROM occurrences WHERE observed_at >= ? AND observed_at < ?').pluck()
    this.sidsOne = db.prepare("SELECT DISTINCT statement_id FROM statements WHERE denial_id = ? AND statement_id IS NOT NULL AND statement_id <> ''").pluck()
    this.detailRow = db.prepare<[number], {
      decision: Decision, action: string | null, action_raw: string | null, service: string | null, resource: string | null,
      principal_arn: string | null, principal_id: string | null, principal_name: string | null, principal_type: string | null,
      principal_account: string | null, role_arn: string | null, session_name: string | null
    }>(`SELECT decision, action, action_raw, service, resource, principal_arn, principal_id, principal_name, principal_type,
      principal_account, role_arn, session_name FROM denials WHERE id = ?`)
    this.detailConditions = db.prepare<[number], { key: string, value: string }>('SELECT key, value FROM conditions WHERE denial_id = ? ORDER BY position')
    this.detailStatements = db.prepare<[number], { statement_id: string | null, effect: string | null, principals: string, principal_groups: string, actions: string, resources: string, conditions: string }>(
      'SELECT statement_id, effect, principals, principal_groups, actions, resources, conditions FROM statements WHERE denial_id = ? ORDER BY position')
  }

  /**
   * Every signature group with at least one occurrence in [from, until), among the principals the
   * filter keeps. First and last seen are left to daily(), which reads them for the listed groups only.
   */
  groups (w: ReportWindow, keep: PrincipalFilter = () => true): GroupRow[] {
    // Pass 1: occurrences per denial in each period, counted into arrays indexed by denial id.
    const size = Number(this.maxId.get()) + 1
    const cur = new Int32Array(size)
    const all = new Int32Array(size)
    for (const id of this.perDenialAll.iterate(w.from, w.mid) as IterableIterator<number>) if (id < size) all[id]++
    for (const id of this.perDenialAll.iterate(w.mid, w.until) as IterableIterator<number>) if (id < size) { all[id]++; cur[id]++ }
    // Pass 2: denials in signature order (a covering-index scan); consecutive rows with the same
    // signature form a group. Actions compare as IAM compares them, case-insensitively.
    const out: GroupRow[] = []
    let g: GroupRow | null = null
    let key = ''
    let lastSession: string | null | undefined
    // Rows come sorted by principal: the filter is asked once per run of the same principal and account.
    let keptFor: string | null | undefined
    let keptAccount: string | null | undefined
    let kept = false
    for (const [id, principal, action, resource, decision, principalArn, account] of this.signatures.iterate() as IterableIterator<SigRow>) {
      if (all[id] === 0) continue
      if (principal !== keptFor || account !== keptAccount) {
        keptFor = principal; keptAccount = account
        kept = keep(principal, account)
      }
      if (!kept) continue
      const k = `${principal ?? ''}\u0000${(action ?? '').toLowerCase()}\u0000${resource ?? ''}\u0000${decision}`
      if (g === null || k !== key) {
        g = { principal, account, action, resource, decision, current: 0, previous: 0, sessions: 0, ids: [] }
        out.push(g)
        key = k
        lastSession = undefined
      }
      g.current += cur[id]!
      g.previous += all[id]! - cur[id]!
      if (g.account === null && account !== null) g.account = account
      g.ids.push(id)
      // Rows are ordered by principal_arn inside a group: count changes to count distinct sessions.
      if (cur[id]! > 0 && principalArn !== lastSession) { g.sessions++; lastSession = principalArn }
    }
    return out
  }

  /** Occurrences per UTC day (YYYY-MM-DD) of these denials in [since, until), and the first and last of them. */
  daily (ids: number[], since: string, until: string): { perDay: Map<string, number>, firstSeen: string | null, lastSeen: string | null } {
    const perDay = new Map<string, number>()
    let firstSeen: string | null = null
    let lastSeen: string | null = null
    for (const id of ids) {
      for (const [day, n, f, l] of this.dailyOne.iterate(id, since, until) as IterableIterator<[string, number, string, string]>) {
        perDay.set(day, (perDay.get(day) ?? 0) + n)
        if (firstSeen === null || f < firstSeen) firstSeen = f
        if (lastSeen === null || l > lastSeen) lastSeen = l
      }
    }
    return { perDay, firstSeen, lastSeen }
  }

  /** All occurrences per day, for whole days starting at `since` (index range counts, no scan). */
  dailyAll (days: string[]): number[] {
    return days.map(d => {
      const start = `${d}T00:00:00.000Z`
      const end = new Date(Date.parse(start) + 86_400_000).toISOString()
      return Number(this.countRange.get(start, end))
    })
  }

  /** Distinct non-empty Sids of the statements that matched these denials (bounded). */
  sids (ids: number[], limit = 500): string[] {
    const out = new Set<string>()
    for (const id of ids.slice(0, limit)) for (const s of this.sidsOne.all(id) as string[]) out.add(s)
    return [...out].sort()
  }

  /** A denial as explainDenial reads it, without its occurrence list. */
  explainInput (id: number): ExplainInput | undefined {
    const r = this.detailRow.get(id)
    if (!r) return undefined
    const conditions: ExplainInput['conditions'] = []
    for (const c of this.detailConditions.all(id)) {
      const prev = conditions[conditions.length - 1]
      if (prev && prev.key === c.key) prev.values.push(c.value)
      else conditions.push({ key: c.key, values: [c.value] })
    }
    return {
      decision: r.decision,
      action: r.action,
      actionRaw: r.action_raw,
      service: r.service,
      resource: r.resource,
      principal: {
        arn: r.principal_arn,
        id: r.principal_id,
        name: r.principal_name,
        type: r.principal_type,
        account: r.principal_account,
        roleArn: r.role_arn,
        sessionName: r.session_name
      },
      conditions,
      statements: this.detailStatements.all(id).map((s): MatchedStatement => ({
        statementId: s.statement_id,
        effect: s.effect,
        principals: JSON.parse(s.principals) as string[],
        principalGroups: JSON.parse(s.principal_groups) as string[],
        actions: JSON.parse(s.actions) as string[],
        resources: JSON.parse(s.resources) as string[],
        conditions: JSON.parse(s.conditions) as MatchedStatement['conditions']
      }))
    }
  }
}
