/** What went wrong in JSON text that JSON.parse refused, in a sentence a person can act on (the parser's words come after ours). */

/**
 * The shape of `text` at its end: whether it ends inside a string, how many brackets are still open, and
 * whether a string holds a raw line break. Hand-written because JSON.parse reports only the first error
 * and its position, not the state at the end of the text, and no parser we ship says "ended inside a
 * string" apart from "unexpected character" (Node 20 answers `Bad escaped character` or `Bad control
 * character` for a text cut inside a string). One linear pass, constant memory.
 */
export function jsonShape (text: string): { inString: boolean, open: number, rawBreakInString: boolean } {
  let inString = false
  let escaped = false
  let open = 0
  let rawBreakInString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (escaped) escaped = false
      else if (c === 0x5c) escaped = true
      else if (c === 0x22) inString = false
      else if (c === 0x0a || c === 0x0d) rawBreakInString = true
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) open++
    else if (c === 0x7d || c === 0x5d) open--
  }
  return { inString, open, rawBreakInString }
}

/** Line and column (1-based) of offset `pos` in `text`, the first line being `firstLine`. */
export function lineColumn (text: string, pos: number, firstLine = 1): { line: number, column: number } {
  let line = firstLine
  let start = 0
  for (let i = text.indexOf('\n'); i !== -1 && i < pos; i = text.indexOf('\n', i + 1)) { line++; start = i + 1 }
  return { line, column: pos - start + 1 }
}

const ELIDED = /\(\s*(?:\.\.\.|…)\s*\)|\.\.\.|…/

export type JsonProblem = 'truncated' | 'line-wrapped' | 'control-character' | 'elided' | 'trailing-text' | 'syntax'

/**
 * Why `text` is not JSON (JSON.parse threw `err`), as { problem, sentence }. `what` names the text for
 * the reader ("line", "text", "DecodedMessage"); `firstLine` is the line the text starts on, so places are
 * given in the reader's file. The location is written "(line L column C)" so that summaries that count
 * reasons can drop it.
 */
export function explainJsonError (text: string, err: Error, what: string, firstLine = 1): { problem: JsonProblem, sentence: string } {
  // V8 quotes a snippet of the input, line breaks included: one line of reason, always.
  const msg = err.message.replace(/^SyntaxError: /, '').replace(/\s+/g, ' ')
  const end = text.trimEnd()
  if (ELIDED.test(end) && /Unexpected|Expected|Bad/.test(msg)) {
    return { problem: 'elided', sentence: `the ${what} appears elided with "..." or "(...)": copy the complete message (${msg})` }
  }
  const shape = jsonShape(end)
  const at = lineColumn(end, end.length, firstLine)
  const where = `(line ${at.line} column ${at.column})`
  if (shape.inString || shape.open > 0) {
    const inside = shape.inString ? 'inside a string' : `with ${shape.open === 1 ? 'a bracket' : `${shape.open} brackets`} still open`
    return {
      problem: 'truncated',
      sentence: `the ${what} ends before the JSON does, ${inside} ${where}: it is truncated; copy the complete ${what === 'line' ? 'record onto one line' : 'message'}`
    }
  }
  const pos = /at position (\d+)/.exec(msg)
  const place = pos ? ` ${locate(text, Number(pos[1]), firstLine)}` : ''
  if (/Bad control character in string literal/.test(msg)) {
    if (shape.rawBreakInString) {
      return { problem: 'line-wrapped', sentence: `a string contains a raw line break${place}: the text was probably line-wrapped (e.g. copied from a web page or terminal); rejoin the lines (${msg})` }
    }
    return { problem: 'control-character', sentence: `a string contains a raw control character${place} (a tab or other character JSON must escape); remove it or copy the message again (${msg})` }
  }
  if (/after JSON|Unexpected non-whitespace/.test(msg)) {
    return { problem: 'trailing-text', sentence: `more text follows the end of the JSON${place}: remove what comes after the closing bracket (${msg})` }
  }
  return { problem: 'syntax', sentence: `the JSON is broken${place}: a character ${place === '' ? 'in it' : 'there'} is not where JSON allows it (a missing comma, quote or bracket?) (${msg})` }
}

function locate (text: string, pos: number, firstLine: number): string {
  const lc = lineColumn(text, pos, firstLine)
  return `(line ${lc.line} column ${lc.column})`
}
