/**
 * One JSON document into records (an object, an array's elements, or documents written one after
 * another), and the scans over JSON text that this needs: nesting depth, and where values start.
 */
import { Limits } from '../authz/parse.js'
import type { InputItem } from '../authz/types.js'
import { DEPTH_REASON, jsonError, reject, TOO_LARGE_REASON } from './errors.js'

/** A whole-document (non-NDJSON) input may not exceed this; larger data should be NDJSON. */
export const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024

export const utf8 = new TextDecoder('utf-8', { fatal: true })

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

/** Top-level JSON values written one after another; each is a record (an array's elements are). */
function * concatenatedRecords (text: string, source: string): Generator<InputItem> {
  for (const doc of splitTopLevel(text)) {
    const slice = text.slice(doc.start, doc.end)
    if (slice.length > Limits.maxRecordBytes) {
      yield reject(source, doc.line, TOO_LARGE_REASON)
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
