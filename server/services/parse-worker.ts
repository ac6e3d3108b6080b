/**
 * Worker thread for large imports: parses and normalises records (JSON, canonical hashing) on the
 * second core while the main thread reads input and writes SQLite.
 */
import { parentPort } from 'node:worker_threads'
import type { SourceRecord } from '../authz/types.js'
import { toWorkerResult } from './importer.js'

export interface ParseRequest { id: number, records: SourceRecord[], source: string | undefined }

parentPort?.on('message', (req: ParseRequest) => {
  parentPort!.postMessage({ id: req.id, results: req.records.map(r => toWorkerResult(r, req.source)) })
})
