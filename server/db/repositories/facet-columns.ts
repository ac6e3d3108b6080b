/**
 * The facet columns of every denial, held in memory as small integers (one typed array per facet,
 * a dictionary of values per facet), so that the facets of a filtered list are counted over the
 * matching ids in a pass over memory instead of reading every matching row from the file.
 *
 * Why: at 1M denials a filter matching 110,000 of them (`action=kms:*`) read 110,000 rows spread
 * over the whole table, ~0.7 s even with the file in the OS cache. The facet columns of a denial never
 * change (they come from its content, which its id stands for), so the columns are loaded once and
 * then only the denials added since are read (ids only grow). A deleted denial's id can be reused
 * (INTEGER PRIMARY KEY without AUTOINCREMENT), so deletions, counted by a trigger (migration 0008),
 * make the next use reload everything; they are rare (a placeholder denial replaced once decoded).
 *
 * Memory: ~30 bytes per denial plus the key ids (4 bytes per distinct condition key of a denial) and
 * the distinct values: ~70 MB at 1M denials. Team reports add a signature code per denial (4 bytes)
 * and one map entry per distinct signature (reports.ts). Only long-lived processes (the server) keep it; a
 * one-shot CLI search counts in one pass over the matching rows.
 */
import type { DB } from '../connection.js'
import { loadInTurns } from './in-turns.js'

/** The facets counted from the columns, in the order of FACET_SELECT's columns after id. */
export const COLUMN_FACETS = ['action', 'principal', 'account', 'service', 'decision', 'kind', 'policyType'] as const
export type ColumnFacet = typeof COLUMN_FACETS[number]
/** Every column held: the facets, then principal_arn (the principal filter also matches it; not a facet). */
const COLUMNS = [...COLUMN_FACETS, 'principalArn'] as const
export type ColumnName = typeof COLUMNS[number]

/** Same expressions as the one-pass count in search.ts: the role of an assumed-role session counts as its principal. */
const FACET_SELECT = `SELECT id, action, coalesce(role_arn, principal_arn), principal_account, service, decision, kind, policy_type, principal_arn, key_ids,
  resource IS NOT NULL, (SELECT s.id FROM strings s WHERE s.value = resource) FROM denials`
/** Rows read per statement while loading: bounded memory for the rows in flight, and ~50 ms per turn when warming. */
const LOAD_CHUNK = 20_000

type Row = [number, string | null, string | null, string | null, string | null, string, string, string | null, string | null, string, number, number | null]

/** ASCII-only case folding: what SQLite's NOCASE compares (the action column's collation). */
const nocase = (s: string): string => s.replace(/[A-Z]+/g, m => m.toLowerCase())

/** The facet columns as team reports read them (after refresh()): see FacetColumns.view. */
export interface ColumnsView {
  /** The highest denial id loaded; ids above it are not in the columns. */
  loadedMax: number
  /** Codes by denial id (0: NULL, or no denial); values by code (values[0] unused). */
  column: (name: ColumnName) => Int32Array
  values: (name: ColumnName) => readonly string[]
  /** Report signature code by denial id (see FacetColumns.signature); 0: no denial. */
  signature: Int32Array
  /** Signature codes are 1 … signatures. */
  signatures: number
  /** False when a resource could not be coded (not in strings): signatures are then not to be trusted. */
  exact: boolean
}

/** A growable column of small integers indexed by denial id (0: no value). */
class Column {
  data = new Int32Array(1024)
  ensure (size: number): void {
    if (size <= this.data.length) return
    let n = this.data.length
    while (n < size) n *= 2
    const next = new Int32Array(n)
    next.set(this.data)
    this.data = next
  }
}

/** Values of one facet as integers: 1, 2, … in order of first appearance (0 stands for NULL). */
class Dictionary {
  readonly codes = new Map<string, number>()
  readonly values: string[] = ['']
  code (v: string | null): number {
    if (v === null) return 0
    let c = this.codes.get(v)
    if (c === undefined) {
      c = this.values.length
      this.values.push(v)
      this.codes.set(v, c)
    }
    return c
  }
}

/** A filter decided from the values of columns: a denial passes if one of them (never NULL) is accepted. */
export interface ColumnTest {
  columns: readonly ColumnName[]
  accepts: (value: string) => boolean
}

type Check = Array<{ column: Int32Array, ok: Uint8Array }>

function passes (checks: readonly Check[], id: number): boolean {
  for (const any of checks) if (!any.some(c => c.ok[c.column[id]!] === 1)) return false
  return true
}

export interface ColumnCounts {
  /** Per facet, value → number of matching denials. */
  facets: Record<ColumnFacet, Map<string, number>>
  /** condition_keys id → number of matching denials holding that key. */
  keys: Map<number, number>
}

export class FacetColumns {
  private columns = COLUMNS.map(() => new Column())
  private dictionaries = COLUMNS.map(() => new Dictionary())
  /** Key ids of denial `id`: keyData[keyStart[id] .. keyStart[id] + keyCount[id]). */
  private keyStart = new Column()
  private keyCount = new Column()
  private keyData = new Int32Array(1 << 16)
  private keyLength = 0
  /** The highest denial id loaded, and the deletions counted when loading started. */
  private loadedMax = 0
  private deletions = -1
  /**
   * Report signature of each denial: (principal or its role, action as NOCASE folds it, resource,
   * decision), the groups of a team report (reports.ts). A code for (principal, folded action,
   * decision), then the resource's strings id within it: no resource string is held.
   */
  private signature = new Column()
  private signatures = 0
  private heads = new Map<string, Map<number, number>>()
  private folded: number[] = []
  private foldDictionary = new Dictionary()
  private signaturesExact = true
  private readonly rowsAfter
  private readonly deletionCount

  /** `chunk`: rows per read while loading (tests make it small). */
  constructor (db: DB, private readonly chunk = LOAD_CHUNK) {
    this.rowsAfter = db.prepare<[number, number], Row>(`${FACET_SELECT} WHERE id > ? ORDER BY id LIMIT ?`).raw()
    this.deletionCount = db.prepare<[], number>("SELECT n FROM counters WHERE name = 'denials_deleted'").pluck()
  }

  /** Bring the columns up to date with the table: the denials added since the last use, or all after a deletion. */
  refresh (): void {
    this.checkDeletions()
    while (this.loadChunk()) { /* until the table's end */ }
  }

  /**
   * Load the columns in the background, a chunk per turn of the event loop (at 1M denials a full
   * load takes seconds: requests are served meanwhile; one that needs the columns finishes the load).
   * Stops quietly if the database is closed meanwhile.
   */
  async warm (): Promise<void> {
    await loadInTurns(() => { this.checkDeletions() }, () => this.loadChunk())
  }

  private checkDeletions (): void {
    const deletions = this.deletionCount.get() ?? 0
    if (deletions !== this.deletions) this.reset(deletions)
  }

  /** The next chunk of denials after those loaded; whether more may follow. */
  private loadChunk (): boolean {
    const rows = this.rowsAfter.all(this.loadedMax, this.chunk) as Row[]
    for (const r of rows) this.add(r)
    return rows.length === this.chunk
  }

  private reset (deletions: number): void {
    this.columns = COLUMNS.map(() => new Column())
    this.dictionaries = COLUMNS.map(() => new Dictionary())
    this.keyStart = new Column()
    this.keyCount = new Column()
    this.keyData = new Int32Array(1 << 16)
    this.keyLength = 0
    this.loadedMax = 0
    this.deletions = deletions
    this.signature = new Column()
    this.signatures = 0
    this.heads = new Map()
    this.folded = []
    this.foldDictionary = new Dictionary()
    this.signaturesExact = true
  }

  private add (r: Row): void {
    const id = r[0]
    for (let f = 0; f < COLUMNS.length; f++) {
      const col = this.columns[f]!
      col.ensure(id + 1)
      col.data[id] = this.dictionaries[f]!.code(r[f + 1] as string | null)
    }
    const keys = r[9] === '' ? [] : r[9].split(' ')
    this.keyStart.ensure(id + 1)
    this.keyCount.ensure(id + 1)
    if (this.keyLength + keys.length > this.keyData.length) {
      const next = new Int32Array(Math.max(this.keyData.length * 2, this.keyLength + keys.length))
      next.set(this.keyData.subarray(0, this.keyLength))
      this.keyData = next
    }
    this.keyStart.data[id] = this.keyLength
    this.keyCount.data[id] = keys.length
    for (const k of keys) this.keyData[this.keyLength++] = Number(k)
    this.signature.ensure(id + 1)
    this.signature.data[id] = this.signatureOf(id, r[10] === 1, r[11])
    this.loadedMax = id
  }

  private signatureOf (id: number, hasResource: boolean, resourceSid: number | null): number {
    const actionColumn = COLUMNS.indexOf('action')
    const action = this.columns[actionColumn]!.data[id]!
    let fold = this.folded[action]
    if (fold === undefined) {
      fold = action === 0 ? 0 : this.foldDictionary.code(nocase(this.dictionaries[actionColumn]!.values[action]!))
      this.folded[action] = fold
    }
    const principal = this.columns[COLUMNS.indexOf('principal')]!.data[id]!
    const decision = this.columns[COLUMNS.indexOf('decision')]!.data[id]!
    const head = `${principal} ${fold} ${decision}`
    let byResource = this.heads.get(head)
    if (byResource === undefined) { byResource = new Map(); this.heads.set(head, byResource) }
    // 0 stands for a NULL resource; a resource missing from strings cannot be coded.
    if (hasResource && resourceSid === null) this.signaturesExact = false
    const resource = hasResource ? resourceSid ?? -id : 0
    let code = byResource.get(resource)
    if (code === undefined) { code = ++this.signatures; byResource.set(resource, code) }
    return code
  }

  /** The columns for team reports, read-only; valid until the next refresh(). */
  view (): ColumnsView {
    return {
      loadedMax: this.loadedMax,
      column: name => this.columns[COLUMNS.indexOf(name)]!.data,
      values: name => this.dictionaries[COLUMNS.indexOf(name)]!.values,
      signature: this.signature.data,
      signatures: this.signatures,
      exact: this.signaturesExact
    }
  }

  /**
   * Among the loaded denials (after refresh()), the ids whose values pass every test and that hold
   * every condition key of `keys` (condition_keys ids), in id order.
   */
  matchIds (tests: readonly ColumnTest[], keys: readonly number[] = []): number[] {
    const checks = this.checks(tests)
    // decision is NOT NULL: code 0 there is an id with no denial.
    const decision = this.columns[COLUMNS.indexOf('decision')]!.data
    const out: number[] = []
    for (let id = 1; id <= this.loadedMax; id++) if (decision[id] !== 0 && passes(checks, id) && this.holds(id, keys)) out.push(id)
    return out
  }

  /** Those of `ids` that are loaded denials (ids from an index may outlive theirs), whose values pass every test and that hold every key of `keys`. */
  filterIds (ids: readonly number[], tests: readonly ColumnTest[], keys: readonly number[] = []): number[] {
    const checks = this.checks(tests)
    const decision = this.columns[COLUMNS.indexOf('decision')]!.data
    return ids.filter(id => id <= this.loadedMax && decision[id] !== 0 && passes(checks, id) && this.holds(id, keys))
  }

  /** Whether denial `id` holds every condition key of `keys` (a denial has a dozen keys at most: a linear search). */
  private holds (id: number, keys: readonly number[]): boolean {
    const start = this.keyStart.data[id]!
    const end = start + this.keyCount.data[id]!
    for (const k of keys) {
      let i = start
      while (i < end && this.keyData[i] !== k) i++
      if (i === end) return false
    }
    return true
  }

  /** Per test, for each of its columns, which values (by code) pass; NULL (code 0) never does. */
  private checks (tests: readonly ColumnTest[]): Check[] {
    return tests.map(t => t.columns.map(name => {
      const f = COLUMNS.indexOf(name)
      const values = this.dictionaries[f]!.values
      const ok = new Uint8Array(values.length)
      for (let c = 1; c < values.length; c++) ok[c] = t.accepts(values[c]!) ? 1 : 0
      return { column: this.columns[f]!.data, ok }
    }))
  }

  /** The facet counts of these denials (ids from the table, after refresh()). */
  count (ids: readonly number[]): ColumnCounts {
    const tallies = this.dictionaries.slice(0, COLUMN_FACETS.length).map(d => new Int32Array(d.values.length))
    const size = this.loadedMax + 1
    const keyTally = new Map<number, number>()
    for (const id of ids) {
      // An id added after refresh() (another connection's import) is not counted: refresh first.
      if (id >= size) continue
      for (let f = 0; f < tallies.length; f++) tallies[f]![this.columns[f]!.data[id]!]!++
      const start = this.keyStart.data[id]!
      const end = start + this.keyCount.data[id]!
      for (let i = start; i < end; i++) {
        const k = this.keyData[i]!
        keyTally.set(k, (keyTally.get(k) ?? 0) + 1)
      }
    }
    const facets = {} as Record<ColumnFacet, Map<string, number>>
    COLUMN_FACETS.forEach((name, f) => {
      const m = new Map<string, number>()
      const t = tallies[f]!
      const values = this.dictionaries[f]!.values
      // Code 0 is NULL: not a facet value.
      for (let c = 1; c < t.length; c++) if (t[c]! > 0) m.set(values[c]!, t[c]!)
      facets[name] = m
    })
    return { facets, keys: keyTally }
  }
}
