/** Plain text (a log, pasted error output): the lines that hold an access-denied sentence become records. */
import { parseDenialText } from '../authz/text.js'
import type { InputItem } from '../authz/types.js'
import { reject } from './errors.js'
import { documentRecords, MAX_DOCUMENT_BYTES } from './scan.js'

/** A line of input (lines.ts's shape, restated: lines.ts reads text lines through this module). */
interface Line { bytes: Buffer, line: number, oversize: boolean }

function isBlank (b: Buffer): boolean {
  for (const c of b) if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false
  return true
}

const lenient = new TextDecoder('utf-8')

/** The record of one text line, a rejection (it says "denied" but holds nothing to parse), or nothing. */
export function textLineRecord (l: Line, source: string): InputItem | null {
  if (l.oversize || isBlank(l.bytes)) return null
  // A log is not ours to validate: bytes that are not UTF-8 become U+FFFD, and the sentence is still found.
  const text = lenient.decode(l.bytes)
  const r = parseDenialText(text)
  if (r === null) return null
  if (!r.ok) return reject(source, l.line, r.reason)
  return { kind: 'record', record: { source, line: l.line, index: 0, value: null, text: r.denial.sentence, bytes: r.denial.sentence.length } }
}

/**
 * Every line of a text input. Until a line says anything about a denial, the lines are kept (bounded as
 * a document is): an input that never does is then read as the (broken) JSON document it may be, so
 * that it is refused with the JSON reason and place, as before text was accepted.
 */
export async function * textRecords (first: Line[], rest: AsyncIterable<Line>, source: string): AsyncGenerator<InputItem> {
  let found = false
  let kept: Buffer[] = []
  let size = 0
  const see = (l: Line): InputItem | null => {
    const item = textLineRecord(l, source)
    if (item !== null) { found = true; kept = [] }
    if (!found && size <= MAX_DOCUMENT_BYTES) {
      size += l.bytes.length + 1
      kept.push(l.oversize ? Buffer.alloc(0) : l.bytes, NL)
    }
    return item
  }
  for (const l of first) {
    const item = see(l)
    if (item !== null) yield item
  }
  for await (const l of rest) {
    const item = see(l)
    if (item !== null) yield item
  }
  if (found) return
  if (size > MAX_DOCUMENT_BYTES) yield reject(source, 1, 'not JSON, and no access-denied message ("User: … is not authorized to perform: …") was found in the text')
  else yield * documentRecords(Buffer.concat(kept), source)
}

const NL = Buffer.from('\n')

/** Whether an input is text rather than JSON, by its first non-blank line. */
export function looksLikeText (firstLine: Buffer): boolean {
  for (const c of firstLine) {
    if (c === 0x20 || c === 0x09 || c === 0x0d) continue
    // JSON starts with { [ " (or a bare value, which no import format is): anything else is text.
    return c !== 0x7b && c !== 0x5b && c !== 0x22
  }
  return false
}
