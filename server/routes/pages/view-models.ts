/** View-model pieces shared by several pages: denial rows, import rows. Everything a template shows is computed here. */
import { Type } from 'typebox'
import type { DenialSummary } from '../../authz/types.js'
import type { ImportSummaryRow } from '../../db/repositories/imports.js'
import { decisionClass, decisionLabel, formatInstant, formatNumber, truncate } from '../../render/helpers.js'

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
    principalShort: truncate(principal, 90),
    resource,
    resourceShort: truncate(resource, 90),
    region: d.region ?? '',
    occurrences: formatNumber(d.periodOccurrences ?? d.occurrences),
    lastSeen: formatInstant(d.lastSeen).replace(/ UTC$/, ''),
    firstSeen: formatInstant(d.firstSeen)
  }
}

export interface ImportRowModel {
  id: number
  when: string
  source: string
  imported: string
  duplicates: string
  rejected: string
  hasRejected: boolean
}

export function importRow (i: ImportSummaryRow): ImportRowModel {
  return {
    id: i.id,
    when: formatInstant(i.finishedAt ?? i.startedAt),
    source: truncate(i.source, 80),
    imported: formatNumber(i.imported),
    duplicates: formatNumber(i.duplicates),
    rejected: formatNumber(i.rejected),
    hasRejected: i.rejected > 0
  }
}

/** `?format=json` asks for a page's JSON twin (the data the page shows). */
export const FormatParam = Type.Optional(Type.Union([Type.Literal('html'), Type.Literal('json')], { description: 'json: the page\'s data instead of HTML' }))
