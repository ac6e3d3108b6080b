/** NDJSON: a byte stream split into lines (over-long ones cut off and flagged), and one line into its records. */
import { Limits } from '../authz/parse.js'
import type { InputItem } from '../authz/types.js'
import { jsonError, reject, TOO_LARGE_REASON } from './errors.js'
import { textLineRecord } from './text.js'
import { CONCATENATED, concatenatedRecords, MAX_DOCUMENT_BYTES, nestingExceeds, utf8, valueRecords } from './scan.js'

const TURN_MS = 20

export interface Line { bytes: Buffer, line: number, oversize: boolean }

/** Split a byte stream on LF, dropping a CR before it; an over-long line is cut off and flagged. */
export async function * splitLines (chunks: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<Line> {
  let pending: Buffer[] = []
  let pendingLen = 0
  let oversize = false
  let lineNo = 1
  let sawAny = false
  let lastTurn = performance.now()
  const emit = (): Line => {
    let bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending)
    if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1)
    const out = { bytes, line: lineNo++, oversize }
    pending = []
    pendingLen = 0
    oversize = false
    return out
  }
  for await (const chunk of chunks) {
    sawAny ||= chunk.length > 0
    let start = 0
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start)
      const end = nl < 0 ? chunk.length : nl
      if (!oversize) {
        pending.push(chunk.subarray(start, end))
        pendingLen += end - start
        // A pretty-printed document may have long lines; past the whole-document limit a line is
        // dropped (and flagged), so a file with no line breaks cannot exhaust memory.
        if (pendingLen > MAX_DOCUMENT_BYTES) { oversize = true; pending = [] }
      }
      if (nl < 0) break
      yield emit()
      start = nl + 1
      // Whatever the consumer does with lines (or skips: blank ones, a document's), a server keeps
      // answering: give the event loop a turn every few milliseconds.
      if ((lineNo & 0xfff) === 0 && performance.now() - lastTurn > TURN_MS) {
        await new Promise(resolve => setImmediate(resolve))
        lastTurn = performance.now()
      }
    }
  }
  if (sawAny && (pendingLen > 0 || oversize)) yield emit()
}

export function * lineRecord (l: Line, source: string): Generator<InputItem> {
  if (isBlank(l.bytes)) return
  if (l.oversize || l.bytes.length > Limits.maxRecordBytes) {
    yield reject(source, l.line, TOO_LARGE_REASON)
    return
  }
  let text: string
  try {
    text = utf8.decode(l.bytes)
  } catch {
    yield reject(source, l.line, 'not valid UTF-8 text')
    return
  }
  // A line may hold an array of records: one level more than a record may have. JSON.parse is
  // iterative in V8 (no stack to overflow), so a hostile line is parsed first and then each of its
  // records is checked on its own: one too-deep element costs only itself, not its neighbours.
  const deep = nestingExceeds(l.bytes, Limits.maxDepth + 1)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    // A plain-text access-denied message among JSON lines (a log mixing both) is a record too. Before
    // the next check: a log line starting with a date ("2026-11-28 …") parses as a number and more.
    const asText = /^\s*[{["]/.test(text) ? null : textLineRecord(l, source)
    if (asText !== null && asText.kind === 'record') {
      yield asText
      return
    }
    // Several documents on one line (`{…} {…}`): each is a record, as in a whole file.
    if (CONCATENATED.test((err as Error).message)) {
      yield * concatenatedRecords(text, source, l.line)
      return
    }
    yield reject(source, l.line, jsonError(text, err as Error, 'line', l.line))
    return
  }
  yield * valueRecords(value, l.bytes.length, deep, source, l.line)
}

export function isBlank (b: Buffer): boolean {
  for (const c of b) if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false
  return true
}
