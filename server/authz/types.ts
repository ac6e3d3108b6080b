/** Domain types for decoded authorization messages and the records whydenied derives from them. */

export const Decisions = ['explicit-deny', 'implicit-deny', 'allowed'] as const
export type Decision = (typeof Decisions)[number]

export interface ConditionValue {
  key: string
  value: string
  /** Place among all values of the message. */
  position: number
  /** Place among the values of this key (0 for the first). */
  valueIndex: number
}

export interface MatchedStatement {
  statementId: string | null
  effect: string | null
  principals: string[]
  principalGroups: string[]
  actions: string[]
  resources: string[]
  conditions: Array<{ key: string, values: string[] }>
}

/** Who was denied, as the message names them, plus what the ARN tells (type, account, role, session). */
export interface Principal {
  arn: string | null
  id: string | null
  name: string | null
  type: string | null
  account: string | null
  roleArn: string | null
  sessionName: string | null
}

/** Where a denial was read from: a decoded authorization message, or an access-denied sentence (plain text, CloudTrail). */
export const DenialKinds = ['decoded', 'text'] as const
export type DenialKind = (typeof DenialKinds)[number]

/** The kind of policy an access-denied sentence names (null: it names none). */
export const PolicyTypes = ['identity', 'resource', 'boundary', 'scp', 'rcp', 'session', 'vpc-endpoint'] as const
export type PolicyType = (typeof PolicyTypes)[number]

/** One decoded message (or access-denied sentence), parsed and normalised; `raw` is the source of truth. */
export interface ParsedMessage {
  raw: string
  /**
   * `raw` packed for storage (util/packed-text.ts, as latin1 text), when the parse worker did it: the
   * writer packs it otherwise. The worker then sends `raw` as '' (only the writer needs it, packed)
   * and its length as `rawLength`, which sizes batches as before.
   */
  packed?: string
  rawLength?: number
  contentHash: string
  kind: DenialKind
  decision: Decision
  /** For a text denial: the policy type its sentence names. */
  policyType: PolicyType | null
  /** For a text denial: the ARN of the denying policy, when the sentence gives it. */
  policyArn: string | null
  principal: Principal
  action: string | null
  actionRaw: string | null
  service: string | null
  resource: string | null
  region: string | null
  conditions: ConditionValue[]
  statements: MatchedStatement[]
  failures: unknown[]
}

/** A record as found in the input, before parsing: where it came from and what it held. */
export interface SourceRecord {
  source: string
  line: number
  /** Index among the records (and rejected pieces) that start on this line: 0 first. */
  index: number
  /** The JSON value of the record, already parsed from its text. */
  value: unknown
  /** For a record decoded from an encoded message: the SHA-256 (hex) of that message, its identity. */
  encodedSha256?: string
  /** Size of its JSON text, when known: bounds the work in flight by bytes rather than by count. */
  bytes?: number
  /** A plain-text access-denied sentence (value is then null). */
  text?: string
}

/** A record that could not be used, with the reason a person can act on. */
export interface RejectedRecord {
  source: string
  line: number
  reason: string
}

/** What an input yields: a usable record, or a rejection with its place. */
export type InputItem =
  | { kind: 'record', record: SourceRecord }
  | { kind: 'rejected', rejected: RejectedRecord }

/** A record ready to store: the parsed message plus its occurrence. */
export interface ImportRecord {
  message: ParsedMessage
  source: string
  line: number
  /** See SourceRecord.index (absent: 0). */
  index?: number
  /** See SourceRecord.encodedSha256: when set, it alone identifies the occurrence. */
  encodedSha256?: string | undefined
  /** ISO-8601 instant, or null when the input did not say (the import time is used). */
  observedAt: string | null
  /** For a CloudTrail event: its identity (eventID) and context; the event, not the place, identifies the occurrence. */
  event?: EventContext | undefined
}

/**
 * A record whose decoded message the parse worker read lately, word for word (see parse-worker.ts):
 * the worker sends only what counting another occurrence of its denial needs. `full` parses the
 * record again, on the importing thread, for the rare case its denial is not stored after all (deleted
 * since, by another process): the writer then stores it as any new one.
 */
export interface KnownRecord {
  known: KnownMessage
  full: () => ParsedMessage
  /** The length of the decoded message's text: sizes batches as rawLength does. */
  rawLength: number
  source: string
  line: number
  index?: number
  observedAt: string | null
  /** Never set: a CloudTrail event, or a decoded message with its encoded one, is always parsed in full. */
  event?: undefined
  encodedSha256?: undefined
}

/** Of a message parsed before: its identity, and the principal the rollups count. */
export interface KnownMessage {
  contentHash: string
  principal: Pick<Principal, 'arn' | 'roleArn' | 'account'>
}

/** What identifies a CloudTrail event and where it came from: kept with each occurrence it made. */
export interface EventFields {
  eventId: string
  eventTime: string
  eventSource: string | null
  eventName: string | null
  errorCode: string | null
  region: string | null
  sourceIp: string | null
  userAgent: string | null
}

/** What whydenied keeps of a CloudTrail event besides the denial. */
export interface EventContext extends EventFields {
  /** An encoded authorization message in errorMessage, to decode (pending) or cut short by CloudTrail (truncated). */
  token: string | null
  tokenState: 'pending' | 'truncated' | null
}

/** A stored denial as lists show it: one distinct message with its occurrence counters. */
export interface DenialSummary {
  id: number
  kind: DenialKind
  decision: Decision
  policyType: PolicyType | null
  policyArn: string | null
  action: string | null
  service: string | null
  principalArn: string | null
  resource: string | null
  region: string | null
  occurrences: number
  firstSeen: string
  lastSeen: string
}

/** A stored denial whole: its parsed fields, its latest occurrences and the raw message. */
export interface DenialDetail extends DenialSummary {
  contentHash: string
  actionRaw: string | null
  principal: Principal
  conditions: Array<{ key: string, values: string[] }>
  statements: MatchedStatement[]
  failures: unknown[]
  occurrenceList: Array<{ observedAt: string, source: string, line: number }>
  /** The CloudTrail events behind its occurrences (newest first, at most 100). */
  events: SourceEvent[]
  /** For a text denial: whether an encoded message waits to be decoded (pending) or was cut short (truncated). */
  encodedMessage: 'pending' | 'truncated' | null
  raw: string
}

/** A CloudTrail event as a denial's page shows it. */
export interface SourceEvent extends EventFields {
  encodedMessage: 'pending' | 'truncated' | 'decoded' | 'undecodable' | null
}
