/**
 * Reports repository: denials grouped by signature (principal, or its role for sessions; action;
 * resource; decision) with their occurrences in two adjacent periods, and the per-group details
 * (daily counts, Sids, a sample denial) for the groups a report lists.
 *
 * Why two passes instead of one GROUP BY over occurrences ⋈ denials: on 1M occurrences that join
 * needs a 700k-row temp B-tree (≈6 s). Here SQL aggregates occurrences per denial in index order
 * (idx_occurrences_denial, no sort), and the denials are read back from a covering index already in
 * signature order (idx_denials_signature, migration 0002), so groups are consecutive and are summed
 * in one streaming pass with no map of every group.
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
  /** First and last occurrence within [from, until). */
  firstSeen: string
  lastSeen: string
  ids: number[]
}

/** Decides, per (principal, account), whether its denials belong in the report (e.g. one team). */
export type PrincipalFilter = (principal: string | null, account: string | null) => boolean

type SigRow = [number, string | null, string | null, string | null, Decision, string | null, string | null]

export class ReportsRepository {
  private readonly signatures
  private readonly perDenialAll
  private readonly perDenialOne
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
    this.perDenialAll = db.prepare(`SELECT o.denial_id, sum(o.observed_at >= @mid), count(*), min(o.observed_at), max(o.observed_at)
      FROM occurrences o INDEXED BY idx_occurrences_denial
      WHERE o.observed_at >= @from AND o.observed_at < @until GROUP BY o.denial_id`).raw()
    this.perDenialOne = db.prepare(`SELECT sum(observed_at >= @mid), count(*), min(observed_at), max(observed_at)
      FROM occurrences WHERE denial_id = @id AND observed_at >= @from AND observed_at < @until`).raw()
    this.maxId = db.prepare('SELECT coalesce(max(id), 0) FROM denials').pluck()
    this.dailyOne = db.prepare(`SELECT substr(observed_at, 1, 10), count(*) FROM occurrences
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
   * filter keeps. When the filter keeps few denials (one team), occurrences are read per denial
   * through the index instead of aggregating them all.
   */
  groups (w: ReportWindow, keep: PrincipalFilter = () => true): GroupRow[] {
    const decisions = new Map<string, boolean>()
    const kept = (p: string | null, a: string | null): boolean => {
      const k = `${p ?? ''}\u0000${a ?? ''}`
      let v = decisions.get(k)
      if (v === undefined) { v = keep(p, a); decisions.set(k, v) }
      return v
    }
    // Pass 1: the denials we keep, in signature order (a covering-index scan).
    const rows: SigRow[] = []
    let total = 0
    for (const r of this.signatures.iterate() as IterableIterator<SigRow>) {
      total++
      if (kept(r[1], r[6])) rows.push(r)
    }
    const size = Number(this.maxId.get()) + 1
    const cur = new Int32Array(size)
    const all = new Int32Array(size)
    const first: Array<string | undefined> = new Array(size)
    const last: Array<string | undefined> = new Array(size)
    const record = (id: number, c: number, n: number, f: string, l: string): void => {
      if (id >= size) return
      cur[id] = c; all[id] = n; first[id] = f; last[id] = l
    }
    // Pass 2: occurrences per denial. Index seeks cost more per denial than the scan, so scan unless few are kept.
    if (rows.length * 4 < total) {
      for (const r of rows) {
        const [c, n, f, l] = this.perDenialOne.get({ ...w, id: r[0] }) as [number | null, number, string | null, string | null]
        if (n > 0) record(r[0], c ?? 0, n, f!, l!)
      }
    } else {
      for (const [id, c, n, f, l] of this.perDenialAll.iterate(w) as IterableIterator<[number, number, number, string, string]>) record(id, c, n, f, l)
    }
    // Pass 3: consecutive rows with the same signature form a group (actions compare as IAM does, case-insensitively).
    const out: GroupRow[] = []
    let g: GroupRow | null = null
    let key = ''
    let lastSession: string | null | undefined
    for (const [id, principal, action, resource, decision, principalArn, account] of rows) {
      if (all[id] === 0) continue
      const k = `${principal ?? ''}\u0000${(action ?? '').toLowerCase()}\u0000${resource ?? ''}\u0000${decision}`
      if (g === null || k !== key) {
        g = { principal, account, action, resource, decision, current: 0, previous: 0, sessions: 0, firstSeen: first[id]!, lastSeen: last[id]!, ids: [] }
        out.push(g)
        key = k
        lastSession = undefined
      }
      g.current += cur[id]!
      g.previous += all[id]! - cur[id]!
      if (first[id]! < g.firstSeen) g.firstSeen = first[id]!
      if (last[id]! > g.lastSeen) g.lastSeen = last[id]!
      if (g.account === null && account !== null) g.account = account
      g.ids.push(id)
      // Rows are ordered by principal_arn inside a group: count changes to count distinct sessions.
      if (cur[id]! > 0 && principalArn !== lastSession) { g.sessions++; lastSession = principalArn }
    }
    return out
  }

  /** Occurrences per UTC day (YYYY-MM-DD) of these denials in [since, until). */
  daily (ids: number[], since: string, until: string): Map<string, number> {
    const out = new Map<string, number>()
    for (const id of ids) {
      for (const [day, n] of this.dailyOne.iterate(id, since, until) as IterableIterator<[string, number]>) out.set(day, (out.get(day) ?? 0) + n)
    }
    return out
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
