/** The rollups of migration 0007 (per-day counts, unfiltered facet counts) kept in step with denials and occurrences: changes gathered as deltas, written once per transaction. */
import type { DB } from '../connection.js'

/** What a denial is counted under in the facets and the per-day principals. */
export interface DenialFacets {
  action: string | null
  service: string | null
  /** coalesce(role_arn, principal_arn, ''): the dashboard counts the role of an assumed-role session. */
  principal: string
  account: string | null
  decision: string
  kind: string
  policyType: string | null
  /** condition_keys ids of its distinct condition keys (denials.key_ids). */
  keyIds: readonly number[]
}

/** The columns of a denial row that DenialFacets come from (see facetsOfRow). */
export const FACET_COLUMNS = "action, service, coalesce(role_arn, principal_arn, '') AS principal, principal_account, decision, kind, policy_type, key_ids, last_seen"

export interface FacetRow {
  action: string | null
  service: string | null
  principal: string
  principal_account: string | null
  decision: string
  kind: string
  policy_type: string | null
  key_ids: string
  last_seen: string
}

export function facetsOfRow (r: FacetRow): DenialFacets {
  return {
    action: r.action,
    service: r.service,
    principal: r.principal,
    account: r.principal_account,
    decision: r.decision,
    kind: r.kind,
    policyType: r.policy_type,
    keyIds: r.key_ids === '' ? [] : r.key_ids.split(' ').map(Number)
  }
}

export const day = (iso: string): string => iso.slice(0, 10)

/** SQLite's NOCASE folds ASCII letters only (toLowerCase would fold every script). */
const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, m => m.toLowerCase())

const add = (m: Map<string, number>, k: string, n: number): void => { m.set(k, (m.get(k) ?? 0) + n) }

export class Rollups {
  /** Occurrences per UTC day. */
  private daily = new Map<string, number>()
  /** Denials per UTC day of their last occurrence. */
  private lastDays = new Map<string, number>()
  /** Occurrences per (day, principal, account), keyed by the three joined with NUL. */
  private principals = new Map<string, number>()
  /** Denials per facet value, keyed by facet NUL key; the shown value beside the count. */
  private facets = new Map<string, { value: string, n: number }>()
  private readonly addDaily
  private readonly dropDaily
  private readonly addLastDay
  private readonly dropLastDay
  private readonly addPrincipal
  private readonly dropPrincipal
  private readonly addFacet
  private readonly dropFacet

  constructor (db: DB) {
    this.addDaily = db.prepare('INSERT INTO daily_counts (day, occurrences) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET occurrences = occurrences + excluded.occurrences')
    this.dropDaily = db.prepare('DELETE FROM daily_counts WHERE day = ? AND occurrences <= 0')
    this.addLastDay = db.prepare('INSERT INTO denial_last_days (day, denials) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET denials = denials + excluded.denials')
    this.dropLastDay = db.prepare('DELETE FROM denial_last_days WHERE day = ? AND denials <= 0')
    this.addPrincipal = db.prepare(`INSERT INTO daily_principals (day, principal, account, occurrences) VALUES (?, ?, ?, ?)
      ON CONFLICT (day, principal, account) DO UPDATE SET occurrences = occurrences + excluded.occurrences`)
    this.dropPrincipal = db.prepare('DELETE FROM daily_principals WHERE day = ? AND principal = ? AND account = ? AND occurrences <= 0')
    this.addFacet = db.prepare(`INSERT INTO facet_counts (facet, key, value, denials) VALUES (?, ?, ?, ?)
      ON CONFLICT (facet, key) DO UPDATE SET denials = denials + excluded.denials`)
    this.dropFacet = db.prepare('DELETE FROM facet_counts WHERE facet = ? AND key = ? AND denials <= 0')
  }

  /** A denial stored, its last_seen as inserted. */
  denialAdded (f: DenialFacets, lastSeen: string): void {
    this.countFacets(f, 1)
    add(this.lastDays, day(lastSeen), 1)
  }

  /** A denial deleted, with the last_seen it had. */
  denialRemoved (f: DenialFacets, lastSeen: string): void {
    this.countFacets(f, -1)
    add(this.lastDays, day(lastSeen), -1)
  }

  /** A denial's last_seen changed. */
  lastSeenMoved (before: string, after: string): void {
    const a = day(before)
    const b = day(after)
    if (a === b) return
    add(this.lastDays, a, -1)
    add(this.lastDays, b, 1)
  }

  /** `n` occurrences added (negative: removed) on `observedAt`'s day, of a denial of this principal and account. */
  occurrences (observedAt: string, principal: string, account: string | null, n: number): void {
    const d = day(observedAt)
    add(this.daily, d, n)
    add(this.principals, `${d}\0${principal}\0${account ?? ''}`, n)
  }

  /** Write the gathered deltas (inside the transaction that made the changes); rows counted down to nothing go. */
  flush (): void {
    for (const [d, n] of this.daily) {
      if (n === 0) continue
      this.addDaily.run(d, n)
      if (n < 0) this.dropDaily.run(d)
    }
    for (const [k, n] of this.principals) {
      if (n === 0) continue
      const [d, p, a] = k.split('\0')
      this.addPrincipal.run(d, p, a, n)
      if (n < 0) this.dropPrincipal.run(d, p, a)
    }
    for (const [k, f] of this.facets) {
      if (f.n === 0) continue
      const i = k.indexOf('\0')
      this.addFacet.run(k.slice(0, i), k.slice(i + 1), f.value, f.n)
      if (f.n < 0) this.dropFacet.run(k.slice(0, i), k.slice(i + 1))
    }
    for (const [d, n] of this.lastDays) {
      if (n === 0) continue
      this.addLastDay.run(d, n)
      if (n < 0) this.dropLastDay.run(d)
    }
    this.clear()
  }

  /** Forget deltas not written (the transaction they were for was rolled back). */
  clear (): void {
    this.daily = new Map()
    this.lastDays = new Map()
    this.principals = new Map()
    this.facets = new Map()
  }

  private countFacets (f: DenialFacets, n: number): void {
    if (f.action !== null) this.facet('action', asciiLower(f.action), f.action, n)
    if (f.service !== null) this.facet('service', asciiLower(f.service), f.service, n)
    if (f.principal !== '') this.facet('principal', f.principal, f.principal, n)
    if (f.account !== null) this.facet('account', f.account, f.account, n)
    this.facet('decision', f.decision, f.decision, n)
    this.facet('kind', f.kind, f.kind, n)
    if (f.policyType !== null) this.facet('policyType', f.policyType, f.policyType, n)
    for (const k of f.keyIds) this.facet('conditionKey', String(k), String(k), n)
  }

  private facet (name: string, key: string, value: string, n: number): void {
    const k = `${name}\0${key}`
    const f = this.facets.get(k)
    if (f === undefined) this.facets.set(k, { value, n })
    else f.n += n
  }
}
