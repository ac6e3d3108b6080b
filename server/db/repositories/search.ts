/** Search over denials: combinable filters (AND), keyset pagination, and facet counts. */
import type { DB } from '../connection.js'
import type { DenialSummary } from '../../authz/types.js'
import { BadCursorError, BadFilterError } from '../../errors.js'
import type { DenialFilters, SortOrder } from '../../schemas/denials.js'
import { rowToSummary, SUMMARY_COLUMNS, type DenialRow } from './denial-rows.js'

// The filters' since and until arrive as ISO-8601 instants (resolved by toFilters); the window is [since, until).
export type { DenialFilters, SortOrder }

export interface SearchOptions {
  limit?: number | undefined
  cursor?: string | undefined
  sort?: SortOrder | undefined
  facets?: boolean | undefined
  facetLimit?: number | undefined
}

export interface FacetValue { value: string, count: number }
export interface Facets {
  action: FacetValue[]
  principal: FacetValue[]
  account: FacetValue[]
  conditionKey: FacetValue[]
  service: FacetValue[]
  decision: FacetValue[]
  kind: FacetValue[]
  policyType: FacetValue[]
}

export interface SearchResult {
  total: number
  items: DenialSummary[]
  nextCursor: string | null
  facets?: Facets
}

export const MAX_LIMIT = 500

interface Where { sql: string, params: unknown[] }

/** Highest code point: any string that starts with a prefix sorts below prefix + this. */
const TOP = '\u{10FFFF}'

/**
 * `col` matches `pattern`, where `*` and `?` are wildcards. Exact values use the index directly;
 * globs use an index range on their literal prefix, then GLOB (case-sensitive) or LIKE (for NOCASE
 * columns) to check the rest.
 */
function matchClause (col: string, pattern: string, nocase: boolean): Where {
  if (!/[*?]/.test(pattern)) return { sql: `${col} = ?`, params: [pattern] }
  const prefix = pattern.slice(0, pattern.search(/[*?]/))
  const parts: string[] = []
  const params: unknown[] = []
  if (prefix !== '') {
    parts.push(`${col} >= ? AND ${col} < ?`)
    params.push(prefix, prefix + TOP)
  }
  if (nocase) {
    parts.push(`${col} LIKE ? ESCAPE '\\'`)
    params.push(pattern.replace(/[\\%_]/g, m => `\\${m}`).replace(/\*/g, '%').replace(/\?/g, '_'))
  } else {
    parts.push(`${col} GLOB ?`)
    params.push(pattern.replace(/\[/g, '[[]'))
  }
  return { sql: parts.join(' AND '), params }
}

export function buildWhere (f: DenialFilters): Where {
  const parts: string[] = []
  const params: unknown[] = []
  const add = (w: Where): void => { parts.push(`(${w.sql})`); params.push(...w.params) }
  if (f.action) add(matchClause('d.action', f.action, true))
  if (f.service) add({ sql: 'd.service = ?', params: [f.service] })
  if (f.principal) {
    const a = matchClause('d.principal_arn', f.principal, false)
    // The role of an assumed-role session is coalesce(role_arn, principal_arn): the expression of
    // idx_denials_signature (migration 0002), so this side is indexed too.
    const b = matchClause('coalesce(d.role_arn, d.principal_arn)', f.principal, false)
    add({ sql: `(${a.sql}) OR (${b.sql})`, params: [...a.params, ...b.params] })
  }
  if (f.account) add({ sql: 'd.principal_account = ?', params: [f.account] })
  if (f.resource) add(matchClause('d.resource', f.resource, false))
  if (f.decision) add({ sql: 'd.decision = ?', params: [f.decision] })
  if (f.kind) add({ sql: 'd.kind = ?', params: [f.kind] })
  if (f.policyType) add({ sql: 'd.policy_type = ?', params: [f.policyType] })
  if (f.policyArn) add(matchClause('d.policy_arn', f.policyArn, false))
  for (const c of f.condition ?? []) {
    const eq = c.indexOf('=')
    const key = (eq < 0 ? c : c.slice(0, eq)).trim()
    if (key === '') throw new BadFilterError(`condition filter "${c}" needs a key: KEY=VALUE or KEY`)
    if (eq < 0) add({ sql: 'd.id IN (SELECT denial_id FROM conditions WHERE key = ? AND value_index = 0)', params: [key] })
    else add({ sql: 'd.id IN (SELECT denial_id FROM conditions WHERE key = ? AND value = ?)', params: [key, c.slice(eq + 1)] })
  }
  if (f.since || f.until) {
    const since = f.since ?? ''
    const until = f.until ?? TOP
    // Prune by the denial's own span first (indexed), then require an occurrence in the window.
    add({
      sql: 'd.last_seen >= ? AND d.first_seen < ? AND d.id IN (SELECT denial_id FROM occurrences WHERE observed_at >= ? AND observed_at < ?)',
      params: [since, until, since, until]
    })
  }
  if (f.q) {
    const q = f.q.trim()
    if (q.length >= 3) {
      // The trigram index answers case-insensitive substring queries; a phrase keeps the trigrams in order.
      add({ sql: 'd.id IN (SELECT rowid FROM denials_fts WHERE denials_fts MATCH ?)', params: [`"${q.replace(/"/g, '""')}"`] })
    } else if (q.length > 0) {
      const like = `%${q.replace(/[\\%_]/g, m => `\\${m}`)}%`
      add({
        sql: `d.principal_arn LIKE ? ESCAPE '\\' OR d.role_arn LIKE ? ESCAPE '\\' OR d.action LIKE ? ESCAPE '\\' OR d.resource LIKE ? ESCAPE '\\'
          OR d.id IN (SELECT denial_id FROM conditions WHERE value LIKE ? ESCAPE '\\')`,
        params: [like, like, like, like, like]
      })
    }
  }
  return { sql: parts.length > 0 ? parts.join(' AND ') : '1', params }
}

interface Cursor { k: string | number, id: number, s: SortOrder }

function encodeCursor (c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url')
}

function decodeCursor (s: string, sort: SortOrder): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor
    if (c.s !== sort || typeof c.id !== 'number' || (typeof c.k !== 'string' && typeof c.k !== 'number')) throw new Error('shape')
    return c
  } catch {
    throw new BadCursorError()
  }
}

export class SearchRepository {
  constructor (private readonly db: DB) {}

  search (filters: DenialFilters, opts: SearchOptions = {}): SearchResult {
    const sort = opts.sort ?? 'lastSeen'
    const limit = Math.min(Math.max(opts.limit ?? 50, 1), MAX_LIMIT)
    const where = buildWhere(filters)
    const sortCol = sort === 'lastSeen' ? 'd.last_seen' : 'd.occurrences'
    let keyset = ''
    const keyParams: unknown[] = []
    if (opts.cursor) {
      const c = decodeCursor(opts.cursor, sort)
      keyset = ` AND (${sortCol}, d.id) < (?, ?)`
      keyParams.push(c.k, c.id)
    }
    const rows = this.db.prepare<unknown[], DenialRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM denials d WHERE ${where.sql}${keyset} ORDER BY ${sortCol} DESC, d.id DESC LIMIT ?`
    ).all(...where.params, ...keyParams, limit + 1)
    const more = rows.length > limit
    const page = rows.slice(0, limit)
    const last = page[page.length - 1]
    const total = (this.db.prepare<unknown[], { n: number }>(`SELECT count(*) AS n FROM denials d WHERE ${where.sql}`).get(...where.params))!.n
    const result: SearchResult = {
      total,
      items: page.map(rowToSummary),
      nextCursor: more && last ? encodeCursor({ k: sort === 'lastSeen' ? last.last_seen : last.occurrences, id: last.id, s: sort }) : null
    }
    if (opts.facets !== false) result.facets = this.facets(filters, opts.facetLimit ?? 10)
    return result
  }

  /**
   * Facet counts. Unfiltered, each facet is a GROUP BY over its own covering index. Filtered, one pass
   * over the matching rows counts every facet at once (condition keys through denials.key_ids), which
   * reads each row once instead of six times.
   */
  facets (filters: DenialFilters, limit = 10): Facets {
    const where = buildWhere(filters)
    if (where.sql !== '1') return this.facetsInOnePass(where, limit)
    const group = (expr: string): FacetValue[] => this.db.prepare<unknown[], { value: string, count: number }>(
      `SELECT ${expr} AS value, count(*) AS count FROM denials d WHERE ${expr} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?`
    ).all(limit)
    return {
      action: group('d.action'),
      principal: group('coalesce(d.role_arn, d.principal_arn)'),
      account: group('d.principal_account'),
      conditionKey: this.db.prepare<[number], FacetValue>(
        'SELECT key AS value, count(*) AS count FROM conditions INDEXED BY idx_conditions_key_first WHERE value_index = 0 GROUP BY key ORDER BY 2 DESC, 1 LIMIT ?'
      ).all(limit),
      service: group('d.service'),
      decision: group('d.decision'),
      kind: group('d.kind'),
      policyType: group('d.policy_type')
    }
  }

  private facetsInOnePass (where: Where, limit: number): Facets {
    const names = ['action', 'principal', 'account', 'service', 'decision', 'kind', 'policyType'] as const
    const counts = names.map(() => new Map<string, number>())
    const keyCounts = new Map<string, number>()
    const bump = (m: Map<string, number>, v: string): void => { m.set(v, (m.get(v) ?? 0) + 1) }
    const rows = this.db.prepare<unknown[], unknown[]>(
      `SELECT d.action, coalesce(d.role_arn, d.principal_arn), d.principal_account, d.service, d.decision, d.kind, d.policy_type, d.key_ids FROM denials d WHERE ${where.sql}`
    ).raw().iterate(...where.params) as Iterable<[string | null, string | null, string | null, string | null, string, string, string | null, string]>
    for (const row of rows) {
      for (let i = 0; i < 7; i++) { const v = row[i]; if (v !== null && v !== undefined) bump(counts[i]!, v) }
      if (row[7] !== '') for (const id of row[7].split(' ')) bump(keyCounts, id)
    }
    const top = (m: Map<string, number>): FacetValue[] => [...m]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, limit)
      .map(([value, count]) => ({ value, count }))
    const keyNames = new Map(this.db.prepare<[], { id: number, key: string }>('SELECT id, key FROM condition_keys').all().map(r => [String(r.id), r.key]))
    const byName = new Map<string, number>()
    for (const [id, n] of keyCounts) { const k = keyNames.get(id); if (k !== undefined) byName.set(k, n) }
    const [action, principal, account, service, decision, kind, policyType] = counts.map(top)
    return { action: action!, principal: principal!, account: account!, conditionKey: top(byName), service: service!, decision: decision!, kind: kind!, policyType: policyType! }
  }

  /** Values of one condition key under the filters, for drilling down from a key facet. */
  conditionValues (filters: DenialFilters, key: string, limit = 10): FacetValue[] {
    const where = buildWhere(filters)
    return this.db.prepare<unknown[], FacetValue>(
      `SELECT c.value AS value, count(DISTINCT c.denial_id) AS count FROM conditions c
       WHERE c.key = ? AND c.denial_id IN (SELECT d.id FROM denials d WHERE ${where.sql}) GROUP BY c.value ORDER BY 2 DESC, 1 LIMIT ?`
    ).all(key, ...where.params, limit)
  }
}
