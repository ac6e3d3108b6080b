/** Plain-text access-denied messages ("User: … is not authorized to perform: … because …") parsed into text denials. */
import { createHash } from 'node:crypto'
import { arnPart, canonicalJson, normaliseAction, parsePrincipal } from './parse.js'
import type { ConditionValue, Decision, ParsedMessage, Principal, PolicyType } from './types.js'

/** A sentence longer than this is cut (its parts are bounded anyway); a line longer than MAX_LINE is not read. */
export const MAX_SENTENCE = 8192
export const MAX_LINE = 64 * 1024

export interface TextDenial {
  /** The sentence as found, from its principal to the end of its reason. */
  sentence: string
  principalArn: string | null
  action: string | null
  resource: string | null
  decision: Exclude<Decision, 'allowed'>
  policyType: PolicyType | null
  policyArn: string | null
}

export type TextParse = { ok: true, denial: TextDenial } | { ok: false, reason: string }

/** How the sentences name each policy type (implicit: "no X allows", explicit: "an explicit deny in a X"). */
const POLICY_WORDS: Array<[RegExp, PolicyType]> = [
  [/^identity[- ]based polic(?:y|ies)\b/i, 'identity'],
  [/^resource[- ]based polic(?:y|ies)\b/i, 'resource'],
  [/^permissions? boundar(?:y|ies)\b/i, 'boundary'],
  [/^service control polic(?:y|ies)\b/i, 'scp'],
  [/^resource control polic(?:y|ies)\b/i, 'rcp'],
  [/^session polic(?:y|ies)\b/i, 'session'],
  [/^VPC endpoint polic(?:y|ies)\b/i, 'vpc-endpoint']
]

const AUTH = /\b(?:is|are) not authori[sz]ed to perform\b/i
/** Words that say "denied" without the sentence whydenied can parse: such a line is rejected with what it lacks. */
const DENIED_WORDS = /\bAccess ?Denied(?:Exception)?\b|\bUnauthori[sz]edOperation\b|\bUnauthorizedAccess\b|\bnot authori[sz]ed\b/i
const ENCODED = /encoded\s+(?:authori[sz]ation\s+)?failure\s+message/i
const LABEL = /\b(?:User|Principal|Role|Service|Caller)\s*:\s*$/i
const ACTION = /^\s*:?\s*([A-Za-z0-9-]{1,64}:[A-Za-z0-9*_-]{1,128})/
const ON_RESOURCE = /^\s+on\s+(?:resource\s*:?|the\s+resource\b)\s*/i
const POLICY = String.raw`((?:[A-Za-z-]+\s+){0,3}?(?:polic(?:y|ies)|boundar(?:y|ies)))`
const IMPLICIT = new RegExp(String.raw`^[\s,]*because\s+(?:no\s+${POLICY}\s+allows?\s+(?:the\s+\S{1,200}\s+action|access)|(the resource does not exist.{0,200}?access))`, 'i')
const EXPLICIT = new RegExp(String.raw`^[\s,]*with\s+an\s+explicit\s+deny\s+in\s+(?:an?|the)\s+${POLICY}(?:\s*:\s*(arn:[^\s"',;]{1,2048}))?`, 'i')
/** Where an unquoted resource ends: its reason, an SDK's "(Service: …)" suffix, or a closing quote. */
const RESOURCE_END = /\s+because\s|\s*,?\s+with\s+an\s+explicit\s+deny\b|\s+\(Service:|["]|$/i

/**
 * Find and parse the access-denied sentence in a line of text. null: the line says nothing about a
 * denial (other lines of a log). A line that says "denied" but holds nothing to parse is refused with
 * what is missing, so that a person can go and find it.
 */
export function parseDenialText (line: string): TextParse | null {
  if (line.length > MAX_LINE) return DENIED_WORDS.test(line.slice(0, 4096)) ? { ok: false, reason: `a line longer than ${MAX_LINE / 1024} KiB: not read as an access-denied message` } : null
  const m = AUTH.exec(line)
  if (m === null) {
    if (!DENIED_WORDS.test(line)) return null
    return { ok: false, reason: missing(line) }
  }
  const before = line.slice(0, m.index)
  const principal = principalBefore(before)
  let rest = line.slice(m.index + m[0].length)
  const a = ACTION.exec(rest)
  if (a === null) {
    return {
      ok: false,
      reason: ENCODED.test(line)
        ? 'names no action, only an encoded authorization message: decode it first (`whydenied decode --store`)'
        : 'says "is not authorized to perform" but names no action (service:Action): copy the complete message'
    }
  }
  const action = a[1]!
  rest = rest.slice(a[0].length)
  let resource: string | null = null
  const on = ON_RESOURCE.exec(rest)
  if (on !== null) {
    rest = rest.slice(on[0].length)
    if (/^associated with/i.test(rest)) {
      // KMS: "on the resource associated with this ciphertext": it names no resource.
      rest = rest.replace(/^associated with this ciphertext/i, '')
    } else if (rest.startsWith('"')) {
      const close = rest.indexOf('"', 1)
      resource = rest.slice(1, close < 0 ? undefined : close)
      rest = close < 0 ? '' : rest.slice(close + 1)
    } else {
      const end = RESOURCE_END.exec(rest)!
      resource = rest.slice(0, end.index).replace(/[.,;]+$/, '')
      rest = rest.slice(end.index)
    }
    resource = resource?.trim().slice(0, 2048) || null
  }
  let decision: TextDenial['decision'] = 'implicit-deny'
  let policyType: PolicyType | null = null
  let policyArn: string | null = null
  let reasonEnd = 0
  const imp = IMPLICIT.exec(rest)
  const exp = imp === null ? EXPLICIT.exec(rest) : null
  if (imp !== null) {
    policyType = imp[1] !== undefined ? policyTypeOf(imp[1]) : 'resource'
    reasonEnd = imp[0].length
  } else if (exp !== null) {
    decision = 'explicit-deny'
    policyType = policyTypeOf(exp[1]!)
    policyArn = exp[2]?.replace(/[.)]+$/, '') ?? null
    reasonEnd = exp[0].length
  }
  const start = principal === null ? m.index : principal.start
  const end = line.length - rest.length + reasonEnd
  const sentence = line.slice(start, reasonEnd > 0 ? end : undefined).trim().replace(/["]+$/, '').slice(0, MAX_SENTENCE)
  return { ok: true, denial: { sentence, principalArn: principal?.arn ?? null, action, resource, decision, policyType, policyArn } }
}

/** The principal just before "is not authorized": after a "User:" label, or an ARN or service principal alone. */
function principalBefore (before: string): { arn: string, start: number } | null {
  const tok = /("?)([^\s"]{1,2048})\1\s*$/.exec(before)
  if (tok === null) return null
  const arn = tok[2]!
  const head = before.slice(0, tok.index)
  const label = LABEL.exec(head)
  if (label !== null) return { arn, start: label.index }
  if (arn.startsWith('arn:') || /\.amazonaws\.com$/.test(arn)) return { arn, start: tok.index }
  return null
}

function policyTypeOf (words: string): PolicyType | null {
  for (const [re, type] of POLICY_WORDS) if (re.test(words.trim())) return type
  return null
}

/** What a line that says "denied" lacks, worded so a person knows where to look. */
function missing (line: string): string {
  if (ENCODED.test(line)) return 'names no principal or action, only an encoded authorization message: decode it first (`whydenied decode --store`)'
  return 'an access-denied message with nothing to parse: it names no principal, action or resource ("Access Denied" alone, as S3 answers). ' +
    'CloudTrail records who called what: import the CloudTrail event instead'
}

/** A service principal (ec2.amazonaws.com) is not an ARN; everything else is parsed as one. */
export function textPrincipal (arn: string | null): Principal {
  const p = parsePrincipal(arn, null, null)
  if (arn !== null && !arn.startsWith('arn:')) p.type = /\.amazonaws\.com$/.test(arn) ? 'service' : null
  return p
}

export interface TextMessageParts {
  raw: string
  principal: Principal
  action: string | null
  resource: string | null
  region: string | null
  decision: TextDenial['decision']
  policyType: PolicyType | null
  policyArn: string | null
  /** Context kept as condition values (a CloudTrail event's source IP, user agent, region). */
  conditions?: Array<[string, string]>
}

/**
 * A text denial as a ParsedMessage. Its identity (contentHash) is what it says, not how it is worded:
 * the same principal, action, resource, decision, policy and context from a pasted message and from a
 * CloudTrail event are one denial.
 */
export function textMessage (p: TextMessageParts): ParsedMessage {
  const { action, service } = normaliseAction(p.action, null, p.resource)
  const conditions: ConditionValue[] = (p.conditions ?? []).map(([key, value], position) => ({ key, value, position, valueIndex: 0 }))
  const region = p.region ?? (arnPart(p.resource, 3) || null)
  const identity = {
    kind: 'text',
    decision: p.decision,
    principal: p.principal.arn,
    action: action?.toLowerCase() ?? null,
    resource: p.resource,
    region,
    policyType: p.policyType,
    policyArn: p.policyArn,
    conditions: conditions.map(c => [c.key.toLowerCase(), c.value])
  }
  return {
    raw: p.raw,
    contentHash: createHash('sha256').update(canonicalJson(identity)).digest('hex'),
    kind: 'text',
    decision: p.decision,
    policyType: p.policyType,
    policyArn: p.policyArn,
    principal: p.principal,
    action,
    actionRaw: p.action,
    service,
    resource: p.resource,
    region,
    conditions,
    statements: [],
    failures: []
  }
}

/** A parsed sentence (plain text) as a ParsedMessage. */
export function messageFromText (d: TextDenial): ParsedMessage {
  return textMessage({ raw: d.sentence, principal: textPrincipal(d.principalArn), action: d.action, resource: d.resource, region: null, decision: d.decision, policyType: d.policyType, policyArn: d.policyArn })
}
