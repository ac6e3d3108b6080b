/**
 * Every occurrence's denial and time, held in memory as two typed arrays indexed by occurrence id, so
 * that a team report counts the occurrences of its window in one pass over memory instead of a range
 * scan of millions of index entries (repositories/reports.ts).
 *
 * Why: at 4M occurrences the report's first pass read ~2M entries of idx_occurrences_observed_at for a
 * 60-day window, 0.45–0.8 s, on every report. Occurrences are added with growing ids, so after the first
 * load only the rows added since are read. An occurrence can also be moved to another denial or deleted
 * (and a freed top id handed out again): triggers count both (migration 0010), and the copy starts over
 * when that counter moves. Reloading costs a few seconds at 4M; moves and deletions are rare (a CloudTrail
 * event decoded after its text denial was stored).
 *
 * Times are epoch milliseconds, computed by SQLite from observed_at. The SQL path compares observed_at
 * as text, which agrees with comparing instants only for the canonical form (toISOString's); every row
 * is checked for it (strftime round trip) and one that is not makes `exact` false: reports then read
 * SQL, never a different answer.
 *
 * Memory: 12 bytes per occurrence (48 MB at 4M; up to twice that while an array doubles). Only the
 * server keeps it; a one-shot CLI report scans the index.
 */
import type { DB } from '../connection.js'

const LOAD_CHUNK = 50_000
/** Occurrences per block of the time summary: ids are mostly in time order, so a window skips most blocks. */
const BLOCK_SHIFT = 10

/** The arrays as one report reads them: a refresh replaces them (after a change) or only appends past loadedMax. */
export interface OccurrenceSnapshot {
  denials: Int32Array
  times: Float64Array
  blockMin: Float64Array
  blockMax: Float64Array
  loadedMax: number
}

/** Calls fn(id, time) for each occurrence of the snapshot with from <= time < until, in id order. */
export function forEachInWindow (s: OccurrenceSnapshot, from: number, until: number, fn: (id: number, time: number) => void): void {
  const { times, blockMin, blockMax, loadedMax } = s
  for (let b = 0; b <= loadedMax >> BLOCK_SHIFT; b++) {
    // A block whose times all fall outside the window is skipped whole.
    if (!(blockMax[b]! >= from && blockMin[b]! < until)) continue
    const end = Math.min(loadedMax, ((b + 1) << BLOCK_SHIFT) - 1)
    for (let o = Math.max(1, b << BLOCK_SHIFT); o <= end; o++) {
      const t = times[o]!
      if (t >= from && t < until) fn(o, t)
    }
  }
}

/** id, denial_id, epoch ms of observed_at or null when observed_at is not in canonical form. */
type Row = [number, number, number | null]

export class OccurrenceTimes {
  /** denial_id and epoch ms by occurrence id; NaN time: no such occurrence. */
  denials = new Int32Array(0)
  times = new Float64Array(0)
  /** Least and greatest time of each block of 2^BLOCK_SHIFT ids (+∞ and −∞ when empty). */
  blockMin = new Float64Array(0)
  blockMax = new Float64Array(0)
  /** The highest occurrence id loaded. */
  loadedMax = 0
  /** False once an observed_at is not canonical: only the SQL path is then exact. */
  exact = true
  private changes = -1
  private readonly rowsAfter
  private readonly changeCount

  constructor (db: DB, private readonly chunk = LOAD_CHUNK) {
    this.rowsAfter = db.prepare<[number, number], Row>(`SELECT id, denial_id,
      CASE WHEN strftime('%Y-%m-%dT%H:%M:%fZ', observed_at) = observed_at THEN CAST(round(unixepoch(observed_at, 'subsec') * 1000) AS INTEGER) ELSE NULL END
      FROM occurrences WHERE id > ? ORDER BY id LIMIT ?`).raw()
    this.changeCount = db.prepare<[], number>("SELECT n FROM counters WHERE name = 'occurrences_changed'").pluck()
  }

  /** Bring the copy up to date with the table: the occurrences added since, or all after a move or deletion. */
  refresh (): void {
    this.checkChanges()
    while (this.loadChunk()) { /* until the table's end */ }
  }

  /** Load in the background, a chunk per turn of the event loop; stops quietly if the database closes meanwhile. */
  async warm (): Promise<void> {
    try {
      this.checkChanges()
      while (this.loadChunk()) await new Promise(resolve => setImmediate(resolve))
    } catch (err) {
      if (!(err instanceof TypeError) || !/not open/.test(err.message)) throw err
    }
  }

  private checkChanges (): void {
    const n = this.changeCount.get() ?? 0
    if (n !== this.changes) {
      this.denials = new Int32Array(0)
      this.times = new Float64Array(0)
      this.blockMin = new Float64Array(0)
      this.blockMax = new Float64Array(0)
      this.loadedMax = 0
      this.exact = true
      this.changes = n
    }
  }

  private loadChunk (): boolean {
    const rows = this.rowsAfter.all(this.loadedMax, this.chunk) as Row[]
    if (rows.length === 0) return false
    this.ensure(rows[rows.length - 1]![0] + 1)
    for (const [id, denial, ms] of rows) {
      this.denials[id] = denial
      if (ms === null) { this.exact = false; continue }
      this.times[id] = ms
      const b = id >> BLOCK_SHIFT
      if (ms < this.blockMin[b]!) this.blockMin[b] = ms
      if (ms > this.blockMax[b]!) this.blockMax[b] = ms
    }
    this.loadedMax = rows[rows.length - 1]![0]
    return rows.length === this.chunk
  }

  private ensure (size: number): void {
    if (size <= this.times.length) return
    let n = Math.max(this.times.length, 1024)
    while (n < size) n *= 2
    const denials = new Int32Array(n)
    denials.set(this.denials)
    const times = new Float64Array(n).fill(NaN)
    times.set(this.times)
    this.denials = denials
    this.times = times
    const blocks = n >> BLOCK_SHIFT
    const blockMin = new Float64Array(blocks).fill(Infinity)
    blockMin.set(this.blockMin)
    const blockMax = new Float64Array(blocks).fill(-Infinity)
    blockMax.set(this.blockMax)
    this.blockMin = blockMin
    this.blockMax = blockMax
  }

  snapshot (): OccurrenceSnapshot {
    return { denials: this.denials, times: this.times, blockMin: this.blockMin, blockMax: this.blockMax, loadedMax: this.loadedMax }
  }
}
