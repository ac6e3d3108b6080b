/** TypeBox schemas shared by the denial and import APIs: they validate, serialize and document. */
import { Type, type Static } from '../util/typebox.js'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])
const nullableString = () => Nullable(Type.String())

/** Fields that hold a string or null, by name, in the order given (the order they serialize in). */
function nullableStrings<const K extends string> (...keys: K[]): { [P in K]: ReturnType<typeof nullableString> } {
  return Object.fromEntries(keys.map(k => [k, nullableString()])) as { [P in K]: ReturnType<typeof nullableString> }
}

export const DecisionSchema = Type.Union([Type.Literal('explicit-deny'), Type.Literal('implicit-deny'), Type.Literal('allowed')])

export const KindSchema = Type.Union([Type.Literal('decoded'), Type.Literal('text')], { description: 'decoded (from an encoded authorization message) or text (an access-denied sentence: plain text, CloudTrail)' })
export const PolicyTypeSchema = Type.Union([Type.Literal('identity'), Type.Literal('resource'), Type.Literal('boundary'), Type.Literal('scp'), Type.Literal('rcp'), Type.Literal('session'), Type.Literal('vpc-endpoint')], { description: 'The policy type a text denial names' })

export const SortOrderSchema = Type.Union([Type.Literal('lastSeen'), Type.Literal('occurrences')], { description: 'lastSeen (default) or occurrences, newest/most first' })
export type SortOrder = Static<typeof SortOrderSchema>

/**
 * The one filter shape of denial search: the API's query string, the denial list page's state and
 * `whydenied search`'s options (all bounded the same way). The repository receives it with since and
 * until resolved to ISO instants.
 */
export const DenialFiltersSchema = Type.Object({
  action: Type.Optional(Type.String({ maxLength: 512, description: 'Normalised action, exact or glob (ec2:*)' })),
  service: Type.Optional(Type.String({ maxLength: 128, description: 'Service prefix, e.g. iam' })),
  principal: Type.Optional(Type.String({ maxLength: 2048, description: 'Principal ARN, exact or glob; also matches the role of assumed-role sessions' })),
  account: Type.Optional(Type.String({ maxLength: 64, description: 'Principal account ID' })),
  resource: Type.Optional(Type.String({ maxLength: 2048, description: 'Resource ARN, exact or glob' })),
  condition: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 20, description: 'KEY=VALUE, or KEY for "key present"; repeatable' })),
  decision: Type.Optional(DecisionSchema),
  kind: Type.Optional(KindSchema),
  policyType: Type.Optional(PolicyTypeSchema),
  policyArn: Type.Optional(Type.String({ maxLength: 2048, description: 'ARN of the denying policy (text denials that name it), exact or glob' })),
  since: Type.Optional(Type.String({ maxLength: 64, description: 'Date, ISO instant, or span (30d, 12h): occurrences at or after' })),
  until: Type.Optional(Type.String({ maxLength: 64, description: 'Date (inclusive), ISO instant, or span: occurrences before' })),
  q: Type.Optional(Type.String({ maxLength: 512, description: 'Case-insensitive substring over ARNs, action and condition values' }))
})
export type DenialFilters = Static<typeof DenialFiltersSchema>

export const DenialQuerySchema = Type.Object({
  ...DenialFiltersSchema.properties,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 1024, description: 'nextCursor of the previous page' })),
  sort: Type.Optional(SortOrderSchema),
  facets: Type.Optional(Type.Boolean({ default: true, description: 'false skips the facet counts (faster paging)' }))
})
export type DenialQuery = Static<typeof DenialQuerySchema>

export const DenialSummarySchema = Type.Object({
  id: Type.Integer(),
  kind: KindSchema,
  decision: DecisionSchema,
  policyType: Nullable(PolicyTypeSchema),
  ...nullableStrings('policyArn', 'action', 'service', 'principalArn', 'resource', 'region'),
  occurrences: Type.Integer(),
  firstSeen: Type.String(),
  lastSeen: Type.String()
})

const KeyValues = Type.Array(Type.Object({ key: Type.String(), values: Type.Array(Type.String()) }))

/** GET /api/denials/:id: the whole record. Every field is declared: the schema also serializes (undeclared fields would be dropped). */
export const DenialDetailSchema = Type.Object({
  ...DenialSummarySchema.properties,
  contentHash: Type.String({ description: 'SHA-256 of the canonical decoded JSON: the denial\'s identity' }),
  actionRaw: Nullable(Type.String({ description: 'The action as the message gave it' })),
  principal: Type.Object({
    arn: Nullable(Type.String()),
    id: Nullable(Type.String()),
    name: Nullable(Type.String()),
    type: Nullable(Type.String()),
    account: Nullable(Type.String()),
    roleArn: Nullable(Type.String({ description: 'For an assumed-role session: its role' })),
    sessionName: Nullable(Type.String())
  }),
  conditions: Type.Array(Type.Object({ key: Type.String(), values: Type.Array(Type.String()) }), { description: 'The request context: every condition key with its values' }),
  statements: Type.Array(Type.Object({
    statementId: Nullable(Type.String()),
    effect: Nullable(Type.String()),
    principals: Type.Array(Type.String()),
    principalGroups: Type.Array(Type.String()),
    actions: Type.Array(Type.String()),
    resources: Type.Array(Type.String()),
    conditions: KeyValues
  }), { description: 'Matched statements' }),
  failures: Type.Array(Type.Unknown(), { description: 'The failures of the message, as it gave them' }),
  occurrenceList: Type.Array(Type.Object({ observedAt: Type.String(), source: Type.String(), line: Type.Integer() }), { description: 'The latest occurrences' }),
  events: Type.Array(Type.Object({
    eventId: Type.String(),
    eventTime: Type.String(),
    ...nullableStrings('eventSource', 'eventName', 'errorCode', 'region', 'sourceIp', 'userAgent'),
    encodedMessage: Nullable(Type.Union([Type.Literal('pending'), Type.Literal('truncated'), Type.Literal('decoded'), Type.Literal('undecodable')]))
  }), { description: 'The CloudTrail events behind its occurrences (newest first, at most 100)' }),
  encodedMessage: Nullable(Type.Union([Type.Literal('pending'), Type.Literal('truncated')], { description: 'Text denial: an encoded message waits to be decoded, or CloudTrail cut it short' })),
  raw: Type.String({ description: 'The decoded JSON exactly as stored; for a text denial, the access-denied sentence' })
})

const FacetList = Type.Array(Type.Object({ value: Type.String(), count: Type.Integer() }))

export const SearchResultSchema = Type.Object({
  total: Type.Integer(),
  items: Type.Array(DenialSummarySchema),
  nextCursor: Nullable(Type.String()),
  facets: Type.Optional(Type.Object({
    action: FacetList,
    principal: FacetList,
    account: FacetList,
    conditionKey: FacetList,
    service: FacetList,
    decision: FacetList,
    kind: FacetList,
    policyType: FacetList
  }, { description: 'Top values with counts under the current filters (omitted with facets=false)' }))
})

export const RejectedSchema = Type.Object({ source: Type.String(), line: Type.Integer(), reason: Type.String() })

export const ImportSummarySchema = Type.Object({
  imported: Type.Integer(),
  duplicates: Type.Integer(),
  skipped: Type.Integer({ description: 'Records that are not denials (CloudTrail events without an access-denied errorCode)' }),
  rejected: Type.Array(RejectedSchema, { description: 'The first 1,000 rejections in full' }),
  rejectedCount: Type.Integer({ description: 'Every rejection, counted' }),
  rejectedReasons: Type.Record(Type.String(), Type.Integer(), { description: 'Rejections per reason, with quoted text, indices and positions replaced' })
})
