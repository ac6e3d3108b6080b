/** The query of a team report: GET /api/reports, the report page and its downloads. */
import { Type, type Static } from 'typebox'

export const ReportQuerySchema = Type.Object({
  team: Type.Optional(Type.String({ maxLength: 100, description: 'One team of the teams file, or "unassigned"; empty or absent: all teams' })),
  since: Type.Optional(Type.String({ maxLength: 40, description: 'Start: 30d, 2w, 12h back from until, a date or an ISO instant (default 30d)' })),
  until: Type.Optional(Type.String({ maxLength: 40, description: 'End: a date (inclusive) or an ISO instant (default now)' })),
  redact: Type.Optional(Type.Union(['1', '0', 'on', 'true', 'false', ''].map(v => Type.Literal(v)), { description: 'Replace identifiers with stable pseudonyms' })),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000, description: 'Groups listed per team and list (0: all; default 50)' })),
  kind: Type.Optional(Type.Union([Type.Literal('decoded'), Type.Literal('text'), Type.Literal('')], { description: 'Only decoded messages or only access-denied text; empty or absent: both' }))
})
export type ReportQuery = Static<typeof ReportQuerySchema>
