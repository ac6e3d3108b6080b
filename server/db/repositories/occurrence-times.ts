/**
 * Every occurrence's time, held in memory grouped by denial, so that a team report counts the
 * occurrences of its window per denial in one sequential pass over memory, reading only the denials
 * of its team, instead of a range scan of millions of index entries (repositories/reports.ts).
 *
 * Why: at 4M occurrences the report's first pass read ~2M entries of idx_occurrences_observed_at for a
 * 60-day window, 0.45–0.8 s, on every report. Kept in occurrence-id order instead, the same pass cost
 * ~200 ms in the server: ids are not in time order (imports are not), so every occurrence was
 * visited and each one counted in a random place. Grouped by denial (offsets by denial id, the times
 * of denial d at times[start[d] .. start[d + 1])), the pass reads times in order and skips whole
 * denials the report leaves out.
 *
 * Occurrences are added with growing ids: after the first load only the rows added since are read,
 * into a tail (in id order) that is merged into the grouped arrays once it is an eighth of them. An
 * occurrence can also be moved to another denial or deleted (and a freed top id handed out again):
 * triggers count both (migration 0011), and the copy starts over when that counter moves. Reloading
 * costs seconds at 4M; moves and deletions are rare (a CloudTrail event decoded after its text denial
 * was stored).
 *
 * Times are epoch milliseconds, computed by SQLite from observed_at. The SQL path compares observed_at
 * as text, which agrees with comparing instants only for the canonical form (toISOString's); every row
 * is checked for it (strftime round trip) and one that is not makes `exact` false: reports then read
 * SQL, never a different answer.
 *
 * Memory: 8 bytes per occurrence and 4 per denial (36 MB at 4M / 1M), twice that while merging. Only
 * the server keeps it; a one-shot CLI report scans the index.
 */
import type { DB } from '../connection.js'
import { loadInTurns } from './in-turns.js'

const LOAD_CHUNK = 50_000
/** The tail is merged once it holds this many occurrences and an eighth of the grouped ones. */
const MERGE_MIN = 4096

/** id, denial_id, epoch ms of observed_at or null when observed_at is not in canonical form. */
type Row = [number, number, number | null]

/**
 * The arrays as one report reads them. A refresh never writes into what a snapshot reads: merging and
 * reloading make new arrays, and the tail only grows past the snapshot's tailLength.
 */
export interface OccurrenceSnapshot {
  /** Times of denial d: times[start[d] .. start[d + 1]) for d < start.length - 1. */
  start: Int32Array
  times: Float64Array
  /** Occurrences loaded since the last merge, in id order. */
  tailDenials: Int32Array
  tailTimes: Float64Array
  tailLength: number
}

export class OccurrenceTimes {
  private start = new Int32Array(1)
  private times = new Float64Array(0)
  private tailDenials = new Int32Array(1024)
  private tailTimes = new Float64Array(1024)
  private tailLength = 0
  /** The highest occurrence id loaded. */
  private loadedMax = 0
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
    // Loaded: reports read no tail.
    if (await loadInTurns(() => { this.checkChanges() }, () => this.loadChunk()) && this.tailLength > 0) this.merge()
  }

  snapshot (): OccurrenceSnapshot {
    return { start: this.start, times: this.times, tailDenials: this.tailDenials, tailTimes: this.tailTimes, tailLength: this.tailLength }
  }

  private checkChanges (): void {
    const n = this.changeCount.get() ?? 0
    if (n !== this.changes) {
      this.start = new Int32Array(1)
      this.times = new Float64Array(0)
      this.tailDenials = new Int32Array(1024)
      this.tailTimes = new Float64Array(1024)
      this.tailLength = 0
      this.loadedMax = 0
      this.exact = true
      this.changes = n
    }
  }

  private loadChunk (): boolean {
    const rows = this.rowsAfter.all(this.loadedMax, this.chunk) as Row[]
    if (rows.length === 0) return false
    for (const [, denial, ms] of rows) {
      if (ms === null) { this.exact = false; continue }
      if (this.tailLength === this.tailTimes.length) {
        const denials = new Int32Array(this.tailLength * 2)
        denials.set(this.tailDenials)
        const times = new Float64Array(this.tailLength * 2)
        times.set(this.tailTimes)
        this.tailDenials = denials
        this.tailTimes = times
      }
      this.tailDenials[this.tailLength] = denial
      this.tailTimes[this.tailLength++] = ms
    }
    this.loadedMax = rows[rows.length - 1]![0]
    if (this.tailLength >= MERGE_MIN && this.tailLength * 8 >= this.times.length) this.merge()
    return rows.length === this.chunk
  }

  /** The tail merged into the grouped arrays (a counting sort by denial), into new arrays. */
  private merge (): void {
    const oldStart = this.start
    const oldTimes = this.times
    const grouped = oldStart.length - 1
    let bound = grouped
    for (let k = 0; k < this.tailLength; k++) if (this.tailDenials[k]! + 1 > bound) bound = this.tailDenials[k]! + 1
    const start = new Int32Array(bound + 1)
    for (let d = 0; d < grouped; d++) start[d + 1] = oldStart[d + 1]! - oldStart[d]!
    for (let k = 0; k < this.tailLength; k++) start[this.tailDenials[k]! + 1]!++
    for (let d = 0; d < bound; d++) start[d + 1]! += start[d]!
    const times = new Float64Array(start[bound]!)
    const next = start.slice(0, bound)
    for (let d = 0; d < grouped; d++) {
      for (let k = oldStart[d]!; k < oldStart[d + 1]!; k++) times[next[d]!++] = oldTimes[k]!
    }
    for (let k = 0; k < this.tailLength; k++) times[next[this.tailDenials[k]!]!++] = this.tailTimes[k]!
    this.start = start
    this.times = times
    this.tailDenials = new Int32Array(1024)
    this.tailTimes = new Float64Array(1024)
    this.tailLength = 0
  }
}
