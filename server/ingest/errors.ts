/** The reasons an input piece is rejected, worded for a person who can act on them. */
import { Limits } from '../authz/parse.js'
import type { InputItem } from '../authz/types.js'
import { explainJsonError } from '../util/json-errors.js'

export const DEPTH_REASON = `JSON nesting deeper than ${Limits.maxDepth} levels`
export const TOO_LARGE_REASON = `record is larger than the ${Limits.maxRecordBytes / 1024 / 1024} MiB limit`

export function reject (source: string, line: number, reason: string): InputItem {
  return { kind: 'rejected', rejected: { source, line, reason } }
}

/**
 * A reason for a JSON syntax error that says what probably happened (truncated, line-wrapped, elided,
 * not JSON at all) and where, always in our words first; `firstLine` is the line the text starts on.
 */
export function jsonError (text: string, err: Error, unit: 'line' | 'document', firstLine = 1): string {
  const trimmed = text.trim()
  const { problem, sentence } = explainJsonError(text, err, unit === 'line' ? 'line' : 'text', firstLine)
  if (problem === 'syntax' || problem === 'trailing-text') {
    if (/Encoded authorization failure message/i.test(trimmed) || /^[A-Za-z0-9_-]{100,}$/.test(trimmed)) {
      return 'not JSON: this is an encoded authorization message (or error text containing one); decode it first with `whydenied decode --store`'
    }
    if (!/^[[{"]/.test(trimmed)) return `not JSON: the ${unit} starts with ${JSON.stringify(trimmed.slice(0, 20))}`
  }
  return `not valid JSON: ${sentence}`
}
