/**
 * Worker thread for large imports: parses and normalises records (JSON, canonical hashing) on the
 * second core while the main thread reads input and writes SQLite.
 */
import { createHash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import { looksLikeEvent } from '../authz/cloudtrail.js'
import { decodedText, parseKnownEnvelope } from '../authz/parse.js'
import type { KnownMessage, SourceRecord } from '../authz/types.js'
import { packText } from '../util/packed-text.js'
import { toWorkerResult, type WorkerResult } from './importer.js'

export interface ParseRequest { id: number, records: SourceRecord[], source: string | undefined }

/**
 * Content hashes (a prefix: a collision only means one message is packed by the writer instead) of
 * the messages packed lately. Deflating costs ~50 µs a message, and only a new denial's message is
 * stored: a recurring denial's is packed once, not at each occurrence. Bounded: it starts over when
 * full, which costs a few packings again and no more memory.
 */
const packedLately = new Set<string>()
const PACKED_LATELY_MAX = 20_000

/**
 * The decoded messages read lately, by the SHA-256 of their text: a recurring denial's message is the
 * same text each time, and reading it again (JSON, normalising, the canonical hash: ~60 µs) and
 * cloning the result to the main thread are most of an import of recurring denials. A record whose
 * text is here is answered with its content hash and principal only (a KnownRecord). SHA-256, not a
 * shorter digest: two texts that collide would count one denial's occurrence under the other.
 * Bounded like packedLately; principals longer than KNOWN_PRINCIPAL_MAX characters are not kept.
 */
const parsedLately = new Map<string, KnownMessage>()
const PARSED_LATELY_MAX = 20_000
const KNOWN_PRINCIPAL_MAX = 2048

function parse (r: SourceRecord, source: string | undefined): WorkerResult {
  // Only our envelope, and the AWS CLI's, hold the text as it recurs; a CloudTrail event, and a
  // message with its encoded message (which identifies the occurrence), are always read in full.
  const text = r.encodedSha256 === undefined && r.text === undefined && !looksLikeEvent(r.value) ? decodedText(r.value) : null
  if (text === null) return toWorkerResult(r, source)
  const key = createHash('sha256').update(text).digest('base64')
  const known = parsedLately.get(key)
  if (known !== undefined) {
    try {
      // checkTree here also refuses a text with an unpaired surrogate, which hashes as its UTF-8
      // replacement character would: such a text is never taken for the known one it collides with.
      const env = parseKnownEnvelope(r.value)
      return { known, rawLength: text.length, source: source ?? env.source ?? r.source, line: r.line, index: r.index, observedAt: env.observedAt }
    } catch {
      // A problem in the envelope: read in full below, which rejects it with its reason.
    }
  }
  const result = toWorkerResult(r, source)
  if (known === undefined && result !== null && typeof result !== 'string') {
    const p = result.message.principal
    if ((p.arn?.length ?? 0) + (p.roleArn?.length ?? 0) + (p.account?.length ?? 0) <= KNOWN_PRINCIPAL_MAX) {
      if (parsedLately.size >= PARSED_LATELY_MAX) parsedLately.clear()
      parsedLately.set(key, { contentHash: result.message.contentHash, principal: { arn: p.arn, roleArn: p.roleArn, account: p.account } })
    }
  }
  return result
}

parentPort?.on('message', (req: ParseRequest) => {
  const results = req.records.map(r => parse(r, req.source))
  for (const r of results) {
    if (r === null || typeof r === 'string' || 'known' in r) continue
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
