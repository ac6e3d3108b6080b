/** CloudTrail events: which are denials (by errorCode), and a denied event as a text denial with its event context. */
import { arnPart, parsePrincipal, RecordError } from './parse.js'
import { parseDenialText, textMessage, textPrincipal } from './text.js'
import type { EventContext, ParsedMessage, Principal } from './types.js'

/** The errorCodes that record an authorization failure (documented in README). Others are skipped. */
export const DENIAL_ERROR_CODES = [
  'AccessDenied',
  'AccessDeniedException',
  'Client.AccessDenied',
  'UnauthorizedOperation',
  'Client.UnauthorizedOperation',
  'UnauthorizedAccess',
  'Client.UnauthorizedAccess',
  'UnauthorizedException',
  'AuthorizationError',
  'AuthorizationErrorException',
  'AuthorizationFailure',
  'NotAuthorized',
  'Forbidden',
  'ForbiddenException'
] as const

const DENIAL_CODES = new Set<string>(DENIAL_ERROR_CODES.map(c => c.toLowerCase()))

/** Bounds on what is kept of an event (CloudTrail fields are attacker-influenced: user agents, names). */
const MAX_FIELD = 2048
const MAX_MESSAGE = 16 * 1024

/**
 * Event sources whose IAM service prefix is not the host name's first label. Hand-written: AWS
 * publishes no machine-readable map, and these are the well-known exceptions.
 */
const PREFIX_OF_SOURCE: Record<string, string> = {
  monitoring: 'cloudwatch',
  email: 'ses'
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** An object with the fields every CloudTrail event has. */
export function looksLikeEvent (v: unknown): v is Obj {
  return isObj(v) && typeof v.eventVersion === 'string' && 'eventSource' in v && 'eventName' in v
}

export function isDenialCode (code: unknown): boolean {
  return typeof code === 'string' && DENIAL_CODES.has(code.toLowerCase())
}

/** An encoded authorization message found in errorMessage, classified by the caller (which knows the token rules). */
export type TokenClassifier = (errorMessage: string) => { token: string | null, state: 'pending' | 'truncated' } | null

export type EventParse =
  | { skipped: true }
  | { skipped: false, message: ParsedMessage, observedAt: string, event: EventContext }

/**
 * A CloudTrail event → skipped (not a denial) or a text denial at the event's time. The principal comes
 * from userIdentity (an assumed role's issuer ARN, with its path, as its role), the action from the
 * event (unless the error message names it), the rest from errorMessage. Throws RecordError on an event
 * that cannot be placed (no eventID or eventTime).
 */
export function parseEvent (e: Obj, classify: TokenClassifier): EventParse {
  if (!isDenialCode(e.errorCode)) return { skipped: true }
  const eventId = str(e.eventID)
  if (eventId === null || eventId === '') throw new RecordError('a denied CloudTrail event without "eventID": it cannot be identified', 'eventID')
  const timeText = str(e.eventTime)
  const t = timeText === null ? NaN : Date.parse(timeText)
  if (timeText === null || !/^\d{4}-\d{2}-\d{2}T/.test(timeText) || Number.isNaN(t)) throw new RecordError('a denied CloudTrail event without a valid "eventTime"', 'eventTime')
  const eventTime = new Date(t).toISOString()
  const eventSource = str(e.eventSource)
  const eventName = str(e.eventName)
  const region = str(e.awsRegion)
  const sourceIp = str(e.sourceIPAddress)
  const userAgent = str(e.userAgent)
  const errorCode = str(e.errorCode)
  // Control characters in a message would only garble what is shown; the sentence is on one line.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const errorMessage = (str(e.errorMessage, MAX_MESSAGE) ?? '').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ')
  const text = errorMessage === '' ? null : parseDenialText(errorMessage)
  const denial = text?.ok === true ? text.denial : null

  const principal = eventPrincipal(e.userIdentity, e.recipientAccountId) ?? textPrincipal(denial?.principalArn ?? null)
  const prefix = eventSource === null ? null : (PREFIX_OF_SOURCE[eventSource.split('.')[0]!] ?? eventSource.split('.')[0]!)
  const action = denial?.action ?? (prefix !== null && eventName !== null && eventName !== '' ? `${prefix}:${eventName}` : null)
  if (action === null) throw new RecordError('a denied CloudTrail event without "eventSource" and "eventName": it names no action', 'eventName')
  const found = errorMessage === '' ? null : classify(errorMessage)
  const conditions: Array<[string, string]> = []
  if (region) conditions.push(['aws:RequestedRegion', region])
  if (sourceIp) conditions.push(['aws:SourceIp', sourceIp])
  if (userAgent) conditions.push(['aws:UserAgent', userAgent])
  const message = textMessage({
    raw: errorMessage === '' ? `${errorCode ?? 'denied'} (CloudTrail recorded no errorMessage)` : errorMessage,
    principal,
    action,
    resource: denial?.resource ?? null,
    region: region || null,
    decision: denial?.decision ?? 'implicit-deny',
    policyType: denial?.policyType ?? null,
    policyArn: denial?.policyArn ?? null,
    conditions
  })
  return {
    skipped: false,
    message,
    observedAt: eventTime,
    event: { eventId, eventTime, eventSource, eventName, errorCode, region, sourceIp, userAgent, token: found?.token ?? null, tokenState: found?.state ?? null }
  }
}

/** userIdentity → principal: its ARN; for an assumed role, the role is the session issuer (with its path). */
function eventPrincipal (u: unknown, recipient: unknown): Principal | null {
  if (!isObj(u)) return null
  const arn = str(u.arn)
  const type = str(u.type)
  if (arn === null || arn === '') {
    const service = str(u.invokedBy)
    if (type === 'AWSService' && service) return textPrincipal(service)
    return null
  }
  const p = parsePrincipal(arn, str(u.principalId), str(u.userName))
  const session = isObj(u.sessionContext) ? u.sessionContext : null
  const issuer = session !== null && isObj(session.sessionIssuer) ? session.sessionIssuer : null
  if (issuer !== null) {
    const issuerArn = str(issuer.arn)
    if (issuerArn && arnPart(issuerArn, 5)?.startsWith('role/')) p.roleArn = issuerArn
    p.name ??= str(issuer.userName)
  }
  if (p.account === null) {
    const acct = str(u.accountId) ?? (typeof recipient === 'string' ? recipient : null)
    p.account = acct?.slice(0, 64) ?? null
  }
  return p
}

/**
 * A string field, bounded, with what SQLite's UTF-8 text cannot hold (NUL, unpaired surrogates)
 * replaced; anything else is absent (CloudTrail fields vary by service).
 */
function str (v: unknown, max = MAX_FIELD): string | null {
  if (typeof v !== 'string') return null
  const s = v.length > max ? v.slice(0, max) : v
  // eslint-disable-next-line no-control-regex -- NUL is what is replaced
  return s.toWellFormed().replace(/\u0000/g, '\uFFFD')
}
