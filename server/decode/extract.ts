/**
 * Find encoded authorization messages in pasted text (a whole error line, a console's "Launch Failed"
 * banner, a log excerpt, a command line, or the message alone), repair what copying typically breaks,
 * and refuse, with a reason a person can act on, what cannot be repaired: nothing doubtful is sent to STS.
 *
 * Repaired: line breaks inside a message (terminal or e-mail wrapping), surrounding quotes, trailing
 * punctuation. Refused: elided (`...`, `…`), visibly truncated (an impossible base64url length),
 * lower- or upper-cased, too short, or too long.
 */
import { MAX_ENCODED_LENGTH, MIN_ENCODED_LENGTH } from '../sts/token.js'

/** Real messages are several hundred characters (see sts-wire.md §6); the mock pads to at least this. */
export const MIN_TOKEN_LENGTH = MIN_ENCODED_LENGTH
/** Text larger than this is refused before scanning (an error line is a few KiB). */
export const MAX_TEXT_LENGTH = 1024 * 1024

export interface TokenProblem {
  /** The candidate as found (shortened for display). */
  excerpt: string
  reason: string
}

export interface Extraction {
  /** Usable messages, in order of appearance, without duplicates. */
  tokens: string[]
  /** Candidates that were refused; nothing should be sent when there are any. */
  problems: TokenProblem[]
}

/**
 * The phrases that introduce a message: AWS's English wording ("Encoded authorization failure message:"),
 * the Japanese console's ("エンコードされた認証失敗メッセージ"), and the CLI's own `--encoded-message`.
 */
const MARKER = /encoded\s+(?:authori[sz]ation\s+)?failure\s+message\s*[:：]?|エンコード(?:した|された)認証失敗メッセージ\s*[:：]?|--encoded-message(?:\s*=|\s+)|["']?EncodedMessage["']?\s*[:=]/gi

/** A candidate may contain dots and ellipses, so that an elided message is seen and refused, not cut short. */
const CANDIDATE = /[A-Za-z0-9_\-.…]+/y
const OPEN_QUOTES = '"\'`“‘«'
const CLOSE_QUOTES = '"\'`”’»'
const TRAILING = /[.,;:!?)\]}>"'`”’»]+$/
/** A line that holds only a fragment of a wrapped message (with perhaps a closing quote or stop). */
// (The classes after the fragment share no character with it, so matching stays linear.)
const FRAGMENT_LINE = /^[ \t>]*([A-Za-z0-9_\-.…]+)["'`”’»]?[,;:)\]]*[ \t]*$/
/** At most this many messages per text (each is one STS call). */
export const MAX_MESSAGES = 100
/** Without a marker, a bare word this long is taken for a message. */
const BARE_MIN = 64

export function extractTokens (input: string): Extraction {
  const out: Extraction = { tokens: [], problems: [] }
  if (input.length > MAX_TEXT_LENGTH) {
    out.problems.push({ excerpt: `${input.length} characters`, reason: `the text is longer than ${MAX_TEXT_LENGTH} characters: paste only the error line that holds the message` })
    return out
  }
  const text = input.replace(/\r\n?/g, '\n')
  const found: Array<{ pos: number, text: string }> = []
  const markers = [...text.matchAll(MARKER)]
  // What the markers took is blanked out (keeping line breaks); bare messages are looked for in the rest.
  const pieces: string[] = []
  let from = 0
  for (const m of markers) {
    if (m.index < from) continue
    const c = afterMarker(text, m.index + m[0].length)
    if (c === null) continue
    found.push({ pos: m.index, text: c.token })
    pieces.push(text.slice(from, m.index), text.slice(m.index, c.end).replace(/[^\n]/g, ' '))
    from = c.end
  }
  pieces.push(text.slice(from))
  found.push(...bareCandidates(pieces.join(''), markers.length === 0))
  const candidates = found.sort((a, b) => a.pos - b.pos).map(f => f.text)
  if (candidates.length > MAX_MESSAGES) {
    out.problems.push({ excerpt: `${candidates.length} messages`, reason: `the text holds ${candidates.length} messages; decode at most ${MAX_MESSAGES} at a time` })
    return out
  }
  if (candidates.length === 0) {
    out.problems.push({
      excerpt: excerpt(text.trim()),
      reason: markers.length > 0
        ? 'the text names an encoded authorization failure message but holds none after it: copy the complete error, including the message'
        : 'no encoded authorization message found: paste the whole error line (with "Encoded authorization failure message: ...") or the message alone'
    })
    return out
  }
  const seen = new Set<string>()
  for (const c of candidates) {
    const r = clean(c)
    if (typeof r === 'object') { out.problems.push(r); continue }
    if (!seen.has(r)) { seen.add(r); out.tokens.push(r) }
  }
  return out
}

/** The message that follows a marker, rejoined across line breaks. */
function afterMarker (text: string, start: number): { token: string, end: number } | null {
  let i = start
  while (i < text.length && /\s/.test(text[i]!)) i++
  while (i < text.length && OPEN_QUOTES.includes(text[i]!)) i++
  CANDIDATE.lastIndex = i
  const first = CANDIDATE.exec(text)
  if (!first) return null
  let token = first[0]
  i += token.length
  // A wrapped message continues on the next lines when the line ended inside it.
  while (text[i] === '\n' && token.length >= 16) {
    const nl = text.indexOf('\n', i + 1)
    const line = text.slice(i + 1, nl < 0 ? text.length : nl)
    const m = FRAGMENT_LINE.exec(line)
    if (!m) break
    token += m[1]
    i = nl < 0 ? text.length : nl
    // A closing quote or full stop ends the message.
    if (/["'`”’»,;:)\]]\s*$|[^.]\.\s*$/.test(line)) break
  }
  return { token, end: i }
}

/**
 * Messages without a marker: the text alone (when it is one word), a column of wrapped lines, or long
 * bare words; with their offsets, so that all candidates keep the order of the text.
 */
function bareCandidates (text: string, whole: boolean): Array<{ pos: number, text: string }> {
  const trimmed = stripQuotes(text.trim())
  if (whole && trimmed !== '' && !/\s/.test(trimmed)) return [{ pos: 0, text: trimmed }]
  const out: Array<{ pos: number, text: string }> = []
  let group: Array<{ pos: number, text: string }> = []
  const flush = (): void => {
    if (group.length === 0) return
    const lens = group.map(l => l.text.length)
    const width = lens[0]!
    // Lines of one width (a wrap column), the last one no longer: one message broken by wrapping.
    const wrapped = group.length > 1 && width >= 20 && width <= 256 && lens.slice(0, -1).every(n => n === width) && lens[lens.length - 1]! <= width
    if (wrapped) out.push({ pos: group[0]!.pos, text: group.map(g => g.text).join('') })
    else out.push(...group.filter(l => l.text.length >= 16))
    group = []
  }
  let offset = 0
  for (const raw of text.split('\n')) {
    const at = offset
    offset += raw.length + 1
    const line = stripQuotes(raw.trim())
    if (line !== '' && /^[A-Za-z0-9_\-.…]+$/.test(line) && (line.length >= 16 || group.length > 0) && /[A-Za-z0-9]/.test(line)) {
      group.push({ pos: at, text: line })
      continue
    }
    flush()
    let wordAt = at
    for (const w of raw.split(/(\s+)/)) {
      const here = wordAt
      wordAt += w.length
      CANDIDATE.lastIndex = 0
      const run = CANDIDATE.exec(stripQuotes(w))?.[0] ?? ''
      if (run.replace(/[.…]/g, '').length >= BARE_MIN) out.push({ pos: here, text: run })
    }
  }
  flush()
  return out
}

function stripQuotes (s: string): string {
  let a = 0
  let b = s.length
  while (a < b && OPEN_QUOTES.includes(s[a]!)) a++
  while (b > a && CLOSE_QUOTES.includes(s[b - 1]!)) b--
  return s.slice(a, b)
}

/** A clean message, or the reason it is refused. */
function clean (candidate: string): string | TokenProblem {
  const shown = excerpt(candidate)
  if (/\.\.\.|…|\.\s*\.\s*\./.test(candidate)) {
    return { excerpt: shown, reason: 'the message is elided ("..." or "…"): a shortened message cannot be decoded; copy the complete message from the original error output' }
  }
  const token = stripQuotes(candidate).replace(TRAILING, '')
  if (!/^[A-Za-z0-9_-]+$/.test(token)) {
    return { excerpt: shown, reason: 'the message holds characters that encoded messages never contain (they use only A-Z a-z 0-9 - _): copy it again' }
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    return { excerpt: shown, reason: `the message is too short (${token.length} characters; real ones are several hundred): it was cut off or is a placeholder; copy the complete message` }
  }
  if (token.length > MAX_ENCODED_LENGTH) {
    return { excerpt: shown, reason: `the message is longer than STS's limit of ${MAX_ENCODED_LENGTH} characters: two messages or other text ran together; copy one message` }
  }
  if (token.length % 4 === 1) {
    return { excerpt: shown, reason: `the message has an impossible length (${token.length} characters): a character was lost or added in copying (truncated?); copy it again` }
  }
  if (/[a-z]/.test(token) && !/[A-Z]/.test(token)) {
    return { excerpt: shown, reason: 'the message is all lower case: real encoded messages mix upper and lower case, so something changed it (a case-insensitive tool or a form field); copy it again from the original' }
  }
  if (/[A-Z]/.test(token) && !/[a-z]/.test(token)) {
    return { excerpt: shown, reason: 'the message is all upper case: real encoded messages mix upper and lower case, so something changed it; copy it again from the original' }
  }
  return token
}

/** A short, single-line view of a long candidate for messages. */
export function excerpt (s: string, max = 40): string {
  const one = s.replace(/\s+/g, ' ')
  return one.length <= max ? one : `${one.slice(0, max / 2)}…${one.slice(one.length - max / 2 + 1)}`
}
