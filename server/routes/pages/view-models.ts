/** View-model pieces shared by several pages: denial rows, import rows. Everything a template shows is computed here. */
import { Type } from '../../util/typebox.js'
import type { DenialSummary } from '../../authz/types.js'
import type { ImportSummaryRow } from '../../db/repositories/imports.js'
import { decisionClass, decisionLabel, elideMiddle, formatInstant, formatNumber } from '../../render/helpers.js'

export interface DenialRowModel {
  id: number
  href: string
  decision: string
  decisionClass: string
  action: string
  principal: string
  principalShort: string
  resource: string
  resourceShort: string
  region: string
  occurrences: string
  lastSeen: string
  /** The date and the time apart: a narrow column puts them on two lines, never breaking the date. */
  lastSeenDay: string
  lastSeenTime: string
  firstSeen: string
}

export function denialRow (d: DenialSummary & { periodOccurrences?: number }): DenialRowModel {
  const principal = d.principalArn ?? '(unknown principal)'
  const resource = d.resource ?? '(no resource)'
  return {
    id: d.id,
    href: `/denials/${d.id}`,
    decision: decisionLabel(d.decision),
    decisionClass: decisionClass(d.decision),
    action: d.action ?? '(no action)',
    principal,
    principalShort: elideMiddle(principal, 160),
    resource,
    resourceShort: elideMiddle(resource, 160),
    region: d.region ?? '',
    occurrences: formatNumber(d.periodOccurrences ?? d.occurrences),
    lastSeen: formatInstant(d.lastSeen).replace(/ UTC$/, ''),
    lastSeenDay: formatInstant(d.lastSeen).slice(0, 10),
    lastSeenTime: formatInstant(d.lastSeen).slice(11, 16),
    firstSeen: formatInstant(d.firstSeen)
  }
}

export interface ImportRowModel {
  id: number
  when: string
  source: string
  sourceFull: string
  imported: string
  duplicates: string
  rejected: string
  hasRejected: boolean
  /** "—" when the import predates the count (null). */
  skipped: string
  skippedKnown: boolean
}

export function importRow (i: ImportSummaryRow): ImportRowModel {
  return {
    id: i.id,
    when: formatInstant(i.finishedAt ?? i.startedAt),
    source: elideMiddle(i.source, 80),
    sourceFull: i.source,
    imported: formatNumber(i.imported),
    duplicates: formatNumber(i.duplicates),
    rejected: formatNumber(i.rejected),
    hasRejected: i.rejected > 0,
    skipped: i.skipped === null ? '—' : formatNumber(i.skipped),
    skippedKnown: i.skipped !== null
  }
}

/** `?format=json` asks for a page's JSON twin (the data the page shows). */
export const FormatParam = Type.Optional(Type.Union([Type.Literal('html'), Type.Literal('json')], { description: 'json: the page\'s data instead of HTML' }))
