/**
 * One JSON document into records (an object, an array's elements, or documents written one after
 * another), and the scans over JSON text that this needs: nesting depth, and where values start.
 */
import { Limits } from '../authz/parse.js'
import type { InputItem } from '../authz/types.js'
import { containerRecords } from './cloudtrail.js'
import { nestingExceeds, valueNestingExceeds } from './nesting.js'
import { DEPTH_REASON, jsonError, reject, TOO_LARGE_REASON } from './errors.js'

/** A whole-document (non-NDJSON) input may not exceed this; larger data should be NDJSON. */
export const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024

export const utf8 = new TextDecoder('utf-8', { fatal: true })

export { nestingExceeds }

export function * documentRecords (bytes: Buffer, source: string): Generator<InputItem> {
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
    if (CONCATENATED.test((err as Error).message)) {
      yield * concatenatedRecords(text, source)
      return
    }
    const pos = /at position (\d+)/.exec((err as Error).message)
    const line = pos ? lineAt(text, Number(pos[1])) : lineAt(text, text.trimEnd().length)
    yield reject(source, line, jsonError(text, err as Error, 'document'))
    return
  }
  // A CloudTrail log file or lookup-events output: its events, each a record (the file may be large).
  const events = containerRecords(value, bytes.length, nestingExceeds(bytes, Limits.maxDepth + 1), source, firstContentLine(text))
  if (events !== null) {
    yield * events
    return
  }
  if (!Array.isArray(value)) {
    if (Buffer.byteLength(text) > Limits.maxRecordBytes) {
      yield reject(source, 1, TOO_LARGE_REASON)
      return
    }
    yield { kind: 'record', record: { source, line: firstContentLine(text), index: 0, value, bytes: Buffer.byteLength(text) } }
    return
  }
  if (value.length === 0) {
    yield reject(source, 1, 'the JSON array is empty')
    return
  }
  const starts = valuesAt(text, 1).map(v => v.line)
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
      yield reject(source, line, DEPTH_REASON)
      continue
    }
    if (size > Limits.maxRecordBytes) {
      yield reject(source, line, TOO_LARGE_REASON)
      continue
    }
    yield { kind: 'record', record: { source, line, index: 0, value: v, bytes: size } }
  }
}

/** What JSON.parse says of a valid value followed by more text. */
export const CONCATENATED = /after JSON|Unexpected non-whitespace/

/**
 * The records of one parsed value: an array's elements, else the value itself. Only when its text
 * nests too deep somewhere (`deep`) are they walked, iteratively, and a too-deep one is rejected alone.
 */
export function * valueRecords (value: unknown, textBytes: number, deep: boolean, source: string, line: number): Generator<InputItem> {
  const events = containerRecords(value, textBytes, deep, source, line)
  if (events !== null) {
    yield * events
    return
  }
  const values = Array.isArray(value) ? value : [value]
  const bytes = Math.ceil(textBytes / Math.max(values.length, 1))
  for (const v of values) {
    if (deep && valueNestingExceeds(v, Limits.maxDepth)) yield reject(source, line, DEPTH_REASON)
    else yield { kind: 'record', record: { source, line, index: 0, value: v, bytes } }
  }
}

/** Top-level JSON values written one after another; each is a record (an array's elements are). */
export function * concatenatedRecords (text: string, source: string, firstLine = 1): Generator<InputItem> {
  for (const doc of valuesAt(text, 0)) {
    const line = doc.line + firstLine - 1
    const slice = text.slice(doc.start, doc.end)
    if (slice.length > Limits.maxRecordBytes) {
      yield reject(source, line, TOO_LARGE_REASON)
      continue
    }
    let value: unknown
    try {
      value = JSON.parse(slice)
    } catch (err) {
      yield reject(source, line, jsonError(slice, err as Error, 'document', line))
      continue
    }
    yield * valueRecords(value, slice.length, nestingExceeds(Buffer.from(slice), Limits.maxDepth + 1), source, line)
  }
}

export interface ValueSpan { start: number, end: number, line: number }

/**
 * The one scanner of JSON structure (hand-written: JSON.parse tells neither where values start nor
 * on which line): the values at one level of `text`, with the line each starts on. Level 0: the
 * top-level values written one after another (`{…}{…}`, what `>>` makes), each ending where its
 * brackets close; level 1: the elements of the top-level array. Brackets count outside strings only.
 */
export function valuesAt (text: string, level: 0 | 1): ValueSpan[] {
  const out: ValueSpan[] = []
  let depth = 0
  let inString = false
  let line = 1
  let open: { start: number, line: number } | null = null
  // Whether a value may start at this level: at once for level 0, after `[` or `,` for level 1.
  let expect = level === 0
  const close = (end: number): void => {
    if (open === null) return
    // An element ends before the white space that precedes its `,` or `]`.
    while (end > open.start && /\s/.test(text[end - 1]!)) end--
    out.push({ start: open.start, end, line: open.line })
    open = null
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 10) line++
    if (inString) {
      if (c === 92) i++
      else if (c === 34) inString = false
      continue
    }
    if (c === 32 || c === 9 || c === 10 || c === 13) continue
    if (expect && depth === level && !(level === 1 && c === 93)) { open = { start: i, line }; expect = false }
    if (c === 34) inString = true
    else if (c === 123 || c === 91) {
      if (++depth === 1 && level === 1) expect = true
    } else if ((c === 125 || c === 93) && depth > 0) {
      if (--depth === level) {
        if (level === 0) { close(i + 1); expect = true }
      } else if (depth === 0) close(i)
    } else if (c === 44 && level === 1 && depth === 1) {
      close(i)
      expect = true
    }
  }
  close(text.length)
  return out
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
