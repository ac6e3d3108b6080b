/**
 * The `?format=json` twins of the pages: each page answers its own model as JSON, described here for
 * /api/openapi.json. These schemas document and are checked by the tests (test/routes/api/openapi.test.ts
 * validates every twin's answer against its schema); they do not serialize (see twinSchema).
 */
import { Type, type TSchema } from '../util/typebox.js'
import { DecodeErrorSchema, DecodeResultSchema } from './decode.js'
import { DenialDetailSchema, DenialSummarySchema, ImportSummarySchema, SearchResultSchema } from './denials.js'
import { ErrorBodySchema } from './errors.js'
import { PoliciesSchema } from './policies.js'
import { ReportSchema } from './reports.js'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const PerDay = Type.Array(Type.Object({ day: Type.String({ description: 'YYYY-MM-DD (UTC)' }), count: Type.Integer() }))

const ImportRowSchema = Type.Object({
  id: Type.Integer(),
  startedAt: Type.String(),
  finishedAt: Nullable(Type.String()),
  source: Nullable(Type.String()),
  imported: Type.Integer(),
  duplicates: Type.Integer(),
  rejected: Type.Integer(),
  skipped: Nullable(Type.Integer({ minimum: 0, description: 'Records read and left out (CloudTrail events that are not denials); null for imports made before whydenied stored this' }))
})

export const DashboardTwinSchema = Type.Object({
  period: Type.String({ description: '7d, 30d, 90d, 365d or all' }),
  since: Nullable(Type.String({ description: 'The period\'s first instant (N × 24 hours before until); null for all time' })),
  until: Type.String(),
  totals: Type.Object({ denials: Type.Integer(), occurrences: Type.Integer(), principals: Type.Integer(), accounts: Type.Integer() }),
  perDay: PerDay,
  mostRecurring: Type.Array(Type.Object({ ...DenialSummarySchema.properties, periodOccurrences: Type.Integer() })),
  latestImports: Type.Array(ImportRowSchema)
})

export const DenialsTwinSchema = Type.Object({
  ...SearchResultSchema.properties,
  conditionValues: Type.Record(Type.String(), Type.Array(Type.Object({ value: Type.String(), count: Type.Integer() })), { description: 'For each condition key filtered on, its values with counts' })
})

export const DenialTwinSchema = Type.Object({
  ...DenialDetailSchema.properties,
  explanation: Type.Object({
    decision: Type.String(),
    summary: Type.String({ description: 'One sentence: who was denied what, on what' }),
    detail: Type.Array(Type.String()),
    statements: Type.Array(Type.Unknown()),
    hints: Type.Array(Type.Unknown()),
    fix: Nullable(Type.Object({ kind: Type.String(), policyJson: Type.Optional(Type.String()) }))
  }, { description: 'Why it was denied and the least-privilege fix, as the page shows them' }),
  similar: Type.Object({ samePrincipalAction: Type.Array(Type.Unknown()), sameActionResource: Type.Array(Type.Unknown()) }),
  occurrencesPerDay: PerDay,
  policies: PoliciesSchema
})

export const ImportPageTwinSchema = Type.Object({ latestImports: Type.Array(ImportRowSchema), maxUploadBytes: Type.Integer() })

export const ImportDecodeTwinSchema = Type.Union([DecodeResultSchema, ImportSummarySchema], { description: 'The decoded messages (as POST /api/decode), or, for access-denied text with nothing encoded, the import summary' })

/**
 * A page route's schema with its JSON twin documented: tagged `pages`, so /api/openapi.json lists it.
 * The twin's answer is serialized by JSON.stringify (twinSerializer), not by this schema: a field the
 * schema does not declare reaches the client rather than being dropped.
 */
export function twinSchema<S extends Record<string, unknown>> (summary: string, response: TSchema, schema: S, errors: Record<string, TSchema> = {}): S & { tags: string[], summary: string, response: Record<string, TSchema> } {
  return { ...schema, tags: ['pages'], summary: `${summary} (?format=json: this model instead of the page)`, response: { 200: response, '4xx': ErrorBodySchema, ...errors } }
}

/** For routes whose response schemas document only: serialize whatever the handler returns. */
export const twinSerializer = (): (data: unknown) => string => data => JSON.stringify(data)

export { DecodeErrorSchema, ReportSchema }
