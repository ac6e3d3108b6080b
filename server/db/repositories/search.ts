/** Search over denials: combinable filters (AND), keyset pagination, and facet counts. */
import type { DB } from '../connection.js'
import type { Statement } from 'better-sqlite3'
import type { DenialSummary } from '../../authz/types.js'
import { BadCursorError, BadFilterError } from '../../errors.js'
import type { DenialFilters, SortOrder } from '../../schemas/denials.js'
import { rowToSummary, SUMMARY_COLUMNS, type DenialRow } from './denial-rows.js'
import { COLUMN_FACETS, FacetColumns, type ColumnFacet, type ColumnTest } from './facet-columns.js'
import { ConditionValueColumns } from './condition-values.js'
import { idsOf } from './id-lists.js'

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

/** At most this many candidates from the facet columns (and a twentieth of the denials) are handed to SQL for its other filters (a row read each). */
const SQL_CHECKS_CANDIDATES = 50_000

/**
 * Above this many candidates from the facet columns, condition filters and an open time window are read
 * as id lists rather than checked per candidate (a seek each): past it, a list of up to ~100,000 ids,
 * read at ~0.07 µs an id, costs less than the seeks at ~3.5 µs (measured at 1M denials).
 */
const ID_LISTS_ABOVE_CANDIDATES = 2_000

/**
 * A candidate's row checked costs about as much as this many window ids read from the last_seen index
 * as one string. Measured back to back at 1M denials: the 512,000 ids of 30 days cost about what
 * checking 28,000 candidates' rows costs (both ~150 ms on a loaded machine).
 */
const SEEK_PER_LISTED_ID = 15

/** Up to this many matching ids, a condition key's values are counted from their own rows (a primary-key seek each). */
const IDS_FOR_CONDITION_VALUES = 20_000

/** An index entry walked costs about this fraction of a row read and sorted (measured: ~0.3 µs vs ~1.5 µs). */
const WALK_ENTRIES_PER_ROW = 4
/** A walk stops after this many times the entries expected (or the matches, if more), and sorts instead. */
const WALK_BUDGET = 4

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

/** The denials holding a string that contains the FTS5 phrase (given twice): as a condition value, or in a searchable column. */
const Q_DENIALS = `SELECT denial_id FROM conditions WHERE value_id IN (SELECT rowid FROM strings_fts WHERE strings_fts MATCH ?)
  UNION SELECT denial_id FROM denial_terms WHERE string_id IN (SELECT rowid FROM strings_fts WHERE strings_fts MATCH ?)`

/** q as an FTS5 phrase: its trigrams in order, quotes doubled (no FTS5 syntax gets through). */
const ftsPhrase = (q: string): string => `"${q.replace(/"/g, '""')}"`

/** SQLite's NOCASE and LIKE fold ASCII letters only (toLowerCase would fold every script). */
const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, m => m.toLowerCase())

/**
 * The filters the facet columns decide in memory (action, service, account, decision, kind, policy
 * type: the facets a user clicks), as tests that agree with buildWhere's SQL for them, and the rest,
 * left to SQL. Kept beside buildWhere so the two stay the same (test/db/facet-columns.test.ts checks
 * it on every kind of filter).
 */
export function columnTests (f: DenialFilters): { tests: ColumnTest[], keys: string[], rest: DenialFilters } {
  const tests: ColumnTest[] = []
  const rest: DenialFilters = { ...f }
  // A condition key without a value: whether the denial's key_ids hold it (migration 0010 dropped
  // the index SQL used for it). The key is trimmed as buildWhere trims it (which also refuses an empty one).
  const keys: string[] = []
  if (f.condition) {
    const withValue = f.condition.filter(c => c.includes('=') || c.trim() === '')
    for (const c of f.condition) if (!c.includes('=') && c.trim() !== '') keys.push(c.trim())
    if (withValue.length > 0) rest.condition = withValue
    else delete rest.condition
  }
  if (f.action) {
    // action is COLLATE NOCASE: = and LIKE compare ASCII letters case-insensitively.
    const pattern = asciiLower(f.action)
    const re = globRegex(pattern)
    tests.push({ columns: ['action'], accepts: re === null ? v => asciiLower(v) === pattern : v => re.test(asciiLower(v)) })
    delete rest.action
  }
  if (f.principal) {
    // As buildWhere: the principal's ARN or, for an assumed-role session, its role; GLOB is case-sensitive.
    const pattern = f.principal
    const re = globRegex(pattern)
    tests.push({ columns: ['principalArn', 'principal'], accepts: re === null ? v => v === pattern : v => re.test(v) })
    delete rest.principal
  }
  if (f.service) {
    const service = asciiLower(f.service)
    tests.push({ columns: ['service'], accepts: v => asciiLower(v) === service })
    delete rest.service
  }
  for (const [key, column] of [['account', 'account'], ['decision', 'decision'], ['kind', 'kind'], ['policyType', 'policyType']] as const) {
    const want = f[key]
    if (want) {
      tests.push({ columns: [column], accepts: v => v === want })
      delete rest[key]
    }
  }
  return { tests, keys, rest }
}

/**
 * matchClause's glob as a regular expression (null for an exact pattern): * any run of characters,
 * ? one character (a code point: LIKE and GLOB step over UTF-8 characters), everything else literal.
 */
function globRegex (pattern: string): RegExp | null {
  if (!/[*?]/.test(pattern)) return null
  return new RegExp(`^${[...pattern].map(c => c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}/]/g, '\\$&')).join('')}$`, 'su')
}

/** A condition filter: KEY=VALUE, or KEY alone (the denials holding the key, whatever its values). */
function conditionParts (c: string): { key: string, value: string | null } {
  const eq = c.indexOf('=')
  const key = (eq < 0 ? c : c.slice(0, eq)).trim()
  if (key === '') throw new BadFilterError(`condition filter "${c}" needs a key: KEY=VALUE or KEY`)
  return { key, value: eq < 0 ? null : c.slice(eq + 1) }
}

// The denials holding a condition key, and a key with a value. Keys compare case-insensitively
// through condition_keys (NOCASE); values exactly, by string id.
const KEY_DENIALS = 'SELECT denial_id FROM conditions WHERE key_id = (SELECT id FROM condition_keys WHERE key = ?) AND value_index = 0'
const VALUE_DENIALS = 'SELECT denial_id FROM conditions WHERE value_id = (SELECT id FROM strings WHERE value = ?) AND key_id = (SELECT id FROM condition_keys WHERE key = ?)'

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
    const { key, value } = conditionParts(c)
    add(value === null ? { sql: `d.id IN (${KEY_DENIALS})`, params: [key] } : { sql: `d.id IN (${VALUE_DENIALS})`, params: [value, key] })
  }
  if (f.since || f.until) {
    const since = f.since ?? ''
    // A denial with occurrences spans exactly from its first to its last (first_seen and last_seen
    // are the least and greatest observed_at of its occurrences; see DenialWriter). So its first or
    // last occurrence inside the window proves a match from the row alone; only a denial whose span
    // covers the whole window needs its occurrences looked up (one index seek, after every other
    // filter). Reading the window's occurrences instead costs ~1M index entries for 30 days at 4M
    // occurrences, whatever the other filters leave (measured: 3 s for a narrow filter).
    if (f.until === undefined) add({ sql: 'd.occurrences > 0 AND d.last_seen >= ?', params: [since] })
    else {
      add({
        sql: `d.occurrences > 0 AND d.last_seen >= ? AND d.first_seen < ? AND (d.first_seen >= ? OR d.last_seen < ?
          OR EXISTS (SELECT 1 FROM occurrences o WHERE o.denial_id = d.id AND o.observed_at >= ? AND o.observed_at < ?))`,
        params: [since, f.until, since, f.until, since, f.until]
      })
    }
  }
  if (f.q) {
    const q = f.q.trim()
    if (q.length >= 3) {
      // The trigram index over the vocabulary answers case-insensitive substring queries (a phrase
      // keeps the trigrams in order) with string ids; the denials holding one of them as a
      // condition value or in a searchable column match.
      const phrase = ftsPhrase(q)
      add({ sql: `d.id IN (${Q_DENIALS.replace('UNION', 'UNION ALL')})`, params: [phrase, phrase] })
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

export interface SearchRepositoryOptions {
  /**
   * Keep every denial's facet columns in memory (FacetColumns) to count the facets of filtered lists:
   * for long-lived processes (the server). Without it, each filtered search reads its matching rows.
   */
  facetColumns?: boolean
  /**
   * With the facet columns: above this many candidates from them, condition filters and an open time
   * window are read as id lists rather than checked per candidate. Default ID_LISTS_ABOVE_CANDIDATES;
   * tests set 0 to take the list paths on a small database.
   */
  idListsAbove?: number
  /** With the facet columns: a condition key with more distinct values than this is not held in memory for the drill-down (ConditionValueColumns; tests make it small). */
  heldKeyValues?: number
}

export class SearchRepository {
  private readonly columns: FacetColumns | null
  private readonly values: ConditionValueColumns | null
  private readonly keyId
  private readonly idListsAbove: number
  private readonly keyNames
  private readonly maxId
  private readonly count
  private readonly keyIds
  private readonly valueIds
  private readonly windowIds
  private readonly lastDays
  private readonly walkLastSeen
  private readonly walkLastSeenAfter
  private readonly walkOccurrences
  private readonly walkOccurrencesAfter

  /** `columns`: the facet columns to use when the store shares them (with reports); else built here if opts.facetColumns. */
  constructor (private readonly db: DB, opts: SearchRepositoryOptions = {}, columns: FacetColumns | null = null) {
    this.columns = columns ?? (opts.facetColumns === true ? new FacetColumns(db) : null)
    this.values = opts.facetColumns === true ? new ConditionValueColumns(db, opts.heldKeyValues) : null
    this.keyId = db.prepare<[string], number>('SELECT id FROM condition_keys WHERE key = ?').pluck()
    this.idListsAbove = opts.idListsAbove ?? ID_LISTS_ABOVE_CANDIDATES
    this.keyNames = db.prepare<[], { id: number, key: string }>('SELECT id, key FROM condition_keys')
    this.maxId = db.prepare<[], number>('SELECT max(id) FROM denials').pluck()
    this.count = db.prepare<[], number>('SELECT count(*) FROM denials').pluck()
    this.keyIds = db.prepare<[string], string | null>(`SELECT group_concat(denial_id) FROM (${KEY_DENIALS})`).pluck()
    // The last_seen index holds occurrences too: the window's ids without a row read.
    this.windowIds = db.prepare<[string], string | null>('SELECT group_concat(id) FROM denials WHERE occurrences > 0 AND last_seen >= ?').pluck()
    this.lastDays = db.prepare<[string], number>('SELECT coalesce(sum(denials), 0) FROM denial_last_days WHERE day >= ?').pluck()
    this.valueIds = db.prepare<[string, string], string | null>(`SELECT group_concat(denial_id) FROM (${VALUE_DENIALS})`).pluck()
    const walkFrom = (index: string, col: string, after: boolean): Statement => db.prepare(
      `SELECT id FROM denials INDEXED BY ${index}${after ? ` WHERE (${col}, id) < (?, ?)` : ''} ORDER BY ${col} DESC, id DESC`).pluck()
    this.walkLastSeen = walkFrom('idx_denials_last_seen', 'last_seen', false)
    this.walkLastSeenAfter = walkFrom('idx_denials_last_seen', 'last_seen', true)
    this.walkOccurrences = walkFrom('idx_denials_occurrences', 'occurrences', false)
    this.walkOccurrencesAfter = walkFrom('idx_denials_occurrences', 'occurrences', true)
  }

  search (filters: DenialFilters, opts: SearchOptions = {}): SearchResult {
    const sort = opts.sort ?? 'lastSeen'
    const limit = Math.min(Math.max(opts.limit ?? 50, 1), MAX_LIMIT)
    const where = buildWhere(filters)
    const facetLimit = opts.facetLimit ?? 10
    const keyset = opts.cursor ? decodeCursor(opts.cursor, sort) : null
    // One snapshot: the total, the page and the facets agree even while an import commits.
    return this.db.transaction((): SearchResult => {
      if (where.sql === '1') {
        const total = this.count.get()!
        const result: SearchResult = { total, ...this.pageOf(this.walk(sort, keyset, limit, null, Infinity)!, sort, limit) }
        if (opts.facets !== false) result.facets = this.facets(filters, facetLimit)
        return result
      }
      // The matching ids, read once (index-only where the filters allow): the total, the page, the facets.
      const ids = this.matchingIds(filters, where)
      const result: SearchResult = { total: ids.length, ...this.pageOf(this.pageIds(ids, sort, keyset, limit), sort, limit) }
      if (opts.facets !== false) result.facets = this.columns !== null ? this.facetsOfIds(ids, facetLimit) : this.facetsInOnePass(where, facetLimit)
      return result
    })()
  }

  /**
   * The ids matching the filters. With the facet columns, those filters are decided in memory
   * (a pass over a few typed arrays) and only the others by SQL: a filter on service and decision
   * otherwise reads every row one of their indexes names (111,000 for `service=s3` at 1M denials).
   */
  private matchingIds (filters: DenialFilters, where: Where): number[] {
    const sqlIds = (w: Where): number[] => this.db.prepare<unknown[], number>(`SELECT d.id FROM denials d WHERE ${w.sql}`).pluck().all(...w.params)
    // The columns count the facets of whatever ids come back: up to date in this snapshot first.
    this.columns?.refresh()
    // Only condition filters: their id lists alone, no denial row read (SQL would seek each matching
    // denial's row to confirm it: 240 ms for aws:Region=eu-west-1's 167,000 at 1M denials, against
    // 11 ms for the list). Every conditions row has its denial (ON DELETE CASCADE).
    const conditions = filters.condition ?? []
    if (conditions.length > 0 && conditions.length < 65_536 && buildWhere({ ...filters, condition: undefined }).sql === '1') {
      return this.withConditions(null, conditions)
    }
    if (this.columns === null) return sqlIds(where)
    const { tests, keys: keyNames, rest } = columnTests(filters)
    // Condition keys as condition_keys ids (NOCASE, as IAM compares keys); one not stored matches nothing (-1).
    const keys = keyNames.map(k => this.keyId.get(k) ?? -1)
    // q with no other SQL filter: the matching denials straight from the two indexes that hold them
    // (distinct, no table read: 130 ms instead of 250 for 81,000 denials at 1M, on a loaded machine).
    const q = rest.q?.trim() ?? ''
    if (q.length >= 3 && buildWhere({ ...rest, q: undefined }).sql === '1') {
      const phrase = ftsPhrase(q)
      return this.columns.filterIds(this.db.prepare<[string, string], number>(Q_DENIALS).pluck().all(phrase, phrase), tests, keys)
    }
    if (tests.length === 0 && keys.length === 0) return sqlIds(where)
    let candidates = this.columns.matchIds(tests, keys)
    // The KEY=VALUE filters (key-only ones are decided with the columns above), kept for the last resort below.
    const valueConditions = rest.condition
    // Condition filters on many candidates: each condition's denial ids read as one string from its
    // covering index and intersected in memory. Why: checking them per candidate costs an index seek
    // each (condition + action at 1M denials: 101 ms for 9,289 hits), reading aws:Region=eu-west-1's
    // 167,000 ids costs 11 ms. Few candidates keep the seeks, which then cost less than the read.
    if (rest.condition !== undefined && rest.condition.length > 0 && rest.condition.length < 65_536 && candidates.length > this.idListsAbove) {
      candidates = this.withConditions(candidates, rest.condition)
      delete rest.condition
    }
    const restWhere = buildWhere(rest)
    if (restWhere.sql === '1') return candidates
    // An open time window and no other SQL filter: the window's ids read from the last_seen index as
    // one string and intersected in memory, or the candidates' rows checked, whichever costs less
    // (SEEK_PER_LISTED_ID; action=kms:* + 30 days at 1M denials: 153 ms instead of 415). The window's
    // size is estimated from the denials counted per last day (denial_last_days, kept at import).
    const size = (this.maxId.get() ?? 0) + 1
    const openWindow = buildWhere({ ...rest, since: undefined }).sql === '1' && rest.until === undefined
    if (openWindow && rest.since !== undefined && candidates.length > this.idListsAbove &&
      (this.idListsAbove === 0 || (this.lastDays.get(rest.since.slice(0, 10)) ?? 0) < candidates.length * SEEK_PER_LISTED_ID)) {
      const inWindow = new Uint8Array(size)
      for (const id of idsOf(this.windowIds.get(rest.since) ?? null)) if (id < size) inWindow[id] = 1
      return candidates.filter(id => inWindow[id] === 1)
    }
    // Few candidates from memory: SQL checks only those rows. Many, with other SQL filters: SQLite
    // combines every filter as the CLI does, driven by the most selective index (`where` holds them all).
    if (candidates.length <= Math.min(SQL_CHECKS_CANDIDATES, size / 20)) {
      return sqlIds({ sql: `d.id IN (SELECT value FROM json_each(?)) AND ${restWhere.sql}`, params: [JSON.stringify(candidates), ...restWhere.params] })
    }
    if (keys.length === 0) return sqlIds(where)
    // The keys checked in memory: in SQL they would read the whole conditions table (no index since 0010).
    return this.columns.filterIds(sqlIds(buildWhere({ ...filters, condition: valueConditions })), [], keys)
  }

  /** The denials holding condition key `key` (any value), ascending (the columns as matchingIds refreshed them). */
  private keyDenials (key: string): Iterable<number> {
    if (this.columns === null) return idsOf(this.keyIds.get(key) ?? null)
    return this.columns.matchIds([], [this.keyId.get(key) ?? -1])
  }

  /** The `ids` (null: every denial) that hold every one of the condition filters (buildWhere's condition clauses, set-wise), ascending. */
  private withConditions (ids: readonly number[] | null, conditions: readonly string[]): number[] {
    const size = (this.maxId.get() ?? 0) + 1
    // How many of the conditions each denial holds; a denial is counted once per condition.
    const held = new Uint16Array(size)
    let n = 0
    for (const c of new Set(conditions)) {
      const { key, value } = conditionParts(c)
      // A key alone: from the facet columns' key_ids when the server holds them; SQL reads the whole
      // conditions table for it (no index since migration 0010).
      const list = value !== null ? idsOf(this.valueIds.get(value, key) ?? null) : this.keyDenials(key)
      n++
      for (const id of list) if (id < size && held[id] === n - 1) held[id] = n
    }
    if (ids !== null) return ids.filter(id => held[id] === n)
    const out: number[] = []
    for (let id = 0; id < size; id++) if (held[id] === n) out.push(id)
    return out
  }

  /** Load what the server keeps in memory (the facet columns) in the background; nothing without them. */
  async warm (): Promise<void> {
    await this.columns?.warm()
  }

  /**
   * The ids of the page (limit + 1, to know whether more follow), in sort order. Two ways, chosen by
   * the expected cost: walk the sort order's index (index entries only, no table rows) and keep the
   * matches, until the page is full; the first page is full after ~page × N / matches entries (a few
   * hundred for a filter matching one denial in ten). Or read the sort key of every match and sort
   * them, which costs a row per match: cheaper when few match. A walk that runs past its budget
   * (matches bunched at the far end, e.g. a principal not seen for months) stops and sorts instead.
   * Measured at 1M denials, `action=kms:*` (111k matches): SQLite left to itself read and sorted
   * them all (360 ms); the walk reads ~460 entries (1 ms).
   */
  private pageIds (ids: number[], sort: SortOrder, keyset: Cursor | null, limit: number): number[] {
    if (ids.length === 0) return []
    const size = this.maxId.get() ?? 0
    const expected = ((limit + 1) * (size + 1)) / ids.length
    if (expected <= WALK_ENTRIES_PER_ROW * ids.length) {
      const member = new Uint8Array(size + 1)
      for (const id of ids) member[id] = 1
      const found = this.walk(sort, keyset, limit, member, WALK_BUDGET * Math.max(expected, ids.length))
      if (found !== null) return found
    }
    const sortCol = sort === 'lastSeen' ? 'last_seen' : 'occurrences'
    const after = keyset ? ` AND (${sortCol}, id) < (?, ?)` : ''
    return this.db.prepare<unknown[], number>(
      `SELECT id FROM denials WHERE id IN (SELECT value FROM json_each(?))${after} ORDER BY ${sortCol} DESC, id DESC LIMIT ?`
    ).pluck().all(JSON.stringify(ids), ...(keyset ? [keyset.k, keyset.id] : []), limit + 1)
  }

  /** Walk the sort index from the cursor: the first limit + 1 ids that are members (all, without a set); null once `budget` entries are read. */
  private walk (sort: SortOrder, keyset: Cursor | null, limit: number, member: Uint8Array | null, budget: number): number[] | null {
    const stmt = sort === 'lastSeen'
      ? (keyset ? this.walkLastSeenAfter : this.walkLastSeen)
      : (keyset ? this.walkOccurrencesAfter : this.walkOccurrences)
    const out: number[] = []
    let read = 0
    for (const id of (keyset ? stmt.iterate(keyset.k, keyset.id) : stmt.iterate()) as IterableIterator<number>) {
      if (member === null || member[id] === 1) {
        out.push(id)
        if (out.length > limit) break
      }
      if (++read >= budget && member !== null) return null
    }
    return out
  }

  /** The page's summaries, in the order of `ids`, and the cursor after it. */
  private pageOf (ids: number[], sort: SortOrder, limit: number): Pick<SearchResult, 'items' | 'nextCursor'> {
    const more = ids.length > limit
    const shown = ids.slice(0, limit)
    const rows = new Map(this.db.prepare<[string], DenialRow>(`SELECT ${SUMMARY_COLUMNS} FROM denials d WHERE d.id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(shown)).map(r => [r.id, r]))
    const page = shown.map(id => rows.get(id)!)
    const last = page[page.length - 1]
    return {
      items: page.map(rowToSummary),
      nextCursor: more && last ? encodeCursor({ k: sort === 'lastSeen' ? last.last_seen : last.occurrences, id: last.id, s: sort }) : null
    }
  }

  /**
   * Facet counts. Unfiltered, from the counts kept at import. Filtered, one pass
   * over the matching rows counts every facet at once (condition keys through denials.key_ids), which
   * reads each row once instead of six times.
   */
  facets (filters: DenialFilters, limit = 10): Facets {
    const where = buildWhere(filters)
    if (where.sql !== '1') {
      const columns = this.columns
      if (columns === null) return this.facetsInOnePass(where, limit)
      return this.db.transaction(() => this.facetsOfIds(this.matchingIds(filters, where), limit))()
    }
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

  /** Facets of these denials from the columns (refreshed in the same snapshot as the ids were read: an id reused after a deletion is not counted under its old values). */
  private facetsOfIds (ids: number[], limit: number): Facets {
    const counts = this.columns!.count(ids)
    const keyNames = new Map(this.keyNames.all().map(r => [r.id, r.key]))
    const byName = new Map<string, number>()
    for (const [id, n] of counts.keys) { const k = keyNames.get(id); if (k !== undefined) byName.set(k, n) }
    const f = Object.fromEntries(COLUMN_FACETS.map(name => [name, topValues(counts.facets[name], limit)])) as Record<ColumnFacet, FacetValue[]>
    return { ...f, conditionKey: topValues(byName, limit) }
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
    const top = (m: Map<string, number>): FacetValue[] => topValues(m, limit)
    const keyNames = new Map(this.db.prepare<[], { id: number, key: string }>('SELECT id, key FROM condition_keys').all().map(r => [String(r.id), r.key]))
    const byName = new Map<string, number>()
    for (const [id, n] of keyCounts) { const k = keyNames.get(id); if (k !== undefined) byName.set(k, n) }
    const [action, principal, account, service, decision, kind, policyType] = counts.map(top)
    return { action: action!, principal: principal!, account: account!, conditionKey: top(byName), service: service!, decision: decision!, kind: kind!, policyType: policyType! }
  }

  /** Values of one condition key under the filters, for drilling down from a key facet. */
  conditionValues (filters: DenialFilters, key: string, limit = 10): FacetValue[] {
    const where = buildWhere(filters)
    return this.db.transaction((): FacetValue[] => {
      let ids: number[] | null = null
      // The server: the key's values held in memory (ConditionValueColumns), counted over the matching ids.
      if (this.values !== null) {
        const keyId = this.keyId.get(key)
        if (keyId === undefined) return []
        ids = where.sql === '1' ? null : this.matchingIds(filters, where)
        const tally = this.values.counts(keyId, ids)
        if (tally !== null) return this.topValueNames(tally, limit)
      }
      if (where.sql !== '1') {
        // Filtered: the matching ids first (the fast paths above), then their conditions of this key,
        // each denial's found by its primary key. The SQL below reads every denial of the key instead
        // (167,000 for aws:Region at 1M denials; the list filtered on a condition, a principal glob and
        // a window spent 273 ms here). From ~20,000 ids on, both cost about the same (measured).
        ids ??= this.matchingIds(filters, where)
        if (ids.length <= IDS_FOR_CONDITION_VALUES) {
          return this.db.prepare<[string, string, number], FacetValue>(
            `SELECT s.value AS value, n AS count FROM (SELECT c.value_id, count(DISTINCT c.denial_id) AS n FROM conditions c
             WHERE c.denial_id IN (SELECT value FROM json_each(?)) AND c.key_id = (SELECT id FROM condition_keys WHERE key = ?) GROUP BY c.value_id)
             JOIN strings s ON s.id = value_id ORDER BY 2 DESC, 1 LIMIT ?`).all(JSON.stringify(ids), key, limit)
        }
      }
      // Unfiltered, the key's rows alone: a scan of the (value, key, denial) index, not a seek per
      // denial (at 1M denials, 0.7 s instead of 2.2 s for aws:Region).
      const denials = where.sql === '1' ? '' : ` AND c.denial_id IN (SELECT d.id FROM denials d WHERE ${where.sql})`
      return this.db.prepare<unknown[], FacetValue>(
        `SELECT s.value AS value, n AS count FROM (SELECT c.value_id, count(DISTINCT c.denial_id) AS n FROM conditions c
         WHERE c.key_id = (SELECT id FROM condition_keys WHERE key = ?)${denials} GROUP BY c.value_id)
         JOIN strings s ON s.id = value_id ORDER BY 2 DESC, 1 LIMIT ?`
      ).all(key, ...where.params, limit)
    })()
  }

  /** The `limit` values counted most, named, ties by value as SQL orders them (the counts at the cut-off value are all named). */
  private topValueNames (tally: Map<number, number>, limit: number): FacetValue[] {
    if (tally.size === 0 || limit <= 0) return []
    const counts = [...tally.values()].sort((a, b) => b - a)
    const cut = counts[Math.min(limit, counts.length) - 1]!
    const named = [...tally].filter(([, n]) => n >= cut)
    return this.db.prepare<[string, number], FacetValue>(
      `SELECT s.value AS value, j.value ->> '$[1]' AS count FROM json_each(?) j JOIN strings s ON s.id = j.value ->> '$[0]'
       ORDER BY 2 DESC, 1 LIMIT ?`).all(JSON.stringify(named), limit)
  }
}

/** The `limit` values counted most, ties by value (code-unit order, as SQLite's BINARY). */
function topValues (m: Map<string, number>, limit: number): FacetValue[] {
  return [...m]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit)
    .map(([value, count]) => ({ value, count }))
}
