/**
 * View helpers: the formatting used by page view-models, and the few Handlebars helpers the
 * templates may call. Templates stay logic-free (if/each only); anything more is computed here
 * or in the route's view-model. Every helper returns plain strings, which Handlebars escapes.
 */
import type { HelperDelegate } from 'handlebars'
import type Handlebars from 'handlebars'
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
  day: (s: unknown) => typeof s === 'string' ? formatDay(s) : ''
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
