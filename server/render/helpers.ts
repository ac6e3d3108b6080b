/**
 * View helpers: the formatting used by page view-models, and the few Handlebars helpers the
 * templates may call. Templates stay logic-free (if/each only); anything more is computed here
 * or in the route's view-model. Every helper returns plain strings, which Handlebars escapes.
 */
import Handlebars, { type HelperDelegate } from 'handlebars'
import { showBidiControls } from '../util/bidi.js'

const numberFormat = new Intl.NumberFormat('en-US')

/** 12345 → "12,345". */
export function formatNumber (n: number): string {
  return numberFormat.format(n)
}

/** "1 occurrence", "3 occurrences". */
export function plural (n: number, one: string, many = `${one}s`): string {
  return `${formatNumber(n)} ${n === 1 ? one : many}`
}

/** ISO instant → "2025-03-04 10:15 UTC" (the stored times are UTC). Unparseable text is shown as is. */
export function formatInstant (iso: string | null | undefined): string {
  if (!iso) return ''
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return iso
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ') + ' UTC'
}

/** ISO instant → "2025-03-04". */
export function formatDay (iso: string | null | undefined): string {
  if (!iso) return ''
  const t = Date.parse(iso)
  return Number.isNaN(t) ? iso : new Date(t).toISOString().slice(0, 10)
}

/** Decision code → words for people. */
export function decisionLabel (decision: string): string {
  switch (decision) {
    case 'explicit-deny': return 'Explicit deny'
    case 'implicit-deny': return 'Implicit deny'
    case 'allowed': return 'Allowed'
    default: return decision
  }
}

/** Decision code → CSS modifier class (a fixed set: never taken from data). */
export function decisionClass (decision: string): string {
  switch (decision) {
    case 'explicit-deny': return 'badge-explicit'
    case 'implicit-deny': return 'badge-implicit'
    case 'allowed': return 'badge-allowed'
    default: return 'badge-other'
  }
}

/** Shorten very long text for a table cell; the full value goes into a title attribute. */
export function truncate (s: string | null | undefined, max = 120): string {
  if (!s) return ''
  const chars = Array.from(s)
  return chars.length <= max ? s : chars.slice(0, max - 1).join('') + '…'
}

/** Shorten long text in the middle, keeping its start and its end (the most specific part of an ARN or a path). */
export function elideMiddle (s: string | null | undefined, max = 120): string {
  if (!s) return ''
  const chars = Array.from(s)
  if (chars.length <= max) return s
  const head = Math.ceil((max - 1) * 0.4)
  return chars.slice(0, head).join('') + '…' + chars.slice(chars.length - (max - 1 - head)).join('')
}

/**
 * A segment at most this long never breaks inside (.seg, white-space: nowrap): 32 characters of the
 * small monospace text fit the narrowest column (a 390 px phone); a longer one (.seg-long) may break
 * anywhere rather than overflow or widen its table column.
 */
const UNBROKEN_SEGMENT = 32

/**
 * An identifier (ARN, path, condition value) as HTML that a browser breaks only after `:`, `/` (and spaces):
 * each segment up to and including its separator is escaped and kept whole (`<span class="seg">`,
 * nowrap in app.css and report.css), with a <wbr> between segments. So an account ID such as
 * 111122223333 never wraps in its middle, nor a name at its hyphens. CSS alone cannot say "break only
 * here": `overflow-wrap: anywhere` also breaks digits, and line breaking allows breaks after hyphens.
 */
export function breakableHtml (text: string): string {
  const parts = text.match(/[^:/\s]*[:/\s]+|[^:/\s]+$/g) ?? []
  return parts.map(p => {
    const escaped = Handlebars.Utils.escapeExpression(p)
    return `<span class="${Array.from(p).length <= UNBROKEN_SEGMENT ? 'seg' : 'seg-long'}">${escaped}</span>`
  }).join('<wbr>')
}

/** "arn:aws:iam::111122223333:user/alice" → "user/alice · 111122223333": the part that differs first. */
export function shortArn (arn: string): string {
  const m = /^arn:[^:]+:[^:]*:[^:]*:([^:]*):(.+)$/.exec(arn)
  if (!m) return arn
  return m[1] ? `${m[2]} · ${m[1]}` : m[2]!
}

/** Pretty-print JSON text (2 spaces); text that is not JSON comes back unchanged. */
export function prettyJson (text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return text
  }
}

/** Helpers registered with the Handlebars instance of @fastify/view: formatting only. */
export const handlebarsHelpers: Record<string, HelperDelegate> = {
  num: (n: unknown) => typeof n === 'number' ? formatNumber(n) : '',
  instant: (s: unknown) => typeof s === 'string' ? formatInstant(s) : '',
  day: (s: unknown) => typeof s === 'string' ? formatDay(s) : '',
  /** `{{arn value}}`: the value escaped, breakable only after `:` and `/` (see breakableHtml). */
  arn: (s: unknown) => new Handlebars.SafeString(typeof s === 'string' ? breakableHtml(s) : '')
}

/**
 * Make every template this Handlebars instance compiles (pages, partials, the layout) show bidi controls
 * as `\u202E` and the like. Handlebars has no per-instance hook into the escaping of `{{ }}`
 * (escapeExpression is module state shared by every instance), so the rendered output is passed
 * through showBidiControls instead: templates hold no such characters, so whatever is replaced came
 * from data, whether in text, attributes or `{{{body}}}`.
 */
export function showBidiControlsInTemplates (handlebars: typeof Handlebars): void {
  const compile = handlebars.compile.bind(handlebars)
  handlebars.compile = ((input, options) => {
    const template = compile(input, options)
    return (context, runtime) => showBidiControls(template(context, runtime))
  }) as typeof handlebars.compile
}
