/**
 * Reports repository: denials grouped by signature (principal, or its role for sessions; action;
 * resource; decision) with their occurrences in two adjacent periods, and the per-group details
 * (daily counts, Sids, a sample denial) for the groups a report lists.
 *
 * Why not one GROUP BY over occurrences ⋈ denials: on 1M occurrences that join needs a 700k-row
 * temp B-tree (≈6 s). Here occurrences are read once, one UTC day at a time, from a covering range
 * scan of idx_occurrences_observed_at (no sort, no table reads): each denial id is counted for its
 * period, and (id, day) is kept in two typed arrays, so the per-day counts of the listed groups cost
 * one pass over memory instead of a query each. The denials are then read from a covering index
 * already in signature order (idx_denials_signature, migration 0002): each group is a run of
 * consecutive rows, summed in one streaming pass with no map of every group.
 */
import type { DB } from '../connection.js'
import type { Decision, DenialKind } from '../../authz/types.js'
import type { ExplainInput } from '../../authz/explain.js'
import { groupConditions, rowToPrincipal, rowToStatement, type StatementRow } from './denial-rows.js'
import { idsOf } from './id-lists.js'

export interface ReportWindow {
  /** Start of the previous period (ISO instant, inclusive). */
  from: string
  /** Start of the reported period = end of the previous one. */
  mid: string
  /** End of the reported period (exclusive). */
  until: string
  /** The UTC days (YYYY-MM-DD) from `from` to `until`: the grid of the per-day counts. */
  days: string[]
  /** Only denials of this kind (decoded messages or access-denied text); absent: both. */
  kind?: DenialKind | null | undefined
}

/** The result of one scan: the groups, and per-day counts for any of them on demand. */
export interface GroupScan {
  groups: GroupRow[]
  /** Occurrences per day (over window.days) of each list of denial ids, in one pass. */
  daily: (idLists: number[][]) => number[][]
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
  /** First and last occurrence of any of its denials in the whole stored history. */
  firstSeen: string
  lastSeen: string
  ids: number[]
}

/** Decides, per (principal, account), whether its denials belong in the report (e.g. one team). */
export type PrincipalFilter = (principal: string | null, account: string | null) => boolean

/**
 * An optional SQL pre-filter, a superset of what the PrincipalFilter keeps: the principal's account is
 * one of `accounts`, or the normalised principal matches one of `globs` (IAM `*`/`?` globs). It spares
 * reading the other teams' rows; the PrincipalFilter still decides.
 */
export interface PrincipalPrefilter { accounts: string[], globs: string[] }

const SIGNATURE_SELECT = `SELECT id, coalesce(role_arn, principal_arn), action, resource, decision, principal_arn, principal_account
      FROM denials INDEXED BY idx_denials_signature`
const SIGNATURE_ORDER = 'ORDER BY coalesce(role_arn, principal_arn), action, resource, decision, principal_arn'

/** IAM glob → SQLite GLOB: the same `*` and `?`; a `[` must not open a character class. */
const sqlGlob = (g: string): string => g.replace(/\[/g, '[[]')

type SigRow = [number, string | null, string | null, string | null, Decision, string | null, string | null]

export class ReportsRepository {
  private readonly signatures
  private readonly otherKinds
  private readonly perDenialAll
  private readonly maxId
  private readonly seenOne
  private readonly sidsOne
  private readonly detailRow
  private readonly detailConditions
  private readonly detailStatements

  constructor (private readonly db: DB) {
    // Same expression and column order as idx_denials_signature: SQLite reads the index, no sort.
    this.otherKinds = db.prepare<[string], number>('SELECT id FROM denials WHERE kind <> ?').pluck()
    this.signatures = db.prepare(`${SIGNATURE_SELECT} ${SIGNATURE_ORDER}`).raw()
    // A covering range scan of (observed_at, denial_id), no sort; the ids of a day come as one
    // comma-separated string (id-lists.ts says why).
    this.perDenialAll = db.prepare(`SELECT group_concat(denial_id) FROM occurrences INDEXED BY idx_occurrences_observed_at
      WHERE observed_at >= ? AND observed_at < ?`).pluck()
    this.maxId = db.prepare('SELECT coalesce(max(id), 0) FROM denials').pluck()
    this.seenOne = db.prepare('SELECT first_seen, last_seen FROM denials WHERE id = ?').raw()
    this.sidsOne = db.prepare("SELECT DISTINCT statement_id FROM statements WHERE denial_id = ? AND statement_id IS NOT NULL AND statement_id <> ''").pluck()
    this.detailRow = db.prepare<[number], {
      decision: Decision,
      action: string | null,
      action_raw: string | null,
      service: string | null,
      resource: string | null,
      principal_arn: string | null,
      principal_id: string | null,
      principal_name: string | null,
      principal_type: string | null,
      principal_account: string | null,
      role_arn: string | null,
      session_name: string | null
    }>(`SELECT decision, action, action_raw, service, resource, principal_arn, principal_id, principal_name, principal_type,
      principal_account, role_arn, session_name FROM denials WHERE id = ?`)
    this.detailConditions = db.prepare<[number], { key: string, value: string }>(`SELECT ks.value AS key, vs.value AS value FROM conditions c JOIN strings ks ON ks.id = c.key_sid JOIN strings vs ON vs.id = c.value_id
       WHERE c.denial_id = ? ORDER BY c.position`)
    this.detailStatements = db.prepare<[number], StatementRow>(
      'SELECT statement_id, effect, principals, principal_groups, actions, resources, conditions FROM statements WHERE denial_id = ? ORDER BY position')
  }

  /**
   * Every signature group with at least one occurrence in [from, until), among the principals the
   * filter keeps, with first and last seen over the whole history.
   */
  groups (w: ReportWindow, keep: PrincipalFilter = () => true, prefilter?: PrincipalPrefilter): GroupScan {
    // Pass 1: the occurrences of the window, one day (split at `mid`) per range scan.
    const size = Number(this.maxId.get()) + 1
    const cur = new Int32Array(size)
    const all = new Int32Array(size)
    let occId = new Int32Array(1 << 16)
    let occDay = new Uint16Array(1 << 16)
    let n = 0
    // Restricted to one kind: the other kind's denials are left out of the window, hence out of every group.
    let excluded: Uint8Array | null = null
    if (w.kind) {
      excluded = new Uint8Array(size)
      for (const id of this.otherKinds.iterate(w.kind)) if (id < size) excluded[id] = 1
    }
    w.days.forEach((day, i) => {
      const dayStart = `${day}T00:00:00.000Z`
      const dayEnd = i + 1 < w.days.length ? `${w.days[i + 1]}T00:00:00.000Z` : w.until
      const a = dayStart < w.from ? w.from : dayStart
      const b = dayEnd > w.until ? w.until : dayEnd
      const cuts = a < w.mid && w.mid < b ? [[a, w.mid], [w.mid, b]] : [[a, b]]
      for (const [lo, hi] of cuts as Array<[string, string]>) {
        if (lo >= hi) continue
        const current = lo >= w.mid
        for (const id of idsOf(this.perDenialAll.get(lo, hi) as string | null)) {
          if (id >= size || excluded?.[id] === 1) continue
          all[id]!++
          if (current) cur[id]!++
          if (n === occId.length) {
            const id2 = new Int32Array(n * 2); id2.set(occId); occId = id2
            const day2 = new Uint16Array(n * 2); day2.set(occDay); occDay = day2
          }
          occId[n] = id
          occDay[n] = i
          n++
        }
      }
    })
    // Pass 2: denials in signature order (a covering-index scan); consecutive rows with the same
    // signature form a group. Actions compare as IAM compares them, case-insensitively.
    const out: GroupRow[] = []
    let g: GroupRow | null = null
    let lastSession: string | null | undefined
    // Rows come sorted by principal: the filter is asked once per run of the same principal and account.
    let keptFor: string | null | undefined
    let keptAccount: string | null | undefined
    let kept = false
    for (const [id, principal, action, resource, decision, principalArn, account] of this.signatureRows(prefilter)) {
      if (all[id] === 0) continue
      if (principal !== keptFor || account !== keptAccount) {
        keptFor = principal; keptAccount = account
        kept = keep(principal, account)
      }
      if (!kept) continue
      const same = g !== null && principal === g.principal && resource === g.resource && decision === g.decision &&
        (action === g.action || (action ?? '').toLowerCase() === (g.action ?? '').toLowerCase())
      if (!same) {
        g = { principal, account, action, resource, decision, current: 0, previous: 0, sessions: 0, firstSeen: '', lastSeen: '', ids: [] }
        out.push(g)
        lastSession = undefined
      }
      if (g === null) continue
      g.current += cur[id]!
      g.previous += all[id]! - cur[id]!
      if (g.account === null && account !== null) g.account = account
      g.ids.push(id)
      // Rows are ordered by principal_arn inside a group: count changes to count distinct sessions.
      if (cur[id]! > 0 && principalArn !== lastSession) { g.sessions++; lastSession = principalArn }
    }
    const days = w.days.length
    return {
      groups: out,
      daily: (idLists) => {
        const slot = new Int32Array(size).fill(-1)
        idLists.forEach((ids, j) => { for (const id of ids) if (id < size) slot[id] = j })
        const counts = idLists.map(() => new Array<number>(days).fill(0))
        for (let k = 0; k < n; k++) {
          const j = slot[occId[k]!]!
          if (j >= 0) counts[j]![occDay[k]!]!++
        }
        return counts
      }
    }
  }

  private signatureRows (f: PrincipalPrefilter | undefined): IterableIterator<SigRow> {
    if (!f) return this.signatures.iterate() as IterableIterator<SigRow>
    const terms: string[] = []
    const params: string[] = []
    if (f.accounts.length > 0) {
      terms.push(`principal_account IN (${f.accounts.map(() => '?').join(', ')})`)
      params.push(...f.accounts)
    }
    for (const g of f.globs) {
      terms.push('coalesce(role_arn, principal_arn) GLOB ?')
      params.push(sqlGlob(g))
    }
    if (terms.length === 0) return [][Symbol.iterator]()
    return this.db.prepare(`${SIGNATURE_SELECT} WHERE ${terms.join(' OR ')} ${SIGNATURE_ORDER}`).raw().iterate(...params) as IterableIterator<SigRow>
  }

  /** First and last seen (whole history) of a group's denials; filled in for the groups a report lists. */
  seen (g: GroupRow): void {
    for (const id of g.ids) {
      const r = this.seenOne.get(id) as [string, string] | undefined
      if (!r) continue
      if (g.firstSeen === '' || r[0] < g.firstSeen) g.firstSeen = r[0]
      if (g.lastSeen === '' || r[1] > g.lastSeen) g.lastSeen = r[1]
    }
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
    const conditions = groupConditions(this.detailConditions.all(id))
    return {
      decision: r.decision,
      action: r.action,
      actionRaw: r.action_raw,
      service: r.service,
      resource: r.resource,
      principal: rowToPrincipal(r),
      conditions,
      statements: this.detailStatements.all(id).map(rowToStatement)
    }
  }
}
