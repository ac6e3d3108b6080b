/**
 * Turn bytes (files, directories, stdin, request bodies) into records, auto-detecting the format:
 * one JSON document, a JSON array, or NDJSON; UTF-8 with or without BOM, or UTF-16 (LE or BE, with
 * or without BOM). NDJSON is streamed line by line so memory stays flat however large the file is.
 */
import { createReadStream, type Dirent, type Stats } from 'node:fs'
import { readdir, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { Limits } from '../authz/parse.js'
import type { InputItem, RejectedRecord } from '../authz/types.js'

/** A whole-document (non-NDJSON) input may not exceed this; larger data should be NDJSON. */
export const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
export const IMPORT_EXTENSIONS = ['.json', '.jsonl', '.ndjson'] as const

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Every file to read for `PATH`: the file itself, or the import files under a directory, sorted.
 * Only regular files are read: a FIFO or a device (`/dev/zero`) would block or never end. Given
 * as PATH it throws; met in a directory it is refused through `onRefused` (by default, thrown).
 * Symbolic links are followed, to files and to directories; a link back to a directory being
 * read (a loop) is refused, and a file or directory reached twice is read once.
 */
export async function expandPath (p: string, onRefused?: (r: RejectedRecord) => void): Promise<string[]> {
  const st = await stat(p)
  if (st.isFile()) return [p]
  // The message is the reason alone: callers report it beside the path (as for ENOENT).
  if (!st.isDirectory()) throw new Error(`${fileKind(st)}, not a regular file or directory: not read`)
  const refuse = onRefused ?? ((r: RejectedRecord) => { throw new Error(`${r.source}: ${r.reason}`) })
  const isImport = (name: string): boolean => IMPORT_EXTENSIONS.some(ext => name.toLowerCase().endsWith(ext))
  // Real path → the paths it was found under (in walk order), and whether through a link: a file is
  // read once, under its own name when the tree has it too (`latest.json -> 2026-11.json`).
  const files = new Map<string, Array<{ path: string, linked: boolean }>>()
  const seenDirs = new Set<string>()
  const walk = async (dir: string, realDir: string, ancestors: ReadonlySet<string>, viaLink: boolean): Promise<void> => {
    seenDirs.add(realDir)
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    for (const e of entries) {
      const full = path.join(dir, e.name)
      let kind: Dirent | Stats = e
      let real = path.join(realDir, e.name)
      if (e.isSymbolicLink()) {
        try {
          kind = await stat(full)
          real = await realpath(full)
        } catch {
          if (isImport(e.name)) refuse({ source: full, line: 0, reason: 'a broken symbolic link: not read' })
          continue
        }
      }
      if (kind.isDirectory()) {
        if (ancestors.has(real)) refuse({ source: full, line: 0, reason: `a symbolic link loop (it leads back to ${real}): not followed` })
        else if (!seenDirs.has(real)) await walk(full, real, new Set([...ancestors, real]), viaLink || e.isSymbolicLink())
      } else if (!isImport(e.name)) {
        continue
      } else if (kind.isFile()) {
        const list = files.get(real) ?? []
        list.push({ path: full, linked: viaLink || e.isSymbolicLink() })
        files.set(real, list)
      } else {
        refuse({ source: full, line: 0, reason: `${fileKind(kind)}, not a regular file: not read` })
      }
    }
  }
  const real = await realpath(p)
  await walk(p, real, new Set([real]), false)
  return [...files.values()].map(list => (list.find(f => !f.linked) ?? list[0]!).path).sort()
}

/** What a non-regular file is, for a refusal a person understands. */
function fileKind (st: Dirent | Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isSocket()) return 'a socket'
  return 'a file of an unknown kind'
}

/** Records from a file on disk. */
export function readFileRecords (file: string, source = file): AsyncGenerator<InputItem> {
  return readStreamRecords(createReadStream(file, { highWaterMark: 1024 * 1024 }), source)
}

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
  const ndjson = buffered.length > 1 && candidates.some(l => parsesAlone(l.bytes))
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

const NL = Buffer.from('\n')
const TURN_MS = 20

interface Line { bytes: Buffer, line: number, oversize: boolean }

/** Split a byte stream on LF, dropping a CR before it; an over-long line is cut off and flagged. */
async function * splitLines (chunks: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<Line> {
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

function * lineRecord (l: Line, source: string): Generator<InputItem> {
  if (isBlank(l.bytes)) return
  if (l.oversize || l.bytes.length > Limits.maxRecordBytes) {
    yield reject(source, l.line, `record is larger than the ${Limits.maxRecordBytes / 1024 / 1024} MiB limit`)
    return
  }
  let text: string
  try {
    text = utf8.decode(l.bytes)
  } catch {
    yield reject(source, l.line, 'not valid UTF-8 text')
    return
  }
  // A line may hold an array of records: one level more than a record may have.
  if (nestingExceeds(l.bytes, Limits.maxDepth + 1)) {
    yield reject(source, l.line, DEPTH_REASON)
    return
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    yield reject(source, l.line, jsonError(text, err as Error, 'line'))
    return
  }
  if (Array.isArray(value)) {
    const bytes = Math.ceil(l.bytes.length / Math.max(value.length, 1))
    for (const v of value) yield { kind: 'record', record: { source, line: l.line, index: 0, value: v, bytes } }
  } else {
    yield { kind: 'record', record: { source, line: l.line, index: 0, value, bytes: l.bytes.length } }
  }
}

const DEPTH_REASON = `JSON nesting deeper than ${Limits.maxDepth} levels`

/**
 * True when brackets outside strings nest deeper than `limit`: a linear byte scan, run before
 * JSON.parse so that nothing recursive (structured clone to the parse worker, JSON.stringify)
 * ever sees a hostile record. The exact check (checkTree) runs later, iteratively.
 */
export function nestingExceeds (bytes: Uint8Array, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) { if (++depth > limit) return true } else if (c === 0x7d || c === 0x5d) depth--
  }
  return false
}

/** The same bound over an already-parsed value, iteratively (for the elements of one big array). */
function valueNestingExceeds (root: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 1]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (depth > limit) return true
    for (const x of Array.isArray(v) ? v : Object.values(v)) stack.push([x, depth + 1])
  }
  return false
}

function * documentRecords (bytes: Buffer, source: string): Generator<InputItem> {
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    yield reject(source, 1, 'not valid UTF-8 text (if it came from Windows PowerShell, it may be UTF-16 without a BOM: save it as UTF-8)')
    return
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    // `aws sts decode-authorization-message ... >> all.json` appends one pretty document after
    // another: read concatenated documents one by one, so one bad document costs only itself.
    if (/after JSON|Unexpected non-whitespace/.test((err as Error).message)) {
      yield * concatenatedRecords(text, source)
      return
    }
    const pos = /at position (\d+)/.exec((err as Error).message)
    const line = pos ? lineAt(text, Number(pos[1])) : lineAt(text, text.trimEnd().length)
    yield reject(source, line, jsonError(text, err as Error, 'document'))
    return
  }
  if (!Array.isArray(value)) {
    if (Buffer.byteLength(text) > Limits.maxRecordBytes) {
      yield reject(source, 1, `record is larger than the ${Limits.maxRecordBytes / 1024 / 1024} MiB limit`)
      return
    }
    yield { kind: 'record', record: { source, line: firstContentLine(text), index: 0, value, bytes: Buffer.byteLength(text) } }
    return
  }
  if (value.length === 0) {
    yield reject(source, 1, 'the JSON array is empty')
    return
  }
  const starts = arrayElementLines(text)
  // Only when the text nests too deep somewhere are the elements walked one by one.
  const deep = nestingExceeds(bytes, Limits.maxDepth + 1)
  for (let i = 0; i < value.length; i++) {
    const line = starts[i] ?? 1
    const v = value[i]
    if (deep && valueNestingExceeds(v, Limits.maxDepth)) {
      yield reject(source, line, DEPTH_REASON)
      continue
    }
    let size: number
    try {
      size = JSON.stringify(v).length
    } catch {
      yield reject(source, line, `JSON nesting deeper than ${Limits.maxDepth} levels`)
      continue
    }
    if (size > Limits.maxRecordBytes) {
      yield reject(source, line, `record is larger than the ${Limits.maxRecordBytes / 1024 / 1024} MiB limit`)
      continue
    }
    yield { kind: 'record', record: { source, line, index: 0, value: v, bytes: size } }
  }
}

/** Top-level JSON values written one after another; each is a record (an array's elements are). */
function * concatenatedRecords (text: string, source: string): Generator<InputItem> {
  for (const doc of splitTopLevel(text)) {
    const slice = text.slice(doc.start, doc.end)
    if (slice.length > Limits.maxRecordBytes) {
      yield reject(source, doc.line, `record is larger than the ${Limits.maxRecordBytes / 1024 / 1024} MiB limit`)
      continue
    }
    if (nestingExceeds(Buffer.from(slice), Limits.maxDepth + 1)) {
      yield reject(source, doc.line, DEPTH_REASON)
      continue
    }
    let value: unknown
    try {
      value = JSON.parse(slice)
    } catch (err) {
      yield reject(source, doc.line, jsonError(slice, err as Error, 'document'))
      continue
    }
    const bytes = Array.isArray(value) ? Math.ceil(slice.length / Math.max(value.length, 1)) : slice.length
    for (const v of Array.isArray(value) ? value : [value]) yield { kind: 'record', record: { source, line: doc.line, index: 0, value: v, bytes } }
  }
}

/** Spans of top-level values (objects or arrays, by bracket depth outside strings) and their lines. */
function splitTopLevel (text: string): Array<{ start: number, end: number, line: number }> {
  const out: Array<{ start: number, end: number, line: number }> = []
  let depth = 0
  let inString = false
  let line = 1
  let start = -1
  let startLine = 1
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 10) line++
    if (inString) {
      if (c === 92) i++
      else if (c === 34) inString = false
      continue
    }
    if (depth === 0 && start < 0 && c !== 32 && c !== 9 && c !== 10 && c !== 13) { start = i; startLine = line }
    if (c === 34) inString = true
    else if (c === 123 || c === 91) depth++
    else if ((c === 125 || c === 93) && depth > 0) {
      if (--depth === 0) { out.push({ start, end: i + 1, line: startLine }); start = -1 }
    }
  }
  if (start >= 0) out.push({ start, end: text.length, line: startLine })
  return out
}

/** A reason for a JSON syntax error that says what probably happened, not only where. */
function jsonError (text: string, err: Error, unit: 'line' | 'document'): string {
  const msg = err.message.replace(/^SyntaxError: /, '')
  const trimmed = text.trim()
  if (/Bad control character in string literal/.test(msg)) {
    return `not valid JSON: a string contains a raw line break or control character; the text was probably line-wrapped (e.g. copied from a web page or terminal): rejoin the lines (${msg})`
  }
  if (/\(\s*(?:\.\.\.|…)\s*\)|\.\.\.|…/.test(trimmed) && /Unexpected|Expected/.test(msg)) {
    return `not valid JSON: the text appears elided with "..." or "(...)": copy the complete message (${msg})`
  }
  if (/Unexpected end of JSON input|Unterminated string/.test(msg)) {
    return `not valid JSON: the ${unit === 'line' ? 'line' : 'text'} ends before the JSON does (truncated?)`
  }
  if (/Encoded authorization failure message/i.test(trimmed) || /^[A-Za-z0-9_-]{100,}$/.test(trimmed)) {
    return 'not JSON: this is an encoded authorization message (or error text containing one); decode it first with `whydenied decode --store`'
  }
  if (!/^[[{"]/.test(trimmed)) return `not JSON: the ${unit} starts with ${JSON.stringify(trimmed.slice(0, 20))}`
  return `not valid JSON: ${msg}`
}

function parsesAlone (bytes: Buffer): boolean {
  try {
    JSON.parse(utf8.decode(bytes))
    return true
  } catch {
    return false
  }
}

function isBlank (b: Buffer): boolean {
  for (const c of b) if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false
  return true
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

function lineAt (text: string, pos: number): number {
  let line = 1
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++
  return line
}

function firstContentLine (text: string): number {
  const m = /\S/.exec(text)
  return m ? lineAt(text, m.index) : 1
}

/** Line on which each top-level element of a JSON array starts (the text is known to be valid). */
function arrayElementLines (text: string): number[] {
  const out: number[] = []
  let depth = 0
  let inString = false
  let line = 1
  let expectValue = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 10) { line++; continue }
    if (inString) {
      if (c === 92) i++
      else if (c === 34) inString = false
      continue
    }
    if (c === 32 || c === 9 || c === 13) continue
    if (depth === 1 && expectValue && c !== 93) { out.push(line); expectValue = false }
    if (c === 34) inString = true
    else if (c === 91 || c === 123) { depth++; if (depth === 1) expectValue = true }
    else if (c === 93 || c === 125) depth--
    else if (c === 44 && depth === 1) expectValue = true
  }
  return out
}

function reject (source: string, line: number, reason: string): InputItem {
  return { kind: 'rejected', rejected: { source, line, reason } }
}
