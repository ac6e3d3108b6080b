/** The reasons an input piece is rejected, worded for a person who can act on them. */
import { Limits } from '../authz/parse.js'
import type { InputItem } from '../authz/types.js'

export const DEPTH_REASON = `JSON nesting deeper than ${Limits.maxDepth} levels`
export const TOO_LARGE_REASON = `record is larger than the ${Limits.maxRecordBytes / 1024 / 1024} MiB limit`

export function reject (source: string, line: number, reason: string): InputItem {
  return { kind: 'rejected', rejected: { source, line, reason } }
}

/** A reason for a JSON syntax error that says what probably happened, not only where. */
export function jsonError (text: string, err: Error, unit: 'line' | 'document'): string {
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
