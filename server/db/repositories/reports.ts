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
 *
 * The server (a long-lived process) keeps what both passes read in memory instead: every occurrence's
 * time grouped by denial (OccurrenceTimes) and every denial's signature code and facet codes (FacetColumns).
 * A report is then two passes over typed arrays (measured at 1M denials / 4M occurrences: see README's
 * Performance). Both copies are brought up to date in one read transaction before each report; when
 * either cannot answer exactly (an observed_at or a window bound not in canonical form, a resource
 * without a strings id), the report reads SQL as before. Groups are the same either way: runs of the
 * index in signature order, where actions compare as NOCASE does (ASCII letters only).
 */
import type { DB } from '../connection.js'
import type { Decision, DenialKind } from '../../authz/types.js'
import type { ExplainInput } from '../../authz/explain.js'
import { groupConditions, rowToPrincipal, rowToStatement, type StatementRow } from './denial-rows.js'
import type { FacetColumns } from './facet-columns.js'
import { idsOf } from './id-lists.js'
import type { OccurrenceTimes } from './occurrence-times.js'

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

/**
 * The result of one scan: groups 0 … size - 1, and per-day counts for any of them on demand. A report
 * reads every group's counts and names but lists a few hundred at most: a group is made a GroupRow
 * (an object) only when asked for by row(i). At 1M denials a one-team report has ~136,000 groups;
 * an object for each, alive for the whole report, was a third of its time in the collector.
 */
export interface GroupScan {
  size: number
  /** Occurrences of group i in the reported period, and in the period before. */
  current: ArrayLike<number>
  previous: ArrayLike<number>
  principal: (i: number) => string | null
  account: (i: number) => string | null
  action: (i: number) => string | null
  decision: (i: number) => Decision
  /** Read from the database when first asked for, in memory (no resource string is held). */
  resource: (i: number) => string | null
  /** Group i as a row, the same object each time. */
  row: (i: number) => GroupRow
  /** Occurrences per day (over window.days) of each list of denial ids, in one pass. */
  daily: (idLists: number[][]) => number[][]
  codes: ScanCodes
}

/**
 * Group i's principal, account and action as small codes into value lists: the same string, the same
 * code; code 0 is null (entry 0 of a list is not read). A report decides its suppression rules and
 * teams once per code and tallies its top actions and principals in typed arrays, instead of looking
 * strings up in maps for each of ~136,000 groups (a one-team report at 1M denials).
 */
export interface ScanCodes {
  principal: ArrayLike<number>
  account: ArrayLike<number>
  action: ArrayLike<number>
  principals: ReadonlyArray<string | null>
  accounts: ReadonlyArray<string | null>
  actions: ReadonlyArray<string | null>
}

/** Codes for the values of(i), i < size, by first appearance (scanOfRows: the SQL path). */
function codesOf (size: number, of: (i: number) => string | null): { codes: Int32Array, values: Array<string | null> } {
  const codes = new Int32Array(size)
  const values: Array<string | null> = [null]
  const known = new Map<string, number>()
  for (let i = 0; i < size; i++) {
    const v = of(i)
    if (v === null) continue
    let c = known.get(v)
    if (c === undefined) { c = values.length; values.push(v); known.set(v, c) }
    codes[i] = c
  }
  return { codes, values }
}

/** A scan over group objects (the SQL path's). */
function scanOfRows (rows: GroupRow[], daily: GroupScan['daily']): GroupScan {
  const principals = codesOf(rows.length, i => rows[i]!.principal)
  const accounts = codesOf(rows.length, i => rows[i]!.account)
  const actions = codesOf(rows.length, i => rows[i]!.action)
  return {
    size: rows.length,
    current: Int32Array.from(rows, g => g.current),
    previous: Int32Array.from(rows, g => g.previous),
    principal: i => rows[i]!.principal,
    account: i => rows[i]!.account,
    action: i => rows[i]!.action,
    decision: i => rows[i]!.decision,
    resource: i => rows[i]!.resource,
    row: i => rows[i]!,
    daily,
    codes: {
      principal: principals.codes,
      account: accounts.codes,
      action: actions.codes,
      principals: principals.values,
      accounts: accounts.values,
      actions: actions.values
    }
  }
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

/** What the server keeps in memory for reports (see the header comment). */
export interface ReportMemory { columns: FacetColumns, occurrences: OccurrenceTimes }

const DAY_MS = 86_400_000

/** ASCII-only case folding: NOCASE's, the collation of the action column and of idx_denials_signature's order. */
const nocase = (s: string): string => s.replace(/[A-Z]+/g, m => m.toLowerCase())

/** Actions of one group: equal as the index compares them (NULL apart from every text, even ''). */
function sameAction (a: string | null, b: string | null): boolean {
  return a === b || (a !== null && b !== null && nocase(a) === nocase(b))
}

/** toISOString's form, the only one where comparing text (the SQL path) and instants (in memory) agree. */
function canonicalInstant (s: string): boolean {
  const t = Date.parse(s)
  return Number.isFinite(t) && new Date(t).toISOString() === s
}

/** SQLite's BINARY order of two texts (NULL first): UTF-8 bytes. JS compares UTF-16 units, which differs past U+D7FF. */
function binaryCompare (a: string | null, b: string | null): number {
  if (a === b) return 0
  if (a === null) return -1
  if (b === null) return 1
  if (!/[\uD800-\uFFFF]/.test(a) && !/[\uD800-\uFFFF]/.test(b)) return a < b ? -1 : 1
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/**
 * A group found in memory, made for the groups a report lists (GroupScan.row). Its resource is the
 * scan's (read when first asked for: no resource string is held in memory), its ids a view of the
 * scan's member list.
 */
class MemoryGroup implements GroupRow {
  firstSeen = ''
  lastSeen = ''
  private idList: number[] | undefined
  constructor (
    readonly principal: string | null,
    readonly account: string | null,
    readonly action: string | null,
    readonly decision: Decision,
    readonly current: number,
    readonly previous: number,
    readonly sessions: number,
    /** The members, in id order: order[start, end) of the scan. */
    private readonly order: Int32Array,
    private readonly start: number,
    private readonly end: number,
    private readonly resourceOf: () => string | null,
    /** Index order of two members (principal_arn, principal_account, id: idx_denials_signature's order inside a group). */
    readonly indexOrder: (a: number, b: number) => number,
    /** The earliest and latest occurrence (epoch ms) of the members order[start, end). */
    private readonly spanOf: (start: number, end: number) => [number, number]
  ) {}

  /** First and last seen from the occurrence times (see ReportsRepository.seen). */
  fillSeen (): void {
    const [first, last] = this.spanOf(this.start, this.end)
    this.firstSeen = new Date(first).toISOString()
    this.lastSeen = new Date(last).toISOString()
  }

  get resource (): string | null {
    return this.resourceOf()
  }

  get ids (): number[] {
    this.idList ??= Array.from(this.order.subarray(this.start, this.end))
    return this.idList
  }
}

/** A group read from SQL (see sqlGroups): its ids are ids[start, end) of the scan's shared buffer, in index order. */
class SqlGroup implements GroupRow {
  current = 0
  previous = 0
  sessions = 0
  firstSeen = ''
  lastSeen = ''
  readonly start: number
  end: number
  private idList: number[] | undefined
  constructor (
    readonly principal: string | null,
    public account: string | null,
    readonly action: string | null,
    readonly resource: string | null,
    readonly decision: Decision,
    private readonly buffer: { ids: Int32Array, length: number }
  ) {
    this.start = this.end = buffer.length
  }

  get ids (): number[] {
    this.idList ??= Array.from(this.buffer.ids.subarray(this.start, this.end))
    return this.idList
  }
}

export class ReportsRepository {
  private readonly signatures
  private readonly otherKinds
  private readonly perDenialAll
  private readonly maxId
  private readonly seenMany
  private readonly sidsOne
  private readonly detailRow
  private readonly detailConditions
  private readonly detailStatements
  private readonly resourceOne

  constructor (private readonly db: DB, private readonly memory: ReportMemory | null = null) {
    this.resourceOne = db.prepare<[number], string | null>('SELECT resource FROM denials WHERE id = ?').pluck()
    // Same expression and column order as idx_denials_signature: SQLite reads the index, no sort.
    this.otherKinds = db.prepare<[string], number>('SELECT id FROM denials WHERE kind <> ?').pluck()
    this.signatures = db.prepare(`${SIGNATURE_SELECT} ${SIGNATURE_ORDER}`).raw()
    // A covering range scan of (observed_at, denial_id), no sort; the ids of a day come as one
    // comma-separated string (id-lists.ts says why).
    this.perDenialAll = db.prepare(`SELECT group_concat(denial_id) FROM occurrences INDEXED BY idx_occurrences_observed_at
      WHERE observed_at >= ? AND observed_at < ?`).pluck()
    this.maxId = db.prepare('SELECT coalesce(max(id), 0) FROM denials').pluck()
    this.seenMany = db.prepare('SELECT min(first_seen), max(last_seen) FROM denials WHERE id IN (SELECT value FROM json_each(?))').raw()
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
    return this.memoryGroups(w, keep) ?? this.sqlGroups(w, keep, prefilter)
  }

  /** Load what reports keep in memory in the background (nothing without it); the denials' columns are warmed by search. */
  async warm (): Promise<void> {
    await this.memory?.occurrences.warm()
  }

  /** groups() read from SQL: the one-shot path (CLI), and the server's when memory cannot answer exactly. */
  sqlGroups (w: ReportWindow, keep: PrincipalFilter = () => true, prefilter?: PrincipalPrefilter): GroupScan {
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
    // Memory (the CLI reports all teams in one process, 434,000 groups at 1M denials): a group's ids
    // are a run of one shared array (the rows of a group are consecutive), and its principal, account,
    // action and decision are one string per distinct value, not a copy per group.
    const out: GroupRow[] = []
    const idBuffer = { ids: new Int32Array(1 << 16), length: 0 }
    const interned = new Map<string, string>()
    const intern = (v: string | null): string | null => {
      if (v === null) return null
      const known = interned.get(v)
      if (known !== undefined) return known
      interned.set(v, v)
      return v
    }
    let g: SqlGroup | null = null
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
      // As the index compares: a group is one run of the index whichever rows the window leaves out.
      const same = g !== null && principal === g.principal && resource === g.resource && decision === g.decision && sameAction(action, g.action)
      if (!same) {
        g = new SqlGroup(intern(principal), intern(account), intern(action), resource, intern(decision) as Decision, idBuffer)
        out.push(g)
        lastSession = undefined
      }
      if (g === null) continue
      g.current += cur[id]!
      g.previous += all[id]! - cur[id]!
      if (g.account === null && account !== null) g.account = intern(account)
      if (idBuffer.length === idBuffer.ids.length) {
        const grown = new Int32Array(idBuffer.length * 2)
        grown.set(idBuffer.ids)
        idBuffer.ids = grown
      }
      idBuffer.ids[idBuffer.length++] = id
      g.end = idBuffer.length
      // Rows are ordered by principal_arn inside a group: count changes to count distinct sessions.
      if (cur[id]! > 0 && principalArn !== lastSession) { g.sessions++; lastSession = principalArn }
    }
    const days = w.days.length
    return scanOfRows(out, (idLists) => {
      const slot = new Int32Array(size).fill(-1)
      idLists.forEach((ids, j) => { for (const id of ids) if (id < size) slot[id] = j })
      const counts = idLists.map(() => new Array<number>(days).fill(0))
      for (let k = 0; k < n; k++) {
        const j = slot[occId[k]!]!
        if (j >= 0) counts[j]![occDay[k]!]!++
      }
      return counts
    })
  }

  /**
   * groups() from memory, or null when memory cannot answer exactly. Pass 1 counts the window's
   * occurrences per denial in one pass over the occurrence times; pass 2 buckets the denials with
   * occurrences by signature code (a counting sort: members of a group end up adjacent, in id order)
   * and sums each bucket. The team filter is asked once per (principal, account) pair of codes.
   */
  private memoryGroups (w: ReportWindow, keep: PrincipalFilter): GroupScan | null {
    const memory = this.memory
    if (memory === null || w.days.length === 0 || !canonicalInstant(w.from) || !canonicalInstant(w.mid) || !canonicalInstant(w.until)) return null
    // The SQL path covers [from, until) by the days of w.days, the last one up to until: the same as
    // [from, until) with days counted from days[0] only when the days start at from's and follow each other.
    const day0 = Date.parse(`${w.days[0]}T00:00:00.000Z`)
    if (w.days[0] !== w.from.slice(0, 10) || w.days.some((d, i) => new Date(day0 + i * DAY_MS).toISOString().slice(0, 10) !== d)) return null
    // One read transaction: both copies see the same state of the file.
    this.db.transaction(() => { memory.columns.refresh(); memory.occurrences.refresh() })()
    const occ = memory.occurrences
    const cols = memory.columns.view()
    if (!occ.exact || !cols.exact) return null

    const from = Date.parse(w.from)
    const mid = Date.parse(w.mid)
    const until = Date.parse(w.until)
    const lastDay = w.days.length - 1
    const size = cols.loadedMax + 1
    const snap = occ.snapshot()
    const kindCol = cols.column('kind')
    // Restricted to one kind: the other kind's denials are left out of the window (-1: no denial of that kind).
    const kind = w.kind ? cols.values('kind').indexOf(w.kind) : 0

    const sig = cols.signature
    const principalCol = cols.column('principal')
    const accountCol = cols.column('account')
    const sessionCol = cols.column('principalArn')
    const actionCol = cols.column('action')
    const decisionCol = cols.column('decision')
    const principals = cols.values('principal')
    const accounts = cols.values('account')
    const sessionValues = cols.values('principalArn')
    const actions = cols.values('action')
    const decisions = cols.values('decision')

    // Which denials the report reads: of its kind, kept by the filter. The filter's answer per
    // (principal, account) pair of codes: 1 kept, 2 not, 0 not asked yet.
    const pairs = principals.length * accounts.length
    const keptSmall = pairs <= 1 << 22 ? new Uint8Array(pairs) : null
    const keptLarge = new Map<number, number>()
    const wanted = new Uint8Array(size)
    for (let id = 1; id < size; id++) {
      // decision is NOT NULL: code 0 is an id with no denial.
      if (decisionCol[id] === 0 || (kind !== 0 && kindCol[id] !== kind)) continue
      const key = principalCol[id]! * accounts.length + accountCol[id]!
      let kept = keptSmall !== null ? keptSmall[key]! : keptLarge.get(key) ?? 0
      if (kept === 0) {
        const p = principalCol[id]!
        const a = accountCol[id]!
        kept = keep(p === 0 ? null : principals[p]!, a === 0 ? null : accounts[a]!) ? 1 : 2
        if (keptSmall !== null) keptSmall[key] = kept
        else keptLarge.set(key, kept)
      }
      if (kept === 1) wanted[id] = 1
    }

    // Pass 1: occurrences of the window per wanted denial, from its own times (read in order), then
    // from the tail loaded since the last merge. counts[2 id]: in the window; counts[2 id + 1]: in
    // the reported period (one array: one cache line per denial).
    const { start, times, tailDenials, tailTimes, tailLength } = snap
    const grouped = Math.min(size, start.length - 1)
    const counts = new Int32Array(2 * size)
    for (let id = 1; id < grouped; id++) {
      if (wanted[id] === 0) continue
      let inWindow = 0
      let inPeriod = 0
      for (let k = start[id]!, end = start[id + 1]!; k < end; k++) {
        const t = times[k]!
        if (t >= from && t < until) { inWindow++; if (t >= mid) inPeriod++ }
      }
      counts[2 * id] = inWindow
      counts[2 * id + 1] = inPeriod
    }
    for (let k = 0; k < tailLength; k++) {
      const id = tailDenials[k]!
      const t = tailTimes[k]!
      if (id >= size || wanted[id] === 0 || !(t >= from && t < until)) continue
      counts[2 * id]!++
      if (t >= mid) counts[2 * id + 1]!++
    }

    // Pass 2: the denials with occurrences in the window, bucketed by signature.
    const count = new Int32Array(cols.signatures + 2)
    let members = 0
    for (let id = 1; id < size; id++) {
      if (counts[2 * id] === 0) continue
      count[sig[id]! + 1]!++
      members++
    }
    // count[s + 1] → start of bucket s; then filled in id order.
    for (let s = 1; s < count.length; s++) count[s]! += count[s - 1]!
    const order = new Int32Array(members)
    const next = count.slice()
    for (let id = 1; id < size; id++) if (counts[2 * id] !== 0) order[next[sig[id]!]!++] = id

    const text = (values: readonly string[], c: number): string | null => c === 0 ? null : values[c]!
    const indexOrder = (a: number, b: number): number =>
      binaryCompare(text(sessionValues, sessionCol[a]!), text(sessionValues, sessionCol[b]!)) ||
      binaryCompare(text(accounts, accountCol[a]!), text(accounts, accountCol[b]!)) || a - b
    const resourceOf = (id: number): string | null => this.resourceOne.get(id) ?? null
    // Earliest and latest occurrence of some denials: their grouped times, and the tail's, whose
    // per-denial span is computed once for the scan when first asked for.
    let tailSpan: { first: Float64Array, last: Float64Array } | null = null
    const spanOf = (a: number, b: number): [number, number] => {
      if (tailSpan === null && tailLength > 0) {
        const first = new Float64Array(size).fill(Infinity)
        const last = new Float64Array(size).fill(-Infinity)
        for (let k = 0; k < tailLength; k++) {
          const id = tailDenials[k]!
          const t = tailTimes[k]!
          if (id >= size) continue
          if (t < first[id]!) first[id] = t
          if (t > last[id]!) last[id] = t
        }
        tailSpan = { first, last }
      }
      let min = Infinity
      let max = -Infinity
      for (let i = a; i < b; i++) {
        const id = order[i]!
        if (id < grouped) {
          for (let k = start[id]!, end = start[id + 1]!; k < end; k++) {
            const t = times[k]!
            if (t < min) min = t
            if (t > max) max = t
          }
        }
        if (tailSpan !== null) {
          if (tailSpan.first[id]! < min) min = tailSpan.first[id]!
          if (tailSpan.last[id]! > max) max = tailSpan.last[id]!
        }
      }
      return [min, max]
    }
    const stamp = new Int32Array(sessionValues.length)
    // Group g: members order[gStart[g], gEnd[g]), its counts, and the codes of its names.
    let groups = 0
    const gStart = new Int32Array(members)
    const gEnd = new Int32Array(members)
    const gCurrent = new Int32Array(members)
    const gPrevious = new Int32Array(members)
    const gSessions = new Int32Array(members)
    const gPrincipal = new Int32Array(members)
    const gAccount = new Int32Array(members)
    const gAction = new Int32Array(members)
    const gDecision = new Int32Array(members)
    for (let s = 1; s <= cols.signatures; s++) {
      const a = count[s]!
      const b = count[s + 1]!
      if (a === b) continue
      let current = 0
      let previous = 0
      let sessions = 0
      let account = 0
      let mixed = false
      const action = actionCol[order[a]!]!
      for (let i = a; i < b; i++) {
        const id = order[i]!
        const inPeriod = counts[2 * id + 1]!
        current += inPeriod
        previous += counts[2 * id]! - inPeriod
        // Distinct principal_arn (NULL counts as one) among the members seen in the reported period.
        const session = sessionCol[id]!
        if (inPeriod > 0 && stamp[session] !== s) { stamp[session] = s; sessions++ }
        if (actionCol[id] !== action) mixed = true
        const ac = accountCol[id]!
        if (ac !== 0 && ac !== account) { if (account !== 0) mixed = true; account = ac }
      }
      const first = order[a]!
      let actionCode = action
      let accountCode = account
      if (mixed) {
        // Spellings or accounts differ: the SQL path takes the action of the group's first row in
        // index order, and the account of the first row that has one.
        let head = first
        let headWithAccount = accountCol[first] !== 0 ? first : 0
        for (let i = a + 1; i < b; i++) {
          const id = order[i]!
          if (indexOrder(id, head) < 0) head = id
          if (accountCol[id] !== 0 && (headWithAccount === 0 || indexOrder(id, headWithAccount) < 0)) headWithAccount = id
        }
        actionCode = actionCol[head]!
        accountCode = headWithAccount === 0 ? 0 : accountCol[headWithAccount]!
      }
      const g = groups++
      gStart[g] = a
      gEnd[g] = b
      gCurrent[g] = current
      gPrevious[g] = previous
      gSessions[g] = sessions
      gPrincipal[g] = principalCol[first]!
      gAccount[g] = accountCode
      gAction[g] = actionCode
      gDecision[g] = decisionCol[first]!
    }

    const resources = new Map<number, string | null>()
    const resource = (g: number): string | null => {
      let r = resources.get(g)
      if (r === undefined) { r = resourceOf(order[gStart[g]!]!); resources.set(g, r) }
      return r
    }
    const rows = new Map<number, MemoryGroup>()
    const days = w.days.length
    return {
      size: groups,
      current: gCurrent.subarray(0, groups),
      previous: gPrevious.subarray(0, groups),
      principal: g => text(principals, gPrincipal[g]!),
      account: g => text(accounts, gAccount[g]!),
      action: g => text(actions, gAction[g]!),
      decision: g => decisions[gDecision[g]!] as Decision,
      resource,
      row: g => {
        let r = rows.get(g)
        if (r === undefined) {
          r = new MemoryGroup(text(principals, gPrincipal[g]!), text(accounts, gAccount[g]!), text(actions, gAction[g]!),
            decisions[gDecision[g]!] as Decision, gCurrent[g]!, gPrevious[g]!, gSessions[g]!, order, gStart[g]!, gEnd[g]!, () => resource(g), indexOrder, spanOf)
          rows.set(g, r)
        }
        return r
      },
      codes: {
        principal: gPrincipal.subarray(0, groups),
        account: gAccount.subarray(0, groups),
        action: gAction.subarray(0, groups),
        principals,
        accounts,
        actions
      },
      daily: (idLists) => {
        const perDay = idLists.map(() => new Array<number>(days).fill(0))
        const dayOf = (t: number): number => Math.min(lastDay, Math.floor((t - day0) / DAY_MS))
        // slot[id]: 1 + the list that holds id, 0 for none (for the tail).
        const slot = tailLength > 0 ? new Int32Array(size) : null
        idLists.forEach((ids, j) => {
          const row = perDay[j]!
          for (const id of ids) {
            if (id >= size || wanted[id] === 0) continue
            if (slot !== null) slot[id] = j + 1
            if (id >= grouped) continue
            for (let k = start[id]!, end = start[id + 1]!; k < end; k++) {
              const t = times[k]!
              if (t >= from && t < until) row[dayOf(t)]!++
            }
          }
        })
        if (slot !== null) {
          for (let k = 0; k < tailLength; k++) {
            const id = tailDenials[k]!
            const t = tailTimes[k]!
            if (id >= size || slot[id] === 0 || !(t >= from && t < until)) continue
            perDay[slot[id]! - 1]![dayOf(t)]!++
          }
        }
        return perDay
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

  /**
   * First and last seen (whole history) of a group's denials; filled in for the groups a report lists.
   * A group found in memory takes them from the occurrence times: a denial with occurrences (every
   * member has some in the window) has first_seen and last_seen exactly its least and greatest
   * observed_at (the writer and events.relink keep them so; search's time window relies on it too),
   * and memory answers only when every observed_at is canonical, where the least text is the
   * earliest instant. It spares a lookup per member (~20 ms per one-team report at 1M denials).
   */
  seen (g: GroupRow): void {
    if (g instanceof MemoryGroup) { g.fillSeen(); return }
    // One statement per group, its ids as a JSON array: a statement per id cost ~3 µs each in
    // better-sqlite3's call overhead, 60 ms per one-team report at 1M denials.
    const r = this.seenMany.get(JSON.stringify(g.ids)) as [string | null, string | null] | undefined
    if (r?.[0] != null && (g.firstSeen === '' || r[0] < g.firstSeen)) g.firstSeen = r[0]
    if (r?.[1] != null && (g.lastSeen === '' || r[1] > g.lastSeen)) g.lastSeen = r[1]
  }

  /** Distinct non-empty Sids of the statements that matched a group's denials (the first `limit` in index order). */
  sids (g: GroupRow, limit = 500): string[] {
    let ids = g.ids
    // Which `limit` denials are read depends on their order: a group found in memory sorts its members as the index does.
    if (g instanceof MemoryGroup && ids.length > limit) ids = ids.slice().sort(g.indexOrder)
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
