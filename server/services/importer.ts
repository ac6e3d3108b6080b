/** Import: records from any input → parsed messages → stored in batches, with a summary of what happened. */
import { parseEnvelope, RecordError } from '../authz/parse.js'
import { Worker } from 'node:worker_threads'
import { collectGarbage } from './memory.js'
import type { ImportRecord, InputItem, RejectedRecord, SourceRecord } from '../authz/types.js'
import type { DenialWriter } from '../db/repositories/denial-writer.js'
import type { ImportsRepository } from '../db/repositories/imports.js'

export interface ImportSummary {
  imported: number
  duplicates: number
  rejected: RejectedRecord[]
}

export interface ImportOptions {
  /** Label every occurrence with this source instead of the file name. */
  source?: string | undefined
  /**
   * Records per transaction (default 20,000). Each commit writes every page it dirtied, and recurring
   * denials dirty the same index pages again and again: large batches write each page once. A crash
   * loses at most the open batch, which a re-run imports.
   */
  batchSize?: number
  onProgress?: (done: { records: number, imported: number, duplicates: number, rejected: number }) => void
  /** The import's own label in the imports table. */
  label?: string
  /** Parse on a worker thread once an input is large (default true). */
  parallel?: boolean
  /** Collect garbage after each batch, for long imports in their own process (the CLI). */
  collectGarbage?: boolean
}

/** Parse one input record; a problem becomes a rejection that names the field. */
export function toImportRecord (item: SourceRecord, sourceOverride?: string): ImportRecord | RejectedRecord {
  try {
    const env = parseEnvelope(item.value)
    return { message: env.message, source: sourceOverride ?? env.source ?? item.source, line: item.line, index: item.index, encodedSha256: item.encodedSha256, observedAt: env.observedAt }
  } catch (err) {
    if (err instanceof RecordError) return { source: item.source, line: item.line, reason: err.message }
    // Not expected, but one strange record must not stop an import: reject it and go on.
    return { source: item.source, line: item.line, reason: `could not be read: ${(err as Error).message}` }
  }
}

/** Imports smaller than this stay on one thread: a worker costs more to start than it saves. */
const PARALLEL_AFTER = 2000
const CHUNK = 500
const MAX_IN_FLIGHT = 3

type Parsed = ImportRecord | RejectedRecord

/** The parse worker, with requests answered in order. */
class ParseWorker {
  private readonly worker: Worker
  private readonly pending = new Map<number, { resolve: (r: Parsed[]) => void, reject: (e: Error) => void }>()
  private next = 0
  private failed: Error | null = null

  constructor () {
    // Under the test runner this module is TypeScript; the worker then loads the .ts twin through
    // the same loader (workers inherit execArgv).
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
    // The worker holds a few chunks at a time; a small heap keeps it from hoarding garbage.
    this.worker = new Worker(new URL(`./parse-worker${ext}`, import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 96 } })
    this.worker.on('message', (m: { id: number, results: Parsed[] }) => {
      this.pending.get(m.id)?.resolve(m.results)
      this.pending.delete(m.id)
    })
    const fail = (err: Error): void => {
      this.failed = err
      for (const p of this.pending.values()) p.reject(err)
      this.pending.clear()
    }
    this.worker.on('error', fail)
    this.worker.on('exit', code => { if (code !== 0) fail(new Error(`parse worker exited with code ${code}`)) })
  }

  parse (records: SourceRecord[], source: string | undefined): Promise<Parsed[]> {
    if (this.failed) return Promise.reject(this.failed)
    const id = this.next++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ id, records, source })
    })
  }

  async close (): Promise<void> {
    await this.worker.terminate()
  }
}

/** Mark a promise handled now (it is awaited later, in order) so an early failure is not "unhandled". */
function settled<T> (p: Promise<T>): Promise<T> {
  p.catch(() => {})
  return p
}

export class Importer {
  constructor (private readonly writer: DenialWriter, private readonly imports: ImportsRepository) {}

  /**
   * Read, parse and store. Large inputs are parsed on a worker thread while this thread reads and
   * writes, so both cores work; records are stored in input order either way.
   */
  async run (inputs: AsyncIterable<InputItem> | Iterable<InputItem>, opts: ImportOptions = {}): Promise<ImportSummary> {
    const batchSize = opts.batchSize ?? 20_000
    const summary: ImportSummary = { imported: 0, duplicates: 0, rejected: [] }
    const importId = this.imports.start(opts.label ?? opts.source ?? 'import')
    let batch: ImportRecord[] = []
    let batchRejects: RejectedRecord[] = []
    let records = 0
    const flush = (): void => {
      if (batch.length === 0 && batchRejects.length === 0) return
      const outcomes = this.writer.storeBatch(batch, batchRejects, importId)
      for (const o of outcomes) o === 'imported' ? summary.imported++ : summary.duplicates++
      summary.rejected.push(...batchRejects)
      batch = []
      batchRejects = []
      if (opts.collectGarbage) collectGarbage()
      opts.onProgress?.({ records, imported: summary.imported, duplicates: summary.duplicates, rejected: summary.rejected.length })
    }
    const accept = (r: Parsed): void => {
      if ('message' in r) batch.push(r)
      else batchRejects.push(r)
      if (batch.length + batchRejects.length >= batchSize) flush()
    }
    let worker: ParseWorker | null = null
    let chunk: SourceRecord[] = []
    const inFlight: Array<Promise<Parsed[]>> = []
    try {
      for await (const item of inputs) {
        records++
        if (item.kind === 'rejected') {
          accept(item.rejected)
          continue
        }
        if (worker === null && records > PARALLEL_AFTER && opts.parallel !== false) worker = new ParseWorker()
        if (worker === null) {
          accept(toImportRecord(item.record, opts.source))
          continue
        }
        chunk.push(item.record)
        if (chunk.length >= CHUNK) {
          inFlight.push(settled(worker.parse(chunk, opts.source)))
          chunk = []
          while (inFlight.length > MAX_IN_FLIGHT) for (const r of await inFlight.shift()!) accept(r)
        }
      }
      if (worker !== null && chunk.length > 0) inFlight.push(settled(worker.parse(chunk, opts.source)))
      for (const p of inFlight) for (const r of await p) accept(r)
      flush()
    } finally {
      await worker?.close()
    }
    return summary
  }
}
