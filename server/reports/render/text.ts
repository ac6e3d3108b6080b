/** Markdown (for tickets), JSON and CSV (for other tools) renderings of a report. */
import type { Report, ReportGroup } from '../build.js'
import { showBidiControls } from '../../util/bidi.js'

/** "1 occurrence", "2 occurrences": raw numbers (Markdown stays diffable), the noun agreeing with them. */
const n = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`

// ---------- Markdown ----------

/** Text safe in Markdown: no HTML, no emphasis, links or tables made by the data. */
export function mdText (s: unknown): string {
  return String(s ?? '')
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    // Only what could start emphasis, code, links, tables or headings mid-line (hyphens and dots read as they are).
    .replace(/([\\`*_{}[\]#|~])/g, '\\$1')
}

/** Inline code that cannot be closed by the data (a fence longer than any backtick run in it). */
export function mdCode (s: string | null): string {
  if (s === null) return '(none)'
  const v = s.replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|')
  const run = Math.max(0, ...[...v.matchAll(/`+/g)].map(m => m[0].length))
  const fence = '`'.repeat(run + 1)
  return `${fence}${run > 0 ? ' ' : ''}${v}${run > 0 ? ' ' : ''}${fence}`
}

function mdBlock (text: string): string {
  const run = Math.max(2, ...[...text.matchAll(/`+/g)].map(m => m[0].length))
  const fence = '`'.repeat(run + 1)
  return `${fence}json\n${text}\n${fence}`
}

function mdGroup (g: ReportGroup, i: number): string {
  const lines = [
    `#### ${i}. ${mdCode(g.action)} on ${mdCode(g.resource)} (${g.status})`,
    '',
    `- ${n(g.occurrences, 'occurrence')} (${g.previousOccurrences} in the previous period), ${n(g.sessions, 'session/principal', 'sessions/principals')}`,
    `- Principal ${mdCode(g.principal)}, ${g.decision}, first ${g.firstSeen.slice(0, 10)}, last ${g.lastSeen.slice(0, 10)}`,
    `- Trend: ${sparkText(g.days)}`
  ]
  if (g.sids.length > 0) lines.push(`- Sids: ${g.sids.map(mdCode).join(', ')}`)
  lines.push('', mdText(g.explanation.summary))
  for (const h of g.explanation.hints) lines.push('', `> ${mdText(h.text)}`)
  if (g.resolvedFix) {
    const r = g.resolvedFix
    lines.push('', `Suggested fix in ${r.policyType} policy ${mdCode(r.policy)} (${r.verified ? 'verified against the principal\'s other denials' : 'not verified'}): ${mdText(r.note)}`, '', mdBlock(r.json))
  } else if (g.fix?.kind === 'allow') {
    lines.push('', `Suggested fix (${g.fix.check.matches ? 'checked: matches this request' : `check: does not match: ${mdText(g.fix.check.mismatches.join('; '))}`}):`, '', mdBlock(g.fix.policyJson))
  } else if (g.fix?.kind === 'change-deny') {
    lines.push('', `Fix: ${mdText(g.fix.text)}`)
  }
  return lines.join('\n')
}

const BLOCKS = '▁▂▃▄▅▆▇█'
/** A text sparkline (one block per day), for Markdown. */
export function sparkText (days: number[]): string {
  const max = Math.max(1, ...days)
  return days.map(d => d === 0 ? '·' : BLOCKS[Math.min(7, Math.floor((d / max) * 7.999))]).join('')
}

export function renderMarkdown (r: Report): string {
  const out: string[] = [`# ${mdText(r.title)}`, '',
    `Period ${r.period.since} to ${r.period.until} (exact instants, UTC; the end excluded), compared with ${r.period.previousSince} to ${r.period.since}. Generated ${r.generatedAt}.` +
    (r.redacted ? ' **Redacted**: account IDs, names and identifiers are pseudonyms.' : ''),
    `Growing means at least ${r.growth.factor}× the previous period and at least ${r.growth.minIncrease} more occurrences.`, '',
    `**${r.totals.occurrences}** ${r.totals.occurrences === 1 ? 'occurrence' : 'occurrences'} in ${n(r.totals.groups, 'group')} (${r.totals.previousOccurrences} before); ${r.totals.new} new, ${r.totals.growing} growing, ${r.totals.quiet} gone quiet; ${r.totals.suppressedOccurrences} suppressed.`]
  for (const s of r.teams) {
    out.push('', `## Team ${mdText(s.team)}`, '',
      `${n(s.totals.occurrences, 'occurrence')} in ${n(s.totals.groups, 'group')} (${s.totals.previousOccurrences} before); ${s.totals.new} new, ${s.totals.growing} growing, ${s.totals.ongoing} ongoing, ${s.totals.quiet} gone quiet; ${n(s.totals.principals, 'principal')}.`,
      '', '### Recurring denials', '')
    if (s.groups.length === 0) out.push('No denials in this period.')
    s.groups.forEach((g, i) => out.push(mdGroup(g, i + 1), ''))
    if (s.omittedGroups > 0) out.push(`${n(s.omittedGroups, 'more group', 'more groups')} not listed (limit ${r.limit}).`, '')
    for (const [title, list, which] of [['New this period', s.newGroups, 'new'], ['Gone quiet', s.quietGroups, 'quiet']] as const) {
      out.push(`### ${title}`, '')
      if (list.length === 0) { out.push('None.', ''); continue }
      out.push('| Action | Resource | Principal | Occurrences |', '|---|---|---|---:|')
      for (const g of list) out.push(`| ${mdCode(g.action)} | ${mdCode(g.resource)} | ${mdCode(g.principal)} | ${which === 'new' ? g.occurrences : g.previousOccurrences} |`)
      out.push('')
    }
    out.push('### Top actions, services and principals', '')
    for (const [title, list] of [['Action', s.topActions], ['Service', s.topServices], ['Principal', s.topPrincipals]] as const) {
      if (list.length === 0) continue
      out.push(`| ${title} | Occurrences |`, '|---|---:|', ...list.map(v => `| ${mdCode(v.value)} | ${v.occurrences} |`), '')
    }
    out.push('### Policy that fixes the implicit denies', '')
    out.push(s.policy ? mdBlock(s.policy.json) : 'No implicit denies to fix.', '')
    if (s.fixesByPolicy.length > 0) {
      out.push('### Fixes by policy', '')
      for (const p of s.fixesByPolicy) {
        out.push(`- ${p.policyType} policy ${mdCode(p.policy)}:`)
        for (const f of p.fixes) out.push(`  - ${mdCode(f.action)} on ${mdCode(f.resource)}: ${f.verified ? 'verified' : 'not verified'}. ${mdText(f.note)}`)
      }
      out.push('')
    }
    out.push('### Explicit denies: change the Deny statement instead', '')
    if (s.explicitDenies.length === 0) out.push('None.', '')
    for (const e of s.explicitDenies) out.push(`- ${mdCode(e.action)} on ${mdCode(e.resource)} by ${mdCode(e.principal)} (${e.occurrences}): ${e.statements.length > 0 ? mdText(e.statements.join(', ')) : 'statement not named in the message'}`)
  }
  if (r.suppressed.length > 0) {
    out.push('', '## Suppressed noise', '', '| Rule | Reason | Until | Occurrences |', '|---|---|---|---:|')
    for (const s of r.suppressed) {
      const rule = (['action', 'principal', 'resource'] as const).filter(k => s.rule[k] !== undefined).map(k => `${k} ${mdCode(s.rule[k]!)}`).join(', ')
      out.push(`| ${rule} | ${mdText(s.rule.reason ?? '')} | ${s.rule.until ?? ''}${s.active ? '' : ' (expired)'} | ${s.occurrences} |`)
    }
  }
  // Bidi controls visible in the whole document: no field can be missed (see showBidiControls).
  return showBidiControls(out.join('\n') + '\n')
}

// ---------- JSON ----------

export function renderJson (r: Report): string {
  return JSON.stringify(r, null, 2) + '\n'
}

// ---------- CSV ----------

export const CSV_COLUMNS = ['team', 'list', 'status', 'principal', 'account', 'action', 'resource', 'decision', 'occurrences', 'previousOccurrences',
  'sessions', 'firstSeen', 'lastSeen', 'sids', 'fix', 'suggestedPolicy'] as const

/** One CSV cell: quoted, and a leading = + - @ tab or CR neutralised so spreadsheets do not run it as a formula. */
export function csvCell (v: unknown): string {
  let s = String(v ?? '')
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n']/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s
}

/** One row per listed group (recurring, new, quiet), RFC 4180, CRLF line ends. */
export function renderCsv (r: Report): string {
  const lines = [CSV_COLUMNS.join(',')]
  for (const s of r.teams) {
    const seen = new Set<ReportGroup>()
    for (const [list, groups] of [['recurring', s.groups], ['new', s.newGroups], ['quiet', s.quietGroups]] as const) {
      for (const g of groups) {
        if (list === 'new' && seen.has(g)) continue
        seen.add(g)
        const fix = g.fix === null ? '' : g.fix.kind === 'allow' ? (g.fix.check.matches ? 'allow (checked)' : 'allow (check failed)') : `change deny: ${g.fix.statements.join('; ')}`
        const policy = g.fix?.kind === 'allow' ? JSON.stringify({ Version: '2012-10-17', Statement: [g.fix.statement] }) : ''
        lines.push([g.team, list, g.status, g.principal, g.account, g.action, g.resource, g.decision, g.occurrences, g.previousOccurrences,
          g.sessions, g.firstSeen, g.lastSeen, g.sids.join(' '), fix, policy].map(csvCell).join(','))
      }
    }
  }
  // Bidi controls visible in every cell; the replacement holds no quote, comma or line break.
  return showBidiControls(lines.join('\r\n') + '\r\n')
}

export const Formats = ['html', 'md', 'json', 'csv'] as const
export type Format = (typeof Formats)[number]

export const CONTENT_TYPES: Record<Format, string> = {
  html: 'text/html; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8'
}
