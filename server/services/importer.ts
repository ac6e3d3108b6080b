/** Import: records from any input → parsed messages → stored in batches, with a summary of what happened. */
import { parseEnvelope, RecordError } from '../authz/parse.js'
import type { ImportRecord, InputItem, RejectedRecord } from '../authz/types.js'
import type { DenialsRepository } from '../db/repositories/denials.js'

export interface ImportSummary {
  imported: number
  duplicates: number
  rejected: RejectedRecord[]
}

export interface ImportOptions {
  /** Label every occurrence with this source instead of the file name. */
  source?: string | undefined
  /** Records per transaction: large enough to be fast, small enough that a crash loses little. */
  batchSize?: number
  onProgress?: (done: { records: number, imported: number, duplicates: number, rejected: number }) => void
  /** The import's own label in the imports table. */
  label?: string
}

/** Parse one input record; a problem becomes a rejection that names the field. */
export function toImportRecord (item: Extract<InputItem, { kind: 'record' }>['record'], sourceOverride?: string): ImportRecord | RejectedRecord {
  try {
    const env = parseEnvelope(item.value)
    return { message: env.message, source: sourceOverride ?? env.source ?? item.source, line: item.line, observedAt: env.observedAt }
  } catch (err) {
    if (err instanceof RecordError) return { source: item.source, line: item.line, reason: err.message }
    // Not expected, but one strange record must not stop an import: reject it and go on.
    return { source: item.source, line: item.line, reason: `could not be read: ${(err as Error).message}` }
  }
}

export class Importer {
  constructor (private readonly repo: DenialsRepository) {}

  async run (inputs: AsyncIterable<InputItem> | Iterable<InputItem>, opts: ImportOptions = {}): Promise<ImportSummary> {
    const batchSize = opts.batchSize ?? 1000
    const summary: ImportSummary = { imported: 0, duplicates: 0, rejected: [] }
    const importId = this.repo.startImport(opts.label ?? opts.source ?? 'import')
    let batch: ImportRecord[] = []
    let batchRejects: RejectedRecord[] = []
    let records = 0
    const flush = (): void => {
      if (batch.length === 0 && batchRejects.length === 0) return
      const outcomes = this.repo.storeBatch(batch, batchRejects, importId)
      for (const o of outcomes) o === 'imported' ? summary.imported++ : summary.duplicates++
      summary.rejected.push(...batchRejects)
      batch = []
      batchRejects = []
      opts.onProgress?.({ records, imported: summary.imported, duplicates: summary.duplicates, rejected: summary.rejected.length })
    }
    for await (const item of inputs) {
      records++
      if (item.kind === 'rejected') {
        batchRejects.push(item.rejected)
      } else {
        const r = toImportRecord(item.record, opts.source)
        if ('message' in r) batch.push(r)
        else batchRejects.push(r)
      }
      if (batch.length + batchRejects.length >= batchSize) flush()
    }
    flush()
    return summary
  }
}
