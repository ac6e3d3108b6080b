/** Import: records from any input → parsed messages → stored in batches, with a summary of what happened. */
import { isDenialCode, looksLikeEvent, parseEvent, type TokenClassifier } from '../authz/cloudtrail.js'
import { notAnObject, parseEnvelope, RecordError } from '../authz/parse.js'
import { messageFromText, parseDenialText } from '../authz/text.js'
import { extractTokens } from '../decode/extract.js'
import { Worker } from 'node:worker_threads'
import { boundYoungGeneration, collectGarbage } from './memory.js'
import type { ImportRecord, InputItem, KnownRecord, ParsedMessage, RejectedRecord, SourceRecord } from '../authz/types.js'
import type { DenialWriter } from '../db/repositories/denial-writer.js'
import type { ImportsRepository } from '../db/repositories/imports.js'

export interface ImportSummary {
  imported: number
  duplicates: number
  /** Records that are not denials (CloudTrail events with no access-denied errorCode): read and left out. */
  skipped: number
  /** The first MAX_REJECTED_DETAIL rejections, in input order, each with its source, line and reason. */
  rejected: RejectedRecord[]
  /** Every rejection, counted: `rejected` may hold only the first of them. */
  rejectedCount: number
  /** Rejections per reason category (see reasonCategory). */
  rejectedReasons: Record<string, number>
}

/** Rejections kept in full detail in a summary; the rest are counted. Documented in README. */
export const MAX_REJECTED_DETAIL = 1000
/** Reject rows stored per import (import_rejects); the imports row counts them all. */
export const MAX_STORED_REJECTS = 1000
/** Distinct reason categories counted; rarer ones are counted together under OTHER_REASONS. */
export const MAX_REASON_CATEGORIES = 50
export const OTHER_REASONS = '(other reasons)'

/**
 * The category of a rejection: its reason with the parts that vary from record to record replaced,
 * so that a million bad lines sum up in a few rows. Replaced: quoted input ("…"), the keys found
 * ({…}), array indices ([*]), JSON paths into unknown keys ($…), the parser's token and position.
 */
export function reasonCategory (reason: string): string {
  const quoted = '"(?:[^"\\\\]|\\\\.)*"'
  const c = reason
    // V8 quotes a snippet of the input, which may itself hold quotes: up to its fixed ending.
    .replace(/(^|: |, )".*" is not valid JSON/g, '$1"…" is not valid JSON')
    .replace(new RegExp(`(starts with|observedAt) ${quoted}`, 'g'), '$1 "…"')
    .replace(/(Unexpected token) '.{1,2}'/g, '$1 …')
    .replace(/\{[^{}]*\}/g, '{…}')
    .replace(/\[\d+\]/g, '[*]')
    .replace(/\(field \$[^)]*\)/g, '(field $…)')
    .replace(/ ?\(line \d+ column \d+\)| (?:in JSON )?at position \d+/g, '')
  return c.length > 200 ? `${c.slice(0, 199)}…` : c
}

/** Adds up summaries (several runs, several uploads) without ever holding more than the bounded detail. */
export class SummaryBuilder {
  imported = 0
  duplicates = 0
  skipped = 0
  rejectedCount = 0
  readonly rejected: RejectedRecord[] = []
  private readonly reasons = new Map<string, number>()
  private readonly categoryOf = new Map<string, string>()

  reject (r: RejectedRecord): void {
    this.rejectedCount++
    if (this.rejected.length < MAX_REJECTED_DETAIL) this.rejected.push(r)
    let category = this.categoryOf.get(r.reason)
    if (category === undefined) {
      category = reasonCategory(r.reason)
      // Bad input repeats its reasons word for word: remember a few hundred.
      if (this.categoryOf.size < 500) this.categoryOf.set(r.reason, category)
    }
    this.countReason(category, 1)
  }

  add (s: ImportSummary): void {
    this.imported += s.imported
    this.duplicates += s.duplicates
    this.skipped += s.skipped
    this.rejectedCount += s.rejectedCount
    // A loop, not push(...s.rejected): spreading a large array into a call overflows the stack.
    for (const r of s.rejected) {
      if (this.rejected.length >= MAX_REJECTED_DETAIL) break
      this.rejected.push(r)
    }
    for (const [k, n] of Object.entries(s.rejectedReasons)) this.countReason(k, n)
  }

  summary (): ImportSummary {
    return {
      imported: this.imported,
      duplicates: this.duplicates,
      skipped: this.skipped,
      rejected: this.rejected,
      rejectedCount: this.rejectedCount,
      // fromEntries defines own properties: a category named "__proto__" stays a plain key.
      rejectedReasons: Object.fromEntries(this.reasons)
    }
  }

  private countReason (category: string, n: number): void {
    const key = this.reasons.has(category) || this.reasons.size < MAX_REASON_CATEGORIES ? category : OTHER_REASONS
    this.reasons.set(key, (this.reasons.get(key) ?? 0) + n)
  }
}

export interface ImportOptions {
  /** Label every occurrence with this source instead of the file name. */
  source?: string | undefined
  /**
   * Records per transaction (default 20,000). Each commit writes every page it dirtied, and recurring
   * denials dirty the same index pages again and again: large batches write each page once. A crash
   * loses at most the open batch, which a re-run imports.
   */
  batchSize?: number | undefined
  /** Bytes of message text per transaction (default 16 MiB): large records make smaller batches, so memory stays bounded. */
  batchBytes?: number | undefined
  onProgress?: ((done: { records: number, imported: number, duplicates: number, rejected: number }) => void) | undefined
  /** The import's own label in the imports table. */
  label?: string
  /** Parse on a worker thread once an input is large (default true). */
  parallel?: boolean
  /** Records read before the worker starts (default PARALLEL_AFTER); tests lower it to put small inputs through the worker path. */
  parallelAfter?: number
  /**
   * Collect garbage after each batch and every GC_AFTER_BYTES of input, and keep V8's young
   * generation to Node 20's size (see boundYoungGeneration), for long imports in their own process
   * (the CLI). A function is called instead of the collection (tests count the calls).
   */
  collectGarbage?: boolean | (() => void)
  /**
   * With collectGarbage: collect only when the process's RSS is above this many MiB. Below it a
   * forced collection costs time for nothing (V8 collects on its own); above it, it keeps the garbage
   * of parsed batches and skipped events from piling up to hundreds of MB.
   */
  collectGarbageAboveMb?: number
  /**
   * Keep V8's young generation to Node 20's size (boundYoungGeneration) without forcing collections:
   * for imports inside the server, a long-lived process whose memory counts as much as the CLI's.
   * A function is called instead (tests count the calls).
   */
  boundYoungGeneration?: boolean | (() => void)
  /** The parse worker's heap limit in MiB (default 64, at least MIN_WORKER_HEAP_MB); tests set a small one to make it fail. */
  workerHeapMb?: number
  /** Told when the parse worker fails (its chunks are then parsed on this thread); the import goes on. */
  onWorkerFailure?: (err: Error) => void
}

/**
 * For imports inside the server: short write transactions, so that searches and pages are answered
 * between them (the CLI keeps large batches, which are faster).
 */
export const SERVER_IMPORT_OPTIONS = { batchSize: 250, batchBytes: 1024 * 1024, boundYoungGeneration: true } as const

/** For `whydenied import` (and the benchmark, which must measure the same thing): a process of its own. */
export const CLI_IMPORT_OPTIONS = { collectGarbage: true, collectGarbageAboveMb: 256 } as const

/** A record that is not a denial (a CloudTrail event that succeeded, or failed for another reason). */
export const SKIPPED = null
export type Skipped = typeof SKIPPED

/**
 * An encoded authorization message in a CloudTrail errorMessage: whole (to decode, now or later), or cut
 * short (CloudTrail truncates long error messages), by the same hygiene rules `whydenied decode` applies.
 */
export const classifyToken: TokenClassifier = (errorMessage) => {
  if (!/encoded\s+(?:authori[sz]ation\s+)?failure\s+message/i.test(errorMessage)) return null
  const { tokens, problems } = extractTokens(errorMessage)
  if (tokens.length === 1 && problems.length === 0) return { token: tokens[0]!, state: 'pending' }
  return { token: null, state: 'truncated' }
}

/** Parse one input record; a problem becomes a rejection that names the field. */
export function toImportRecord (item: SourceRecord, sourceOverride?: string): ImportRecord | RejectedRecord | Skipped {
  if (item.text !== undefined) {
    const r = parseDenialText(item.text)
    if (r === null || !r.ok) return { source: item.source, line: item.line, reason: r?.reason ?? 'no access-denied message in the text' }
    return { message: messageFromText(r.denial), source: sourceOverride ?? item.source, line: item.line, index: item.index, observedAt: null }
  }
  // The commonest garbage (numbers, strings, bare words that parse) is refused without a throw.
  const notObject = notAnObject(item.value)
  if (notObject !== null) return { source: item.source, line: item.line, reason: notObject }
  // A rejection is a reason for a person, never a bug to trace: capturing a stack for each of a
  // million bad lines cost more than everything else done with them (5 µs each, measured).
  const stackTraceLimit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    if (looksLikeEvent(item.value)) {
      const e = parseEvent(item.value, classifyToken)
      if (e.skipped) return SKIPPED
      // The event identifies the occurrence: its source is the file (or --source) and the event id.
      return { message: e.message, source: sourceOverride ?? item.source, line: item.line, index: item.index, observedAt: e.observedAt, event: e.event }
    }
    const env = parseEnvelope(item.value)
    return { message: env.message, source: sourceOverride ?? env.source ?? item.source, line: item.line, index: item.index, encodedSha256: item.encodedSha256, observedAt: env.observedAt }
  } catch (err) {
    if (err instanceof RecordError) return { source: item.source, line: item.line, reason: err.message }
    // Not expected, but one strange record must not stop an import: reject it and go on.
    return { source: item.source, line: item.line, reason: `could not be read: ${(err as Error).message}` }
  } finally {
    Error.stackTraceLimit = stackTraceLimit
  }
}

/**
 * What the parse worker answers per record: the stored record, or only the reason of a rejection
 * (its source and line are in the request): small strings clone much faster than objects. For a
 * decoded message it read lately, only what another occurrence needs (this thread adds `full`).
 */
export type WorkerResult = ParseResult | Omit<KnownRecord, 'full'>
export type ParseResult = ImportRecord | string | Skipped

export function toWorkerResult (item: SourceRecord, sourceOverride?: string): ParseResult {
  const r = toImportRecord(item, sourceOverride)
  return r === SKIPPED || 'message' in r ? r : r.reason
}

/** Imports smaller than this stay on one thread: a worker costs more to start than it saves. */
const PARALLEL_AFTER = 2000
/**
 * The worker's work is bounded by bytes, not records: a chunk closes at CHUNK_BYTES of JSON text (or
 * CHUNK_RECORDS records), and at most MAX_IN_FLIGHT_BYTES are sent and not yet stored. Records are
 * up to 1 MiB each, so a count alone would let a few thousand large ones exhaust the worker's heap.
 *
 * How far ahead the worker may parse decides how much the two threads overlap: storing a batch is
 * one synchronous transaction of seconds, during which this thread sends the worker nothing, so the
 * worker parses only what it was given before. With 3 chunks / 4 MiB ahead it then idled, and this
 * thread waited for it after each batch. Measured with test/bench/import-worker on 100,000 messages
 * (2026-11-30, back to back): distinct-heavy 27.2 s → 23.4 s at 20 chunks / 12 MiB (peak RSS 332 →
 * 362 MB), skewed 11.4 s → 8.8 s (294 → 334 MB); 40 chunks / 24 MiB gained 1 s more but peaked at
 * 415 MB.
 */
const CHUNK_RECORDS = 500
const CHUNK_BYTES = 1024 * 1024
const MAX_IN_FLIGHT_BYTES = 12 * 1024 * 1024
const MAX_IN_FLIGHT = 20
/** A record whose size the input did not give (hand-built records) counts as this much. */
const DEFAULT_RECORD_BYTES = 1024
/**
 * With collectGarbage, input read between two collections when no batch fills: a CloudTrail log is
 * mostly events that are not denials, so a 20,000-denial batch fills only every ~400,000 events, and
 * V8 let the parsed events pile up to ~190 MB of heap in between (measured on a day of logs, 1M events:
 * 419 MB peak RSS; 304 MB with a collection every 16 MiB of input, 316 MB every 32 MiB, for the same
 * CPU time within noise). What is left of the growth is SQLite's page cache filling up to its cap.
 */
export const GC_AFTER_BYTES = 16 * 1024 * 1024
/** Longest stretch of work between two turns of the event loop (a server keeps answering). */
const YIELD_AFTER_MS = 20

type Parsed = ImportRecord | KnownRecord | RejectedRecord | Skipped

/** The message of a record the worker answered as known: parsed again here (see KnownRecord). */
function fullMessage (item: SourceRecord, sourceOverride: string | undefined): ParsedMessage {
  const r = toImportRecord(item, sourceOverride)
  // The worker parsed this very text without a problem: only a bug could make it differ here.
  if (r === SKIPPED || !('message' in r)) throw new Error(`line ${item.line} of ${item.source} parsed on the worker but not here`)
  return r.message
}

/**
 * The smallest heap limit a parse worker is given. Below a few MiB the worker's isolate cannot even
 * be created: on Node 24 V8 then aborts the whole process ("Fatal JavaScript out of memory: GC during
 * deserialization", SIGILL, measured on 24.22 at 1 and 2 MiB), because the startup snapshot is read
 * before Node installs the handler that turns a worker's out-of-memory into an 'error' event (Node 20
 * reported the same limit as an error). From here up, a worker that runs out is ended with an error
 * (ERR_WORKER_OUT_OF_MEMORY) and its chunks are parsed on this thread; the parse worker itself needs
 * about 12 MiB to start on Node 24 (8 on Node 20), so a smaller limit only ever costs the worker.
 */
export const MIN_WORKER_HEAP_MB = 16

/** The parse worker, with requests answered in order. */
class ParseWorker {
  private readonly worker: Worker
  private readonly pending = new Map<number, { resolve: (r: WorkerResult[]) => void, reject: (e: Error) => void }>()
  private next = 0
  private failed: Error | null = null
  private closing = false

  constructor (heapMb = 64, onFailure?: (err: Error) => void) {
    // Under the test runner this module is TypeScript; the worker then loads the .ts twin through
    // the same loader (workers inherit execArgv).
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
    // The worker holds a few chunks at a time; a small heap keeps it from hoarding garbage. Running
    // out is survivable only while no single allocation outgrows the 16 MiB of grace Node's
    // near-heap-limit handler gives: a larger one aborts the whole process (on Node 20 as on 24). The
    // worker's input is bounded so that none can: records of at most 1 MiB (a string of 2 MiB, an
    // array of 4 MiB at most), chunks of CHUNK_BYTES, MAX_IN_FLIGHT_BYTES in flight.
    const maxOldGenerationSizeMb = Math.max(heapMb, MIN_WORKER_HEAP_MB)
    this.worker = new Worker(new URL(`./parse-worker${ext}`, import.meta.url), { resourceLimits: { maxOldGenerationSizeMb, maxYoungGenerationSizeMb: 8 } })
    this.worker.on('message', (m: { id: number, results: WorkerResult[] }) => {
      this.pending.get(m.id)?.resolve(m.results)
      this.pending.delete(m.id)
    })
    const fail = (err: Error): void => {
      // Ending it at the end of an import is no failure.
      if (this.failed === null && !this.closing) onFailure?.(err)
      this.failed = err
      for (const p of this.pending.values()) p.reject(err)
      this.pending.clear()
    }
    this.worker.on('error', fail)
    this.worker.on('exit', code => { fail(new Error(`parse worker exited with code ${code}`)) })
  }

  get ok (): boolean { return this.failed === null }

  parse (records: SourceRecord[], source: string | undefined): Promise<WorkerResult[]> {
    if (this.failed) return Promise.reject(this.failed)
    const id = this.next++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      // postMessage throws synchronously when a record cannot be cloned; the executor turns that into
      // a rejection, and the chunk is then parsed on this thread.
      this.worker.postMessage({ id, records, source })
    })
  }

  async close (): Promise<void> {
    this.closing = true
    await this.worker.terminate()
  }
}

/**
 * Items in input order; those that need parsing are sent to the worker (`sent`), the others (input
 * rejections, and values that are not objects, rejected at once) are kept here, so that records
 * are stored, and rejections listed, in the same order as on one thread.
 */
interface Chunk { items: InputItem[], sent: SourceRecord[], bytes: number, result: Promise<WorkerResult[]> | null }

const newChunk = (): Chunk => ({ items: [], sent: [], bytes: 0, result: null })

/**
 * Whether a record is worth sending to the worker: anything but an object is rejected in no time, and a
 * CloudTrail event that is not a denial (most of a log) is skipped in no time: cloning it would cost more.
 */
const worthSending = (r: SourceRecord): boolean => notAnObject(r.value) === null && !(looksLikeEvent(r.value) && !isDenialCode(r.value.errorCode))

const yieldToLoop = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

export class Importer {
  constructor (private readonly writer: DenialWriter, private readonly imports: ImportsRepository) {}

  /**
   * Read, parse and store. Large inputs are parsed on a worker thread while this thread reads and
   * writes, so both cores work; records are stored in input order either way. If the worker fails,
   * its chunks are parsed here: a worker problem never costs a record. Between batches, and at
   * least every YIELD_AFTER_MS, the event loop gets a turn: a server keeps answering.
   */
  async run (inputs: AsyncIterable<InputItem> | Iterable<InputItem>, opts: ImportOptions = {}): Promise<ImportSummary> {
    const batchSize = opts.batchSize ?? 20_000
    const batchBytes = opts.batchBytes ?? 16 * 1024 * 1024
    const out = new SummaryBuilder()
    const importId = this.imports.start(opts.label ?? opts.source ?? 'import')
    let batch: Array<ImportRecord | KnownRecord> = []
    let bytesInBatch = 0
    let batchRejects: RejectedRecord[] = []
    let rejectsToCount = 0
    let storedRejects = 0
    /** Skipped records already added to the import's row. */
    let skippedStored = 0
    const storeSkipped = (): void => {
      this.imports.addSkipped(importId, out.skipped - skippedStored)
      skippedStored = out.skipped
    }
    let records = 0
    /** Input bytes read since the last garbage collection (with opts.collectGarbage). */
    let readSinceGc = 0
    const collect = opts.collectGarbage === true ? collectGarbage : opts.collectGarbage || null
    const aboveMb = opts.collectGarbageAboveMb
    const gc = collect === null || aboveMb === undefined
      ? collect
      : () => { if (process.memoryUsage.rss() > aboveMb * 1024 * 1024) collect() }
    const bound = typeof opts.boundYoungGeneration === 'function'
      ? opts.boundYoungGeneration
      : gc !== null || opts.boundYoungGeneration === true ? boundYoungGeneration : null
    let lastYield = performance.now()
    const maybeYield = async (): Promise<void> => {
      if (performance.now() - lastYield < YIELD_AFTER_MS) return
      bound?.()
      await yieldToLoop()
      lastYield = performance.now()
    }
    const flush = async (): Promise<void> => {
      if (batch.length === 0 && rejectsToCount === 0) return
      const outcomes = this.writer.storeBatch(batch, batchRejects, importId, undefined, rejectsToCount)
      for (const o of outcomes) o === 'imported' ? out.imported++ : out.duplicates++
      storeSkipped()
      batch = []
      bytesInBatch = 0
      batchRejects = []
      rejectsToCount = 0
      bound?.()
      if (gc !== null) {
        gc()
        readSinceGc = 0
      }
      opts.onProgress?.({ records, imported: out.imported, duplicates: out.duplicates, rejected: out.rejectedCount })
      await maybeYield()
    }
    /** Add one outcome to the open batch; true when the batch is full (the caller flushes). */
    const accept = (r: Parsed): boolean => {
      if (r === SKIPPED) {
        out.skipped++
        return false
      }
      if ('known' in r) {
        batch.push(r)
        bytesInBatch += r.rawLength
      } else if ('message' in r) {
        batch.push(r)
        bytesInBatch += r.message.rawLength ?? r.message.raw.length
      } else {
        out.reject(r)
        rejectsToCount++
        // Only the first rejections are stored row by row; the rest are counted (imports.rejected).
        if (storedRejects < MAX_STORED_REJECTS) { batchRejects.push(r); storedRejects++ }
      }
      return batch.length + batchRejects.length >= batchSize || bytesInBatch >= batchBytes
    }
    const acceptItem = (item: InputItem): boolean => accept(item.kind === 'rejected' ? item.rejected : toImportRecord(item.record, opts.source))
    let worker: ParseWorker | null = null
    let chunk = newChunk()
    const inFlight: Chunk[] = []
    let inFlightBytes = 0
    const send = (c: Chunk): void => {
      if (worker?.ok && c.sent.length > 0) {
        c.result = worker.parse(c.sent, opts.source)
        c.result.catch(() => {}) // awaited later, in order; mark it handled now
      }
      inFlight.push(c)
      inFlightBytes += c.bytes
    }
    const drainOne = async (): Promise<void> => {
      const c = inFlight.shift()!
      inFlightBytes -= c.bytes
      let results: WorkerResult[] | null = null
      if (c.result !== null) {
        try {
          results = await c.result
        } catch {
          results = null // parsed below, on this thread
        }
      }
      let next = 0
      for (const item of c.items) {
        let full: boolean
        if (results === null || item.kind === 'rejected' || !worthSending(item.record)) {
          full = acceptItem(item)
        } else {
          const r = results[next++]!
          const record = item.record
          full = accept(typeof r === 'string'
            ? { source: record.source, line: record.line, reason: r }
            : r !== SKIPPED && 'known' in r ? { ...r, full: () => fullMessage(record, opts.source) } : r)
        }
        if (full) await flush()
        else if (results === null) await maybeYield()
      }
      await maybeYield()
    }
    try {
      for await (const item of inputs) {
        records++
        if (gc !== null && item.kind === 'record') {
          readSinceGc += item.record.bytes ?? DEFAULT_RECORD_BYTES
          if (readSinceGc >= GC_AFTER_BYTES) {
            gc()
            readSinceGc = 0
          }
        }
        // Started for the first record worth parsing there: a flood of garbage never needs it.
        if (worker === null && records > (opts.parallelAfter ?? PARALLEL_AFTER) && opts.parallel !== false && item.kind === 'record' && worthSending(item.record)) {
          worker = new ParseWorker(opts.workerHeapMb, opts.onWorkerFailure)
        }
        if (worker === null) {
          if (acceptItem(item)) await flush()
        } else {
          // Once there is a worker, every item goes through the chunk queue, even after the worker
          // failed (its chunks are then parsed here): records are stored in input order.
          chunk.items.push(item)
          if (item.kind === 'record' && worthSending(item.record)) {
            chunk.sent.push(item.record)
            chunk.bytes += item.record.bytes ?? DEFAULT_RECORD_BYTES
          }
          if (chunk.items.length >= CHUNK_RECORDS || chunk.bytes >= CHUNK_BYTES) {
            send(chunk)
            chunk = newChunk()
            // drainOne() lowers inFlightBytes (the rule cannot see a change made by an awaited call).
            // eslint-disable-next-line no-unmodified-loop-condition
            while (inFlight.length > MAX_IN_FLIGHT || inFlightBytes > MAX_IN_FLIGHT_BYTES) await drainOne()
          }
        }
        if ((records & 63) === 0) await maybeYield()
      }
      if (chunk.items.length > 0) send(chunk)
      while (inFlight.length > 0) await drainOne()
      await flush()
    } finally {
      await worker?.close()
      // However it ended, the import is finished: its row says so, with what was stored.
      try {
        storeSkipped()
        this.imports.finish(importId)
      } catch {
        // The database itself failed; the error being thrown says so.
      }
    }
    return out.summary()
  }
}
