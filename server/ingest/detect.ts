/**
 * Turn bytes (files, stdin, request bodies) into records, auto-detecting the format: one JSON
 * document, a JSON array, or NDJSON; UTF-8 with or without BOM, or UTF-16 (LE or BE, with or without
 * BOM). NDJSON is streamed line by line so memory stays flat however large the file is.
 */
import type { InputItem } from '../authz/types.js'
import { reject } from './errors.js'
import { GunzipError, gunzipBounded, isGzip } from './gzip.js'
import { isBlank, lineRecord, splitLines, type Line } from './lines.js'
import { documentRecords, MAX_DOCUMENT_BYTES, utf8 } from './scan.js'
import { looksLikeText, textRecords } from './text.js'

const NL = Buffer.from('\n')

/** Records from an in-memory body (HTTP). Not a generator itself: one layer less per record. */
export function readTextRecords (body: string | Buffer, source: string): AsyncGenerator<InputItem> {
  return readStreamRecords([typeof body === 'string' ? Buffer.from(body, 'utf8') : body], source)
}

/**
 * The core: bytes in, records out. Each record is numbered within its line: with the source and
 * the line, that index is the record's place in the input, which identifies its occurrence, so a
 * compact array `[m,m,m]` is three occurrences just as the same array pretty-printed is. Rejected
 * pieces take their number too, so mending one does not renumber the records after it.
 */
export async function * readStreamRecords (chunks: AsyncIterable<Buffer> | Iterable<Buffer>, source: string): AsyncGenerator<InputItem> {
  let line = 0
  let index = 0
  for await (const item of readRecords(chunks, source)) {
    const at = item.kind === 'record' ? item.record.line : item.rejected.line
    index = at === line ? index + 1 : 0
    line = at
    if (item.kind === 'record') item.record.index = index
    yield item
  }
}

async function * readRecords (chunks: AsyncIterable<Buffer> | Iterable<Buffer>, source: string): AsyncGenerator<InputItem> {
  const it = toAsyncIterator(chunks)
  // Look at the first bytes before splitting lines: a UTF-16 BOM (or the NUL pattern of BOM-less
  // UTF-16, what PowerShell's `>` writes) means the whole input is UTF-16, transcoded as it streams.
  const peeked: Buffer[] = []
  let peekedLength = 0
  let ended = false
  while (peekedLength < 4) {
    const n = await it.next()
    if (n.done) { ended = true; break }
    peeked.push(n.value)
    peekedLength += n.value.length
  }
  const start = peeked.length === 1 ? peeked[0]! : Buffer.concat(peeked)
  // A .gz file (CloudTrail delivers .json.gz): decompressed as it streams, with its output bounded.
  if (isGzip(start)) {
    try {
      yield * readRecords(gunzipBounded(ended ? [start] : prepend(start, it)), source)
    } catch (err) {
      // What was read before the bad part is kept; the rest of the file is refused with the reason.
      if (!(err instanceof GunzipError)) throw err
      yield reject(source, 1, err.message)
    }
    return
  }
  const utf16 = utf16Encoding(start)
  const bytes = ended ? [start] : prepend(start, it)
  const lines = splitLines(utf16 === null ? bytes : transcodeUtf16(bytes, utf16))
  const first = await lines.next()
  if (first.done) {
    yield reject(source, 1, 'the input is empty')
    return
  }
  let head = first.value.bytes
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) head = head.subarray(3)

  // Find the first two non-empty lines to decide between NDJSON and one document.
  const buffered: Line[] = [{ ...first.value, bytes: head }]
  let nonEmpty = isBlank(head) ? 0 : 1
  while (nonEmpty < 2) {
    const n = await lines.next()
    if (n.done) break
    buffered.push(n.value)
    if (!isBlank(n.value.bytes)) nonEmpty++
  }
  if (nonEmpty === 0) {
    yield reject(source, 1, 'the input is empty (only white space)')
    return
  }
  const candidates = buffered.filter(l => !isBlank(l.bytes)).slice(0, 2)
  // NDJSON when either of the first two lines is a value of its own (the first may be a damaged
  // record), unless the first line only opens a document: `[` or `{` alone is how a pretty-printed
  // array or object starts, and its second line can parse alone too (`[`, `42`, `]`: one array).
  const ndjson = buffered.length > 1 && !opensDocument(candidates[0]!.bytes) && candidates.some(l => parsesAlone(l.bytes))
  // Text (a log, pasted error output): the lines holding access-denied messages, streamed.
  if (!ndjson && looksLikeText(candidates[0]!.bytes)) {
    yield * textRecords(buffered, lines, source)
    return
  }
  if (ndjson) {
    for (const l of buffered) yield * lineRecord(l, source)
    for await (const l of lines) yield * lineRecord(l, source)
    return
  }
  // One document: a single object or an array, possibly pretty-printed over many lines.
  // Millions of short lines would each keep a Buffer view alive (about 100 bytes apiece): they
  // are joined into blocks as they come.
  const parts: Buffer[] = []
  let pending: Buffer[] = []
  let size = 0
  for (const l of buffered) { pending.push(l.bytes, NL); size += l.bytes.length + 1 }
  for await (const l of lines) {
    size += l.bytes.length + 1
    if (size > MAX_DOCUMENT_BYTES) {
      yield reject(source, 1, `a single JSON document over ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB: split it, or use NDJSON (one message per line)`)
      return
    }
    if (!l.oversize) pending.push(l.bytes, NL)
    if (pending.length >= 8192) { parts.push(Buffer.concat(pending)); pending = [] }
  }
  parts.push(Buffer.concat(pending))
  yield * documentRecords(Buffer.concat(parts), source)
}

/** The line is `[` or `{` alone, white space aside. */
function opensDocument (bytes: Buffer): boolean {
  let opener = 0
  for (const c of bytes) {
    if (c === 0x20 || c === 0x09 || c === 0x0d) continue
    if (opener !== 0 || (c !== 0x5b && c !== 0x7b)) return false
    opener = c
  }
  return opener !== 0
}

function parsesAlone (bytes: Buffer): boolean {
  try {
    JSON.parse(utf8.decode(bytes))
    return true
  } catch {
    return false
  }
}

function utf16Encoding (b: Buffer): 'utf-16le' | 'utf-16be' | null {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'utf-16le'
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'utf-16be'
  // BOM-less UTF-16 of ASCII text: every other byte is NUL (odd ones in LE, even ones in BE).
  if (b.length < 4) return null
  if (b[0] !== 0 && b[1] === 0 && b[2] !== 0 && b[3] === 0) return 'utf-16le'
  if (b[0] === 0 && b[1] !== 0 && b[2] === 0 && b[3] !== 0) return 'utf-16be'
  return null
}

/**
 * UTF-16 chunks → UTF-8 chunks, one at a time, so memory stays flat. A streaming TextDecoder holds
 * back a code unit or surrogate pair split between chunks until the next one, drops a leading BOM,
 * and turns unpaired surrogates into U+FFFD.
 */
export async function * transcodeUtf16 (chunks: AsyncIterable<Buffer> | Iterable<Buffer>, encoding: 'utf-16le' | 'utf-16be'): AsyncGenerator<Buffer> {
  const decoder = new TextDecoder(encoding)
  for await (const chunk of chunks) {
    const text = decoder.decode(chunk, { stream: true })
    if (text !== '') yield Buffer.from(text, 'utf8')
  }
  const tail = decoder.decode()
  if (tail !== '') yield Buffer.from(tail, 'utf8')
}

function toAsyncIterator (chunks: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncIterator<Buffer> | Iterator<Buffer> {
  return Symbol.asyncIterator in chunks ? chunks[Symbol.asyncIterator]() : (chunks as Iterable<Buffer>)[Symbol.iterator]()
}

async function * prepend (first: Buffer, rest: AsyncIterator<Buffer> | Iterator<Buffer>): AsyncGenerator<Buffer> {
  yield first
  for (let n = await rest.next(); !n.done; n = await rest.next()) yield n.value
}
