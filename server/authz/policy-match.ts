/**
 * IAM statement matching: does one policy statement apply to one request, and if not, why not?
 * Three-valued where the request may not show everything: `true`, `false`, or `unknown` when a
 * condition tests a key a decoded message does not show (a guess would be worse than saying so).
 *
 * Covered: Action/NotAction (wildcards, case-insensitive), Resource/NotResource (ARN globs `*` `?`,
 * segment by segment, case-sensitive), Principal/NotPrincipal, policy variables `${key}` (with
 * defaults, and only in Version 2012-10-17 documents, as IAM does), and the condition operators
 * String*, Arn*, Bool, BinaryEquals, Numeric*, Date*, IpAddress/NotIpAddress, Null, each with
 * `…IfExists` and the set prefixes `ForAnyValue:` / `ForAllValues:`.
 */
import { BlockList, isIP } from 'node:net'

/** An IAM policy statement, as it appears in a policy document. */
export interface PolicyStatement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Action?: string | string[]
  NotAction?: string | string[]
  Resource?: string | string[]
  NotResource?: string | string[]
  Principal?: PrincipalElement
  NotPrincipal?: PrincipalElement
  /** operator → condition key → value(s), e.g. {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}} */
  Condition?: Record<string, Record<string, ConditionValues>>
}

export type ConditionValues = string | string[] | boolean | number | Array<string | boolean | number>
export type PrincipalElement = '*' | Record<string, string | string[]>

/** Who made the request, for Principal/NotPrincipal: ARNs as IAM shows them. */
export interface Caller {
  /** The user ARN, or the assumed-role session ARN (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION). */
  arn: string | null
  /** For sessions: the role assumed. */
  roleArn: string | null
  account: string | null
}

/** The request a statement is checked against; condition keys compare case-insensitively. */
export interface MatchRequest {
  action: string | null
  resource: string | null
  conditions: Map<string, string[]> | Record<string, string[]>
  /**
   * Whether `conditions` is the whole request context (default). A decoded message is not: a key it
   * does not show may still have been in the request, so a test on it is `unknown`, never a guess.
   */
  complete?: boolean
  caller?: Caller
}

export type Verdict = 'true' | 'false' | 'unknown'

export interface MatchResult {
  matches: boolean
  /** One sentence per part of the statement that does not match the request (empty when it matches). */
  mismatches: string[]
}

/** What each element of a statement says about the request. */
export interface StatementVerdict {
  verdict: Verdict
  action: Verdict
  resource: Verdict
  principal: Verdict
  conditions: Array<{ operator: string, key: string, verdict: Verdict, why: string | null }>
  /** Sentences for every element that is false or unknown. */
  mismatches: string[]
}

export const asList = <T>(v: T | T[] | undefined): T[] => v === undefined ? [] : Array.isArray(v) ? v : [v]

/** AND over three values: any false is false, else any unknown is unknown. */
export function and (vs: Verdict[]): Verdict {
  if (vs.includes('false')) return 'false'
  return vs.includes('unknown') ? 'unknown' : 'true'
}

/** `${*}` and `${?}` in a pattern: the characters themselves, not wildcards (private-use code points). */
const LITERAL_STAR = '\uE000'
const LITERAL_QMARK = '\uE001'

/**
 * Wildcard match with `*` (any run, also empty) and `?` (one character), no other syntax.
 * Greedy two-pointer algorithm with one backtrack point: O(pattern × text) at worst, no regex,
 * so hostile patterns cannot blow up.
 */
export function globMatch (pattern: string, text: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern
  const s = ignoreCase ? text.toLowerCase() : text
  let pi = 0
  let si = 0
  let star = -1
  let mark = 0
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si] || (p[pi] === LITERAL_STAR && s[si] === '*') || (p[pi] === LITERAL_QMARK && s[si] === '?'))) {
      pi++; si++
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++; mark = si
    } else if (star >= 0) {
      pi = star + 1; si = ++mark
    } else {
      return false
    }
  }
  while (pi < p.length && p[pi] === '*') pi++
  return pi === p.length
}

/** Does an Action pattern cover the action? IAM compares actions case-insensitively. */
export function actionMatches (pattern: string, action: string): boolean {
  return globMatch(pattern, action, true)
}

/** arn:partition:service:region:account:resource, the resource part keeping its own colons; null if not an ARN. */
function arnSegments (s: string): string[] | null {
  if (!s.startsWith('arn:')) return null
  const parts: string[] = []
  let rest = s
  for (let i = 0; i < 5; i++) {
    const at = rest.indexOf(':')
    if (at < 0) return null
    parts.push(rest.slice(0, at))
    rest = rest.slice(at + 1)
  }
  parts.push(rest)
  return parts
}

/**
 * ARN match as ArnLike and the Resource element do it: each of the six colon-separated parts is
 * matched on its own, so a wildcard never spans a colon of the first five; a pattern that is not a
 * whole ARN (`arn:aws:ec2:*`) is matched as one glob.
 */
export function arnMatches (pattern: string, arn: string): boolean {
  const p = arnSegments(pattern)
  const a = arnSegments(arn)
  if (p === null || a === null) return globMatch(pattern, arn)
  return p.every((seg, i) => globMatch(seg, a[i]!))
}

/**
 * Does a Resource pattern cover the resource ARN? The ARN's resource part is case-sensitive; a
 * request without a resource (or with `*`) is only covered by the pattern `*`.
 */
export function resourceMatches (pattern: string, resource: string | null): boolean {
  if (pattern === '*') return true
  if (resource === null || resource === '' || resource === '*') return false
  return arnMatches(pattern, resource)
}

/** Case-insensitive lookup of a condition key's values; undefined when the request lacks the key. */
export function lookup (conditions: MatchRequest['conditions'], key: string): string[] | undefined {
  const k = key.toLowerCase()
  if (conditions instanceof Map) {
    const exact = conditions.get(key)
    if (exact !== undefined) return exact
  }
  const entries = conditions instanceof Map ? conditions.entries() : Object.entries(conditions)
  for (const [name, values] of entries) if (name.toLowerCase() === k) return values
  return undefined
}

/**
 * Replace `${key}` with the request's (single) value; `${*}`, `${?}`, `${$}` are the literal
 * characters; `${key, 'default'}` falls back to the default. `missing` names a key with no value.
 */
export function substitute (value: string, conditions: MatchRequest['conditions']): { value: string, missing: string | null } {
  let missing: string | null = null
  if (!value.includes('${')) return { value, missing }
  const out = value.replace(/\$\{([^}]{1,128})\}/g, (whole, inner: string) => {
    if (inner === '*') return LITERAL_STAR
    if (inner === '?') return LITERAL_QMARK
    if (inner === '$') return inner
    const [key, fallback] = splitDefault(inner)
    const v = lookup(conditions, key)
    if (v && v.length === 1) return v[0]!
    if (fallback !== null) return fallback
    missing = key
    return whole
  })
  return { value: out, missing }
}

/** A substituted value used as plain text (StringEquals…): the escapes become the characters again. */
const plain = (s: string): string => s.replaceAll(LITERAL_STAR, '*').replaceAll(LITERAL_QMARK, '?')

function splitDefault (inner: string): [string, string | null] {
  const m = /^\s*([^,]+?)\s*,\s*'([^']*)'\s*$/.exec(inner)
  return m ? [m[1]!, m[2]!] : [inner.trim(), null]
}

interface Operator {
  base: string
  negated: boolean
  ifExists: boolean
  set: 'any' | 'all' | null
}

function parseOperator (op: string): Operator {
  let rest = op
  let set: Operator['set'] = null
  if (/^ForAnyValue:/i.test(rest)) {
    set = 'any'
    rest = rest.slice('ForAnyValue:'.length)
  } else if (/^ForAllValues:/i.test(rest)) {
    set = 'all'
    rest = rest.slice('ForAllValues:'.length)
  }
  let ifExists = false
  if (/IfExists$/i.test(rest) && !/^Null$/i.test(rest)) { ifExists = true; rest = rest.slice(0, -'IfExists'.length) }
  return { base: rest, negated: /^(String|Numeric|Date|Arn)Not|^NotIpAddress$/i.test(rest), ifExists, set }
}

const NUM = (s: string): number => (/^\s*-?\d+(\.\d+)?\s*$/.test(s) ? Number(s) : Number.NaN)
// Dates: ISO 8601, or epoch seconds (IAM accepts both).
const DATE = (s: string): number => (/^\d+$/.test(s) ? Number(s) * 1000 : Date.parse(s))

/** Base64 to bytes (hex) for BinaryEquals; padding and whitespace tolerated, anything else is not binary. */
const BINARY = (s: string): string | null => /^[A-Za-z0-9+/=\s]*$/.test(s) ? Buffer.from(s, 'base64').toString('hex') : null

/**
 * IpAddress: a CIDR range or a single address, IPv4 or IPv6, checked by node's BlockList (the
 * standard library's own subnet matcher) rather than by hand.
 */
function ipInRange (address: string, range: string): boolean {
  const family = isIP(address)
  if (family === 0) return false
  const [net, bitsText] = range.trim().split('/')
  const netFamily = isIP(net ?? '')
  if (netFamily === 0 || netFamily !== family) return false
  const max = family === 4 ? 32 : 128
  const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : -1
  if (bits < 0 || bits > max) return false
  const list = new BlockList()
  const type = family === 4 ? 'ipv4' : 'ipv6'
  list.addSubnet(net!, bits, type)
  return list.check(address, type)
}

/** One request value against one policy value, for the positive form of the operator. Null: unsupported. */
function compareOne (base: string, requestValue: string, pattern: string): boolean | null {
  const policyValue = plain(pattern)
  switch (base.toLowerCase().replace(/^(string|numeric|date|arn)not/, '$1').replace(/^notipaddress$/, 'ipaddress')) {
    case 'stringequals': return requestValue === policyValue
    case 'stringequalsignorecase': return requestValue.toLowerCase() === policyValue.toLowerCase()
    case 'stringlike': return globMatch(pattern, requestValue)
    // IAM treats ArnEquals like ArnLike: both accept wildcards in each ARN part.
    case 'arnequals':
    case 'arnlike': return arnMatches(pattern, requestValue)
    case 'bool': return requestValue.toLowerCase() === policyValue.toLowerCase()
    case 'binaryequals': { const a = BINARY(requestValue); return a !== null && a === BINARY(policyValue) }
    case 'ipaddress': return ipInRange(requestValue, policyValue)
    case 'numericequals': return NUM(requestValue) === NUM(policyValue)
    case 'numericlessthan': return NUM(requestValue) < NUM(policyValue)
    case 'numericlessthanequals': return NUM(requestValue) <= NUM(policyValue)
    case 'numericgreaterthan': return NUM(requestValue) > NUM(policyValue)
    case 'numericgreaterthanequals': return NUM(requestValue) >= NUM(policyValue)
    case 'dateequals': return DATE(requestValue) === DATE(policyValue)
    case 'datelessthan': return DATE(requestValue) < DATE(policyValue)
    case 'datelessthanequals': return DATE(requestValue) <= DATE(policyValue)
    case 'dategreaterthan': return DATE(requestValue) > DATE(policyValue)
    case 'dategreaterthanequals': return DATE(requestValue) >= DATE(policyValue)
    default: return null
  }
}

const fmt = (vs: string[]): string => vs.length === 1 ? `"${vs[0]}"` : `[${vs.map(v => `"${v}"`).join(', ')}]`

export interface EvalOptions {
  /** Substitute policy variables (documents of Version 2012-10-17); otherwise `${…}` is literal text. */
  variables?: boolean
}

/** Evaluate one (operator, key, values) condition: its verdict, and why when it is not true. */
export function conditionVerdict (operator: string, key: string, rawValues: ConditionValues, request: MatchRequest, opts: EvalOptions = {}): { verdict: Verdict, why: string | null } {
  const op = parseOperator(operator)
  const policyValues = asList(rawValues as unknown).map(v => String(v))
  const present = lookup(request.conditions, key)
  const absent = present === undefined || present.length === 0
  const label = `${operator} ${key}`
  const complete = request.complete !== false
  const unknownKey = { verdict: 'unknown' as const, why: `${label}: the message does not show ${key}, so whether this condition holds cannot be told` }

  if (/^Null$/i.test(op.base)) {
    if (absent && !complete) return unknownKey
    const wantAbsent = policyValues.some(v => v.toLowerCase() === 'true')
    if (absent === wantAbsent) return { verdict: 'true', why: null }
    return { verdict: 'false', why: wantAbsent ? `${label}: the statement wants the key absent, the request has ${fmt(present ?? [])}` : `${label}: the statement wants the key present, the request does not have it` }
  }
  if (compareOne(op.base, '', '') === null) return { verdict: 'unknown', why: `${label}: operator ${op.base} is not a condition operator whydenied knows` }

  const substituted: string[] = []
  for (const v of policyValues) {
    const s = opts.variables === false ? { value: v, missing: null } : substitute(v, request.conditions)
    if (s.missing !== null) {
      if (!complete) return { verdict: 'unknown', why: `${label}: the policy variable \${${s.missing}} has no single value the message shows` }
      // An unresolved variable makes the comparison fail (IAM: the key is not in the request context).
      return { verdict: 'false', why: `${label}: the policy variable \${${s.missing}} has no single value in the request` }
    }
    substituted.push(s.value)
  }

  if (absent) {
    if (!complete) return unknownKey
    if (op.ifExists) return { verdict: 'true', why: null }
    if (op.set === 'all') return { verdict: 'true', why: null } // ForAllValues over an empty set is true.
    if (op.set === null && op.negated) return { verdict: 'true', why: null }
    return { verdict: 'false', why: `${label}: the request has no ${key} (the statement wants ${fmt(substituted)})` }
  }

  const anyPolicy = (rv: string): boolean => substituted.some(pv => compareOne(op.base, rv, pv) === true)
  // The negated operators hold for a value that matches none of the policy values.
  const holds = (rv: string): boolean => op.negated ? !anyPolicy(rv) : anyPolicy(rv)
  let ok: boolean
  if (op.set === 'all') ok = present.every(holds)
  else if (op.set === 'any') ok = present.some(holds)
  else ok = op.negated ? present.every(holds) : present.some(holds)
  if (ok) return { verdict: 'true', why: null }
  return { verdict: 'false', why: `${label}: the request has ${fmt(present)}, the statement ${op.negated ? 'excludes' : 'wants'} ${fmt(substituted)}` }
}

/** Evaluate one (operator, key, values) condition; returns null when it holds, else why not. */
export function conditionMismatch (operator: string, key: string, rawValues: ConditionValues, request: MatchRequest): string | null {
  return conditionVerdict(operator, key, rawValues, request).why
}

/** Account and role/user name of an IAM ARN, path dropped: messages give session roles without their path. */
function iamIdentity (arn: string): string | null {
  const m = /^arn:[^:]+:iam::(\d{12}):(role|user)\/(?:.*\/)?([^/]+)$/.exec(arn)
  return m ? `${m[1]}:${m[2]}:${m[3]!.toLowerCase()}` : null
}

/** Is the caller one of the principals a Principal element's AWS entry names? */
function callerIs (entry: string, caller: Caller): boolean {
  if (entry === '*') return true
  const root = /^(?:arn:[^:]+:iam::)?(\d{12})(?::root)?$/.exec(entry)
  if (root) return caller.account === root[1]
  if (caller.arn !== null && entry === caller.arn) return true
  const id = iamIdentity(entry)
  if (id === null) return false
  return [caller.arn, caller.roleArn].some(a => a !== null && iamIdentity(a) === id)
}

function principalVerdict (statement: PolicyStatement, request: MatchRequest): { verdict: Verdict, why: string | null } {
  const el = statement.Principal ?? statement.NotPrincipal
  if (el === undefined) return { verdict: 'true', why: null }
  const caller = request.caller
  const named = (): boolean => {
    if (el === '*') return true
    if (caller === undefined) return false
    return Object.entries(el).some(([kind, v]) => kind.toUpperCase() === 'AWS' && asList(v).some(e => callerIs(e, caller)))
  }
  if (caller === undefined && el !== '*') return { verdict: 'unknown', why: 'the request names no principal to compare with the Principal element' }
  const hit = named()
  if (statement.Principal !== undefined) return hit ? { verdict: 'true', why: null } : { verdict: 'false', why: `Principal ${JSON.stringify(el)} does not name ${caller?.arn ?? 'the caller'}` }
  return hit ? { verdict: 'false', why: `NotPrincipal ${JSON.stringify(el)} excludes ${caller?.arn ?? 'the caller'}` } : { verdict: 'true', why: null }
}

/** What every element of the statement says about the request. Effect is not considered. */
export function statementVerdict (statement: PolicyStatement, request: MatchRequest, opts: EvalOptions = {}): StatementVerdict {
  const mismatches: string[] = []
  const action = request.action ?? ''
  let actionV: Verdict = 'true'
  if (action === '') { actionV = 'false'; mismatches.push('the request names no action') } else if (!action.includes(':')) { actionV = 'false'; mismatches.push(`the action "${action}" has no service prefix: IAM actions are written service:Action`) }

  if (statement.Action !== undefined) {
    const pats = asList(statement.Action)
    if (action !== '' && !pats.some(p => actionMatches(String(p), action))) { actionV = 'false'; mismatches.push(`Action ${fmt(pats)} does not cover "${action}"`) }
  } else if (statement.NotAction !== undefined) {
    const pats = asList(statement.NotAction)
    if (action !== '' && pats.some(p => actionMatches(String(p), action))) { actionV = 'false'; mismatches.push(`NotAction ${fmt(pats)} excludes "${action}"`) }
  } else {
    actionV = 'false'
    mismatches.push('the statement has neither Action nor NotAction')
  }

  const resource = request.resource
  const shown = resource === null || resource === '' ? 'no resource' : `"${resource}"`
  let resourceV: Verdict = 'true'
  // A pattern with an unresolved variable matches nothing, or nothing we can tell of (incomplete context).
  const covers = (p: string): Verdict => {
    const s = opts.variables === false ? { value: p, missing: null } : substitute(p, request.conditions)
    if (s.missing !== null) return request.complete === false ? 'unknown' : 'false'
    return resourceMatches(s.value, resource) ? 'true' : 'false'
  }
  const anyOf = (pats: string[]): Verdict => {
    const vs = pats.map(p => covers(String(p)))
    return vs.includes('true') ? 'true' : vs.includes('unknown') ? 'unknown' : 'false'
  }
  if (statement.Resource !== undefined) {
    const pats = asList(statement.Resource)
    resourceV = anyOf(pats)
    if (resourceV !== 'true') mismatches.push(resourceV === 'false' ? `Resource ${fmt(pats)} does not cover ${shown}` : `Resource ${fmt(pats)} uses a policy variable the message does not show`)
  } else if (statement.NotResource !== undefined) {
    const pats = asList(statement.NotResource)
    const v = anyOf(pats)
    resourceV = v === 'true' ? 'false' : v === 'false' ? 'true' : 'unknown'
    if (resourceV !== 'true') mismatches.push(resourceV === 'false' ? `NotResource ${fmt(pats)} excludes ${shown}` : `NotResource ${fmt(pats)} uses a policy variable the message does not show`)
  } else if (statement.Principal === undefined && statement.NotPrincipal === undefined) {
    // Resource-based policies may leave Resource out (a role's trust policy): the resource is the one it is attached to.
    resourceV = 'false'
    mismatches.push('the statement has neither Resource nor NotResource')
  }

  const principal = principalVerdict(statement, request)
  if (principal.why !== null) mismatches.push(principal.why)

  const conditions: StatementVerdict['conditions'] = []
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, values] of Object.entries(keys ?? {})) {
      const c = conditionVerdict(operator, key, values, request, opts)
      conditions.push({ operator, key, verdict: c.verdict, why: c.why })
      if (c.why !== null) mismatches.push(c.why)
    }
  }
  const verdict = and([actionV, resourceV, principal.verdict, ...conditions.map(c => c.verdict)])
  return { verdict, action: actionV, resource: resourceV, principal: principal.verdict, conditions, mismatches }
}

/** Does the statement apply to the request (action, resource and every condition)? Effect is not considered. */
export function statementMatches (statement: PolicyStatement, request: MatchRequest): MatchResult {
  const v = statementVerdict(statement, request)
  return { matches: v.verdict === 'true', mismatches: v.mismatches }
}
