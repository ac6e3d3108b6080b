/**
 * The values of a few condition keys per denial, held in memory by the server, so that the list's
 * drill-down (the values a filtered key takes under the other filters, with their counts) is a pass
 * over memory instead of a scan of the conditions index.
 *
 * Why: the values of one key are spread over the whole (value, key, denial) index. At 1M denials
 * (9M condition rows) counting aws:Region's values read every entry: 0.7–2.2 s for each list filtered
 * on a region, however few denials the other filters left. A denial's conditions never change (they
 * are part of the content its id stands for), so a key's values are read once (the same index scan)
 * and then only for the denials added since (a range of the conditions' primary key). A deletion can
 * free an id for reuse, so any deletion (counted by migration 0008's trigger) drops them all, as
 * FacetColumns does.
 *
 * Memory: 4 bytes per denial per key held, plus the denials holding a key with several values. Only
 * keys with at most MAX_VALUES distinct values are held (a drill-down over request times or source IPs
 * lists values seen once: SQL counts those), and at most MAX_KEYS keys, the least recently used let go.
 */
import type { DB } from '../connection.js'
import { idsOf } from './id-lists.js'

/** Keys held at once; ~4 MB each at 1M denials. */
const MAX_KEYS = 8
/** A key with more distinct values than this is not held. */
const MAX_VALUES = 10_000

/**
 * One key's values, as small codes (1, 2, … in order of first appearance; 0: none) so that counting is
 * a typed array's increments: the first value of each denial, and the further distinct values of
 * denials holding several.
 */
interface KeyValues {
  first: Int32Array
  more: Map<number, number[]>
  /** code → value id (strings.id); codes[0] unused. */
  valueIds: number[]
  codes: Map<number, number>
  /** The highest denial id read. */
  loadedMax: number
}

export class ConditionValueColumns {
  private readonly held = new Map<number, KeyValues | null>()
  private deletions = -1
  private readonly valueLists
  private readonly rowsAfter
  private readonly maxId
  private readonly deletionCount

  /** `maxValues`: the most distinct values of a key held (tests make it small). */
  constructor (db: DB, private readonly maxValues = MAX_VALUES) {
    // The key's rows in (value, denial) order from the covering index: one id list per value.
    this.valueLists = db.prepare<[number], [number, string]>(
      'SELECT value_id, group_concat(denial_id) FROM conditions WHERE key_id = ? GROUP BY value_id').raw()
    this.rowsAfter = db.prepare<[number, number], [number, number]>('SELECT denial_id, value_id FROM conditions WHERE denial_id > ? AND key_id = ?').raw()
    this.maxId = db.prepare<[], number | null>('SELECT max(id) FROM denials').pluck()
    this.deletionCount = db.prepare<[], number>("SELECT n FROM counters WHERE name = 'denials_deleted'").pluck()
  }

  /**
   * How many of `ids` (null: every denial) hold each value of key `keyId`, by value id; null when the
   * key is not held (too many distinct values). Call inside a read transaction: the counts are those
   * of its snapshot.
   */
  counts (keyId: number, ids: readonly number[] | null): Map<number, number> | null {
    const kv = this.refresh(keyId)
    if (kv === null) return null
    // tally[0] counts the denials without the key.
    const tally = new Int32Array(kv.valueIds.length)
    const { first, more } = kv
    if (ids === null) {
      for (let id = 1; id <= kv.loadedMax; id++) tally[first[id]!]!++
      for (const codes of more.values()) for (const c of codes) tally[c]!++
    } else {
      const several = more.size > 0
      for (const id of ids) {
        if (id > kv.loadedMax) continue
        tally[first[id]!]!++
        if (several) for (const c of more.get(id) ?? []) tally[c]!++
      }
    }
    const out = new Map<number, number>()
    for (let c = 1; c < tally.length; c++) if (tally[c]! > 0) out.set(kv.valueIds[c]!, tally[c]!)
    return out
  }

  /** The key's values, read or brought up to date; null if it has too many values to hold. */
  private refresh (keyId: number): KeyValues | null {
    const deletions = this.deletionCount.get() ?? 0
    if (deletions !== this.deletions) {
      this.held.clear()
      this.deletions = deletions
    }
    let kv = this.held.get(keyId)
    if (kv === undefined) {
      kv = this.load(keyId)
      if (this.held.size >= MAX_KEYS) this.held.delete(this.held.keys().next().value!)
    } else {
      // Most recently used last.
      this.held.delete(keyId)
      if (kv !== null) this.catchUp(kv, keyId)
    }
    this.held.set(keyId, kv)
    // A key held as too large stays so until the next deletion: it only grows.
    return kv
  }

  /** One scan of the key's index entries; stopped (null) once the key shows more than maxValues values. */
  private load (keyId: number): KeyValues | null {
    const loadedMax = this.maxId.get() ?? 0
    const kv: KeyValues = { first: new Int32Array(loadedMax + 1), more: new Map(), valueIds: [0], codes: new Map(), loadedMax }
    let values = 0
    for (const [value, list] of this.valueLists.iterate(keyId) as IterableIterator<[number, string]>) {
      if (++values > this.maxValues) return null
      for (const id of idsOf(list)) if (id <= loadedMax) put(kv, id, value)
    }
    return kv
  }

  /** The denials added since the key was read. */
  private catchUp (kv: KeyValues, keyId: number): void {
    const max = this.maxId.get() ?? 0
    if (max <= kv.loadedMax) return
    if (max + 1 > kv.first.length) {
      const next = new Int32Array(Math.max(max + 1, kv.first.length * 2))
      next.set(kv.first)
      kv.first = next
    }
    for (const [id, value] of this.rowsAfter.iterate(kv.loadedMax, keyId) as IterableIterator<[number, number]>) {
      if (id <= max) put(kv, id, value)
    }
    kv.loadedMax = max
  }
}

/** Denial `id` holds value id `valueId` (once, however often its conditions repeat it). */
function put (kv: KeyValues, id: number, valueId: number): void {
  let value = kv.codes.get(valueId)
  if (value === undefined) {
    value = kv.valueIds.length
    kv.valueIds.push(valueId)
    kv.codes.set(valueId, value)
  }
  const first = kv.first[id]!
  if (first === 0) { kv.first[id] = value; return }
  if (first === value) return
  const more = kv.more.get(id)
  if (more === undefined) kv.more.set(id, [value])
  else if (!more.includes(value)) more.push(value)
}
