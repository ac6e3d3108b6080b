/**
 * Worker thread for large imports: parses and normalises records (JSON, canonical hashing) on the
 * second core while the main thread reads input and writes SQLite.
 */
import { parentPort } from 'node:worker_threads'
import type { SourceRecord } from '../authz/types.js'
import { packText } from '../util/packed-text.js'
import { toWorkerResult } from './importer.js'

export interface ParseRequest { id: number, records: SourceRecord[], source: string | undefined }

/**
 * Content hashes (a prefix: a collision only means one message is packed by the writer instead) of
 * the messages packed lately. Deflating costs ~50 µs a message, and only a new denial's message is
 * stored: a recurring denial's is packed once, not at each occurrence. Bounded: it starts over when
 * full, which costs a few packings again and no more memory.
 */
const packedLately = new Set<string>()
const PACKED_LATELY_MAX = 20_000

parentPort?.on('message', (req: ParseRequest) => {
  const results = req.records.map(r => toWorkerResult(r, req.source))
  for (const r of results) {
    if (r === null || typeof r === 'string') continue
    const key = r.message.contentHash.slice(0, 16)
    if (packedLately.has(key)) continue
    if (packedLately.size >= PACKED_LATELY_MAX) packedLately.clear()
    packedLately.add(key)
    // Here on the worker's core, which otherwise waits for the writer. As latin1 text (a byte a
    // character): a string is copied to the main thread far more cheaply than a typed array. The
    // raw text itself is not sent back: batches then hold a fifth of the bytes (peak RSS of 100,000
    // distinct denials: 391 MB with it).
    r.message.packed = packText(r.message.raw).toString('latin1')
    r.message.rawLength = r.message.raw.length
    r.message.raw = ''
  }
  parentPort!.postMessage({ id: req.id, results })
})
