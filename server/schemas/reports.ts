/** The query of a team report: GET /api/reports, the report page and its downloads. */
import { Type, type Static } from '../util/typebox.js'

export const ReportQuerySchema = Type.Object({
  team: Type.Optional(Type.String({ maxLength: 100, description: 'One team of the teams file, or "unassigned"; empty or absent: all teams' })),
  since: Type.Optional(Type.String({ maxLength: 40, description: 'Start: 30d, 2w, 12h back from until, a date or an ISO instant (default 30d)' })),
  until: Type.Optional(Type.String({ maxLength: 40, description: 'End: a date (inclusive) or an ISO instant (default now)' })),
  redact: Type.Optional(Type.Union(['1', '0', 'on', 'true', 'false', ''].map(v => Type.Literal(v)), { description: 'Replace identifiers with stable pseudonyms' })),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000, description: 'Groups listed per team and list (0: all; default 50)' })),
  kind: Type.Optional(Type.Union([Type.Literal('decoded'), Type.Literal('text'), Type.Literal('')], { description: 'Only decoded messages or only access-denied text; empty or absent: both' }))
})
export type ReportQuery = Static<typeof ReportQuerySchema>

/**
 * GET /api/reports: the report model (the same as `whydenied report --format json`). The top level is
 * declared field by field; the nested sections are documented and passed through whole (additional
 * properties kept), so serializing never drops what the model holds.
 */
export const ReportSchema = Type.Object({
  title: Type.String(),
  generatedAt: Type.String({ description: 'ISO instant' }),
  period: Type.Unknown({ description: '{since, until, ...}: the reported period (ISO instants) and how it was given' }),
  days: Type.Array(Type.String(), { description: 'The days of the previous and the reported period' }),
  periodStart: Type.Integer({ description: 'Index in days where the reported period starts' }),
  team: Type.Union([Type.String(), Type.Null()]),
  redacted: Type.Boolean(),
  teamsFile: Type.Union([Type.String(), Type.Null()]),
  growth: Type.Object({ factor: Type.Number(), minIncrease: Type.Number() }, { description: 'When a group counts as growing' }),
  limit: Type.Integer(),
  totals: Type.Unknown({ description: 'Occurrences, groups by status, principals, implicit and explicit groups, suppressed occurrences' }),
  suppressed: Type.Array(Type.Unknown(), { description: 'Each suppress rule with the occurrences it suppressed' }),
  teams: Type.Array(Type.Unknown(), { description: 'Per team: totals, per-day counts, recurring, new and quiet groups (team, principal, account, action, resource, decision, occurrences, previousOccurrences, sessions, firstSeen, lastSeen, status, days, sids, explanation, fix), top lists, the merged policy and the explicit denies' })
}, { additionalProperties: true })
