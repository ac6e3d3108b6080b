/** Stats for the dashboard and the denial page: totals over a period, per-day counts, top and similar denials. */
import type { DB } from '../connection.js'
import type { DenialSummary } from '../../authz/types.js'
import { rowToSummary, SUMMARY_COLUMNS, type DenialRow } from './denial-rows.js'

export interface PeriodTotals {
  /** Distinct denials with at least one occurrence in the period. */
  denials: number
  occurrences: number
  principals: number
  accounts: number
}

export interface DayCount { day: string, count: number }

export interface RecurringDenial extends DenialSummary {
  /** Occurrences inside the period (the summary's `occurrences` counts all time). */
  periodOccurrences: number
}

export interface SimilarDenials {
  /** Same principal (the role, for assumed-role sessions) and action, other resources. */
  samePrincipalAction: DenialSummary[]
  /** Same action and resource, other principals. */
  sameActionResource: DenialSummary[]
}

type SummaryRow = Pick<DenialRow, 'id' | 'decision' | 'action' | 'service' | 'principal_arn' | 'resource' | 'region' | 'occurrences' | 'first_seen' | 'last_seen'>

/** '' sorts below every ISO instant: the lower bound of "all time". */
const ALL_TIME = ''

/** The first day a rollup query covers when `since` is all time or a midnight UTC; null otherwise (the rollups count whole days). */
function rollupDay (since: string | null): string | null {
  if (since === null) return ALL_TIME
  return /^\d{4}-\d{2}-\d{2}T00:00:00(?:\.000)?Z$/.test(since) ? since.slice(0, 10) : null
}

export class StatsRepository {
  private readonly totalsStmt
  private readonly totalsAllStmt
  private readonly perDayStmt
  private readonly recurringCandidatesStmt
  private readonly periodCountStmt
  private readonly denialPerDayStmt
  private readonly samePrincipalStmt
  private readonly sameResourceStmt
  private readonly firstOccurrenceStmt
  private readonly totalsEverStmt
  private readonly recurringEverStmt
  private readonly rollupOccurrencesStmt
  private readonly rollupDenialsStmt
  private readonly rollupPrincipalsStmt
  private readonly rollupPerDayStmt

  constructor (db: DB) {
    this.totalsStmt = db.prepare<{ since: string }, { occurrences: number }>(
      'SELECT count(*) AS occurrences FROM occurrences WHERE observed_at >= @since')
    // A denial occurred at or after `since` exactly when its last occurrence did: last_seen answers
    // from its index, without grouping the period's occurrences.
    this.totalsAllStmt = db.prepare<{ since: string }, { denials: number, principals: number, accounts: number }>(
      `SELECT count(*) AS denials, count(DISTINCT coalesce(d.role_arn, d.principal_arn)) AS principals, count(DISTINCT d.principal_account) AS accounts
       FROM denials d WHERE d.last_seen >= @since`)
    this.perDayStmt = db.prepare<{ since: string }, DayCount>(
      'SELECT substr(observed_at, 1, 10) AS day, count(*) AS count FROM occurrences WHERE observed_at >= @since GROUP BY 1 ORDER BY 1')
    this.recurringCandidatesStmt = db.prepare<{ since: string, limit: number, offset: number }, SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM denials d WHERE d.last_seen >= @since ORDER BY d.occurrences DESC, d.id DESC LIMIT @limit OFFSET @offset`)
    this.periodCountStmt = db.prepare<[number, string], { n: number }>('SELECT count(*) AS n FROM occurrences WHERE denial_id = ? AND observed_at >= ?')
    this.denialPerDayStmt = db.prepare<{ id: number }, DayCount>(
      'SELECT substr(observed_at, 1, 10) AS day, count(*) AS count FROM occurrences WHERE denial_id = @id GROUP BY 1 ORDER BY 1')
    this.samePrincipalStmt = db.prepare<{ id: number, principal: string, action: string, limit: number }, SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM denials d
       WHERE (d.role_arn = @principal OR d.principal_arn = @principal) AND d.action = @action AND d.id <> @id
         AND d.resource IS NOT (SELECT resource FROM denials WHERE id = @id)
       ORDER BY d.last_seen DESC, d.id DESC LIMIT @limit`)
    this.sameResourceStmt = db.prepare<{ id: number, principal: string, action: string, resource: string, limit: number }, SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM denials d
       WHERE d.resource = @resource AND d.action = @action AND d.id <> @id AND coalesce(d.role_arn, d.principal_arn, '') <> @principal
       ORDER BY d.last_seen DESC, d.id DESC LIMIT @limit`)
    this.firstOccurrenceStmt = db.prepare<[], { first: string | null }>('SELECT min(observed_at) AS first FROM occurrences')
    // All time: the per-denial counters answer without scanning occurrences.
    this.totalsEverStmt = db.prepare<[], PeriodTotals>(
      `SELECT count(*) AS denials, coalesce(sum(occurrences), 0) AS occurrences,
         count(DISTINCT coalesce(role_arn, principal_arn)) AS principals, count(DISTINCT principal_account) AS accounts FROM denials`)
    // The rollups (migration 0004) answer for periods that start at midnight UTC, as the dashboard's do.
    this.rollupOccurrencesStmt = db.prepare<{ day: string }, number>('SELECT coalesce(sum(occurrences), 0) FROM daily_counts WHERE day >= @day').pluck()
    this.rollupDenialsStmt = db.prepare<{ day: string }, number>('SELECT coalesce(sum(denials), 0) FROM denial_last_days WHERE day >= @day').pluck()
    this.rollupPrincipalsStmt = db.prepare<{ day: string }, { principals: number, accounts: number }>(
      'SELECT count(DISTINCT nullif(principal, \'\')) AS principals, count(DISTINCT nullif(account, \'\')) AS accounts FROM daily_principals WHERE day >= @day')
    this.rollupPerDayStmt = db.prepare<{ day: string }, DayCount>('SELECT day, occurrences AS count FROM daily_counts WHERE day >= @day ORDER BY day')
    this.recurringEverStmt = db.prepare<{ limit: number }, SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM denials d ORDER BY d.occurrences DESC, d.id DESC LIMIT @limit`)
  }

  /** Totals over occurrences at or after `since` (an ISO instant; null: all time). */
  totals (since: string | null): PeriodTotals {
    const day = rollupDay(since)
    if (day !== null) {
      return { denials: this.rollupDenialsStmt.get({ day })!, occurrences: this.rollupOccurrencesStmt.get({ day })!, ...this.rollupPrincipalsStmt.get({ day })! }
    }
    if (since === null) return this.totalsEverStmt.get()!
    const s = since
    const a = this.totalsStmt.get({ since: s })!
    const b = this.totalsAllStmt.get({ since: s })!
    return { denials: b.denials, occurrences: a.occurrences, principals: b.principals, accounts: b.accounts }
  }

  /** Occurrences per UTC day at or after `since`; days without any are absent. */
  perDay (since: string | null): DayCount[] {
    const day = rollupDay(since)
    if (day !== null) return this.rollupPerDayStmt.all({ day })
    return this.perDayStmt.all({ since: since ?? ALL_TIME })
  }

  /** The denials that occurred most often in the period. */
  mostRecurring (since: string | null, limit = 10): RecurringDenial[] {
    if (since === null) return this.recurringEverStmt.all({ limit }).map(r => ({ ...rowToSummary(r), periodOccurrences: r.occurrences }))
    // A denial's count in the period is at most its all-time count. Visit the period's denials by
    // all-time count and stop once the limit-th best period count beats every denial still to come:
    // a handful of per-denial counts instead of grouping every occurrence of the period.
    // Candidates come in pages (a top-N sort is far cheaper than sorting every denial of the period).
    const best: RecurringDenial[] = []
    const page = Math.max(4 * limit, 64)
    for (let offset = 0; ; offset += page) {
      const rows = this.recurringCandidatesStmt.all({ since, limit: page, offset })
      for (const r of rows) {
        const last = best[limit - 1]
        if (last !== undefined && last.periodOccurrences > r.occurrences) return best
        const n = this.periodCountStmt.get(r.id, since)!.n
        best.push({ ...rowToSummary(r), periodOccurrences: n })
        best.sort((a, b) => b.periodOccurrences - a.periodOccurrences || b.id - a.id)
        if (best.length > limit) best.pop()
      }
      if (rows.length < page) return best
    }
  }

  /** One denial's occurrences per UTC day, over its whole history. */
  denialPerDay (id: number): DayCount[] {
    return this.denialPerDayStmt.all({ id })
  }

  /** The earliest occurrence stored, if any. */
  firstOccurrence (): string | null {
    return this.firstOccurrenceStmt.get()?.first ?? null
  }

  similar (d: { id: number, action: string | null, resource: string | null, principal: { arn: string | null, roleArn: string | null } }, limit = 10): SimilarDenials {
    const principal = d.principal.roleArn ?? d.principal.arn
    return {
      samePrincipalAction: principal !== null && d.action !== null
        ? this.samePrincipalStmt.all({ id: d.id, principal, action: d.action, limit }).map(rowToSummary)
        : [],
      sameActionResource: d.action !== null && d.resource !== null
        ? this.sameResourceStmt.all({ id: d.id, principal: principal ?? '', action: d.action, resource: d.resource, limit }).map(rowToSummary)
        : []
    }
  }
}
