/**
 * HTML rendering of a report. `reportBody` is the escaped-by-construction fragment (the app shows it
 * in its layout); `renderHtml` wraps it in a standalone page: inline CSS, inline SVG, no script, no
 * URL of any kind, and a CSP that forbids fetching anything, so it opens offline and prints on A4.
 */
import type { Report, ReportGroup, TeamSection } from '../build.js'
import { dayChart, esc, sparkline } from './svg.js'
import { showBidiControls } from '../../util/bidi.js'

export const REPORT_CSS = `
.wr { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827; max-width: 1100px; margin: 0 auto; }
.wr h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
.wr h2 { font-size: 1.25rem; margin: 1.75rem 0 .5rem; border-bottom: 2px solid #e5e7eb; padding-bottom: .25rem; }
.wr h3 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; }
.wr .wr-meta { color: #4b5563; margin: 0 0 1rem; }
.wr .wr-figures { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0 1rem; padding: 0; list-style: none; }
.wr .wr-figures li { border: 1px solid #e5e7eb; border-radius: 6px; padding: .4rem .7rem; min-width: 7rem; }
.wr .wr-figures b { display: block; font-size: 1.2rem; }
.wr table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
.wr th, .wr td { text-align: left; vertical-align: top; border-bottom: 1px solid #e5e7eb; padding: .3rem .4rem; }
.wr th { font-weight: 600; background: #f9fafb; }
.wr td.num, .wr th.num { text-align: right; font-variant-numeric: tabular-nums; }
.wr code, .wr pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; }
.wr code { overflow-wrap: anywhere; }
.wr pre { background: #f3f4f6; border: 1px solid #e5e7eb; border-radius: 4px; padding: .5rem; white-space: pre-wrap; overflow-wrap: anywhere; }
.wr .wr-group { border: 1px solid #e5e7eb; border-radius: 6px; padding: .6rem .8rem; margin: .6rem 0; break-inside: avoid; page-break-inside: avoid; }
.wr .wr-group h4 { margin: 0 0 .3rem; font-size: 1rem; overflow-wrap: anywhere; }
.wr .wr-status { display: inline-block; border-radius: 999px; padding: 0 .5rem; font-size: 12px; font-weight: 600; border: 1px solid #9ca3af; }
.wr .wr-status-new { background: #fef3c7; border-color: #d97706; }
.wr .wr-status-growing { background: #fee2e2; border-color: #dc2626; }
.wr .wr-status-ongoing { background: #e0e7ff; border-color: #4f46e5; }
.wr .wr-status-quiet { background: #dcfce7; border-color: #16a34a; }
.wr .wr-hint { color: #374151; font-style: italic; }
.wr .wr-muted { color: #6b7280; }
.wr svg { display: inline-block; vertical-align: middle; max-width: 100%; height: auto; }
.wr .wr-legend { font-size: 12px; color: #4b5563; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  .wr { font-size: 11px; max-width: none; }
  .wr h2 { break-after: avoid; page-break-after: avoid; }
  .wr h2.wr-team { break-before: page; page-break-before: always; }
  .wr h2.wr-team:first-of-type { break-before: auto; page-break-before: auto; }
  .wr table, .wr tr { break-inside: avoid; page-break-inside: avoid; }
}
`

const n = (x: number): string => x.toLocaleString('en-US')
const day = (iso: string): string => iso.slice(0, 10)
const code = (s: string | null): string => s === null ? '<span class="wr-muted">(none)</span>' : `<code>${esc(s)}</code>`

function figures (items: Array<[string, number | string]>): string {
  return `<ul class="wr-figures">${items.map(([label, v]) => `<li><b>${esc(typeof v === 'number' ? n(v) : v)}</b>${esc(label)}</li>`).join('')}</ul>`
}

function fixHtml (g: ReportGroup): string {
  const f = g.fix
  if (f === null) return ''
  if (f.kind === 'change-deny') return `<p><b>Fix:</b> ${esc(f.text)}</p>`
  const check = f.check.matches
    ? '<span>Checked: matches this request.</span>'
    : `<span>Check: does not match this request: ${esc(f.check.mismatches.join('; '))}</span>`
  return `<p><b>Suggested fix</b> (identity policy of ${code(g.principal)}). ${check}</p><pre>${esc(f.policyJson)}</pre>`
}

function groupHtml (g: ReportGroup, report: Report, rank: number | null): string {
  const hints = g.explanation.hints.map(h => `<li class="wr-hint">${esc(h.text)}</li>`).join('')
  return `<section class="wr-group" data-status="${esc(g.status)}">
<h4>${rank !== null ? `${rank}. ` : ''}<code>${esc(g.action ?? '(no action)')}</code> on ${code(g.resource)} <span class="wr-status wr-status-${esc(g.status)}">${esc(g.status)}</span></h4>
<p>${sparkline(g.days, report.periodStart, `Occurrences per day of ${g.action ?? 'this denial'}: ${g.occurrences} in the period, ${g.previousOccurrences} before`)}
<b>${n(g.occurrences)}</b> occurrences (${n(g.previousOccurrences)} in the previous period), ${n(g.sessions)} session${g.sessions === 1 ? '' : 's'}/principal${g.sessions === 1 ? '' : 's'} · principal ${code(g.principal)} · ${esc(g.decision)} · first ${esc(day(g.firstSeen))}, last ${esc(day(g.lastSeen))}${g.sids.length > 0 ? ` · Sids ${g.sids.map(s => `<code>${esc(s)}</code>`).join(', ')}` : ''}</p>
<p>${esc(g.explanation.summary)}</p>
${hints ? `<ul>${hints}</ul>` : ''}
${fixHtml(g)}
</section>`
}

function listTable (groups: ReportGroup[], which: 'new' | 'quiet'): string {
  if (groups.length === 0) return `<p class="wr-muted">No ${which === 'new' ? 'new' : 'gone-quiet'} groups.</p>`
  const rows = groups.map(g => `<tr><td>${code(g.action)}</td><td>${code(g.resource)}</td><td>${code(g.principal)}</td><td class="num">${n(which === 'new' ? g.occurrences : g.previousOccurrences)}</td><td>${esc(day(which === 'new' ? g.firstSeen : g.lastSeen))}</td></tr>`).join('')
  return `<table><thead><tr><th>Action</th><th>Resource</th><th>Principal</th><th class="num">${which === 'new' ? 'Occurrences' : 'Before'}</th><th>${which === 'new' ? 'First seen' : 'Last seen'}</th></tr></thead><tbody>${rows}</tbody></table>`
}

function topTable (title: string, rows: Array<{ value: string, occurrences: number }>): string {
  if (rows.length === 0) return ''
  return `<table><thead><tr><th>${esc(title)}</th><th class="num">Occurrences</th></tr></thead><tbody>${rows.map(r => `<tr><td>${code(r.value)}</td><td class="num">${n(r.occurrences)}</td></tr>`).join('')}</tbody></table>`
}

function sectionHtml (s: TeamSection, report: Report): string {
  const t = s.totals
  const explicit = s.explicitDenies.length === 0
    ? '<p class="wr-muted">No explicit denies.</p>'
    : `<table><thead><tr><th>Action</th><th>Resource</th><th>Principal</th><th class="num">Occurrences</th><th>Statement to change</th></tr></thead><tbody>${s.explicitDenies.map(e =>
      `<tr><td>${code(e.action)}</td><td>${code(e.resource)}</td><td>${code(e.principal)}</td><td class="num">${n(e.occurrences)}</td><td>${e.statements.length > 0 ? esc(e.statements.join(', ')) : 'not named in the message'}</td></tr>`).join('')}</tbody></table>`
  return `<h2 class="wr-team" id="team-${esc(s.team)}">Team ${esc(s.team)}</h2>
${figures([['occurrences', t.occurrences], ['before', t.previousOccurrences], ['groups', t.groups], ['new', t.new], ['growing', t.growing], ['gone quiet', t.quiet], ['principals', t.principals]])}
${s.groups.length > 0 ? `<p>${dayChart(report.days, s.perDay, report.periodStart, `Occurrences per day of team ${s.team}'s listed groups`)}</p><p class="wr-legend">Grey: previous period; orange: reported period.</p>` : ''}
<h3>Recurring denials</h3>
${s.groups.length === 0 ? '<p class="wr-muted">No denials in this period.</p>' : s.groups.map((g, i) => groupHtml(g, report, i + 1)).join('\n')}
${s.omittedGroups > 0 ? `<p class="wr-muted">${n(s.omittedGroups)} more group${s.omittedGroups === 1 ? '' : 's'} with fewer occurrences not listed (limit ${report.limit}).</p>` : ''}
<h3>New this period</h3>
${listTable(s.newGroups, 'new')}
<h3>Gone quiet</h3>
${listTable(s.quietGroups, 'quiet')}
<h3>Top actions, services and principals</h3>
${topTable('Action', s.topActions)}${topTable('Service', s.topServices)}${topTable('Principal', s.topPrincipals)}
<h3>Policy that fixes the implicit denies</h3>
${s.policy ? `<p>Allows every listed implicit deny (${n(s.policy.groups)} group${s.policy.groups === 1 ? '' : 's'}); statements are merged only where the merge grants nothing more.</p><pre>${esc(s.policy.json)}</pre>` : '<p class="wr-muted">No implicit denies to fix.</p>'}
<h3>Explicit denies: change the Deny statement instead</h3>
${explicit}`
}

/** The report as an HTML fragment (every value escaped, bidi controls shown as `\u202E` and the like). */
export function reportBody (report: Report): string {
  const t = report.totals
  const suppressed = report.suppressed.length === 0
    ? ''
    : `<h2>Suppressed noise</h2><table><thead><tr><th>Rule</th><th>Reason</th><th>Until</th><th class="num">Occurrences suppressed</th></tr></thead><tbody>${report.suppressed.map(s =>
      `<tr><td>${(['action', 'principal', 'resource'] as const).filter(k => s.rule[k] !== undefined).map(k => `${k} <code>${esc(s.rule[k])}</code>`).join(', ')}</td><td>${esc(s.rule.reason ?? '')}</td><td>${esc(s.rule.until ?? '')}${s.active ? '' : ' (expired)'}</td><td class="num">${n(s.occurrences)}</td></tr>`).join('')}</tbody></table>`
  return showBidiControls(`<article class="wr">
<h1>${esc(report.title)}</h1>
<p class="wr-meta">Period ${esc(report.period.since)} to ${esc(report.period.until)}, compared with ${esc(report.period.previousSince)} to ${esc(report.period.since)}. Generated ${esc(report.generatedAt)}${report.redacted ? '. <b>Redacted</b>: account IDs, names and identifiers are pseudonyms' : ''}.
Growing means at least ${report.growth.factor}× the previous period and at least ${report.growth.minIncrease} more occurrences.</p>
${figures([['occurrences', t.occurrences], ['before', t.previousOccurrences], ['groups', t.groups], ['new', t.new], ['growing', t.growing], ['gone quiet', t.quiet], ['suppressed', t.suppressedOccurrences]])}
${report.teams.map(s => sectionHtml(s, report)).join('\n')}
${suppressed}
</article>`)
}

/** A standalone HTML document: nothing to load, nothing to run. */
export function renderHtml (report: Report): string {
  return showBidiControls(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(report.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${reportBody(report)}
</body>
</html>
`)
}
