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
    // Keys compare case-insensitively through condition_keys (NOCASE); values exactly, by string id.
    if (eq < 0) add({ sql: 'd.id IN (SELECT denial_id FROM conditions WHERE key_id = (SELECT id FROM condition_keys WHERE key = ?) AND value_index = 0)', params: [key] })
    else {
      add({
        sql: 'd.id IN (SELECT denial_id FROM conditions WHERE value_id = (SELECT id FROM strings WHERE value = ?) AND key_id = (SELECT id FROM condition_keys WHERE key = ?))',
        params: [c.slice(eq + 1), key]
      })
    }
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
      // The trigram index over the vocabulary answers case-insensitive substring queries (a phrase
      // keeps the trigrams in order) with string ids; the denials holding one of them as a
      // condition value or in a searchable column match.
      const ids = 'SELECT rowid FROM strings_fts WHERE strings_fts MATCH ?'
      const phrase = `"${q.replace(/"/g, '""')}"`
      add({
        sql: `d.id IN (SELECT denial_id FROM conditions WHERE value_id IN (${ids}) UNION ALL SELECT denial_id FROM denial_terms WHERE string_id IN (${ids}))`,
        params: [phrase, phrase]
      })
    } else if (q.length > 0) {
      const like = `%${q.replace(/[\\%_]/g, m => `\\${m}`)}%`
      add({
        sql: `d.principal_arn LIKE ? ESCAPE '\\' OR d.role_arn LIKE ? ESCAPE '\\' OR d.action LIKE ? ESCAPE '\\' OR d.resource LIKE ? ESCAPE '\\'
          OR d.id IN (SELECT denial_id FROM conditions WHERE value_id IN (SELECT id FROM strings WHERE value LIKE ? ESCAPE '\\'))`,
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
   * Facet counts. Unfiltered, from the counts kept at import. Filtered, one pass
   * over the matching rows counts every facet at once (condition keys through denials.key_ids), which
   * reads each row once instead of six times.
   */
  facets (filters: DenialFilters, limit = 10): Facets {
    const where = buildWhere(filters)
    if (where.sql !== '1') return this.facetsInOnePass(where, limit)
    // Unfiltered: the counts kept at import (facet_counts, migration 0007), top values first.
    const top = this.db.prepare<[string, number], FacetValue>(
      'SELECT value, denials AS count FROM facet_counts WHERE facet = ? ORDER BY denials DESC, key LIMIT ?')
    const keyNames = this.db.prepare<[number], string>('SELECT key FROM condition_keys WHERE id = ?').pluck()
    // Condition keys are counted by id: named (and re-sorted, ties by name) once the top ones are known.
    const keys = this.db.prepare<[], { value: string, count: number }>(
      "SELECT value, denials AS count FROM facet_counts WHERE facet = 'conditionKey'").all()
      .map(k => ({ value: keyNames.get(Number(k.value)) ?? k.value, count: k.count }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, limit)
    return {
      action: top.all('action', limit),
      principal: top.all('principal', limit),
      account: top.all('account', limit),
      conditionKey: keys,
      service: top.all('service', limit),
      decision: top.all('decision', limit),
      kind: top.all('kind', limit),
      policyType: top.all('policyType', limit)
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
      `SELECT s.value AS value, n AS count FROM (SELECT c.value_id, count(DISTINCT c.denial_id) AS n FROM conditions c
       WHERE c.key_id = (SELECT id FROM condition_keys WHERE key = ?) AND c.denial_id IN (SELECT d.id FROM denials d WHERE ${where.sql}) GROUP BY c.value_id)
       JOIN strings s ON s.id = value_id ORDER BY 2 DESC, 1 LIMIT ?`
    ).all(key, ...where.params, limit)
  }
}
