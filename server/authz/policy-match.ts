/**
 * A small IAM statement matcher: does one policy statement apply to one request? Enough of IAM to
 * check our own suggestions against stored requests, and to say *why* something does not match.
 *
 * Covered: Action/NotAction (wildcards, case-insensitive), Resource/NotResource (ARN globs `*` `?`,
 * case-sensitive), policy variables `${key}` in resources and condition values, and the condition
 * operators String*, Arn*, Bool, Numeric*, Date*, Null, each with `…IfExists` and the set prefixes
 * `ForAnyValue:` / `ForAllValues:`. IP address operators are reported as unsupported, never guessed.
 */

/** An IAM policy statement, as it appears in a policy document. */
export interface PolicyStatement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Action?: string | string[]
  NotAction?: string | string[]
  Resource?: string | string[]
  NotResource?: string | string[]
  /** operator → condition key → value(s), e.g. {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}} */
  Condition?: Record<string, Record<string, string | string[] | boolean | number>>
}

/** The request a statement is checked against; condition keys compare case-insensitively. */
export interface MatchRequest {
  action: string | null
  resource: string | null
  conditions: Map<string, string[]> | Record<string, string[]>
}

export interface MatchResult {
  matches: boolean
  /** One sentence per part of the statement that does not match the request (empty when it matches). */
  mismatches: string[]
}

const asList = (v: string | string[] | undefined): string[] => v === undefined ? [] : Array.isArray(v) ? v : [v]

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
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
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

/**
 * Does a Resource pattern cover the resource ARN? The ARN's resource part is case-sensitive; a
 * request without a resource (or with `*`) is only covered by the pattern `*`.
 */
export function resourceMatches (pattern: string, resource: string | null): boolean {
  if (pattern === '*') return true
  if (resource === null || resource === '' || resource === '*') return false
  return globMatch(pattern, resource)
}

/** Case-insensitive lookup of a condition key's values; undefined when the request lacks the key. */
export function lookup (conditions: MatchRequest['conditions'], key: string): string[] | undefined {
  const k = key.toLowerCase()
  const entries = conditions instanceof Map ? conditions.entries() : Object.entries(conditions)
  for (const [name, values] of entries) if (name.toLowerCase() === k) return values
  return undefined
}

/** Replace `${key}` with the request's (single) value; `${*}`, `${?}`, `${$}` are the literal characters. */
function substitute (value: string, conditions: MatchRequest['conditions']): { value: string, missing: string | null } {
  let missing: string | null = null
  const out = value.replace(/\$\{([^}]{1,128})\}/g, (whole, inner: string) => {
    if (inner === '*' || inner === '?' || inner === '$') return inner
    const [key, fallback] = splitDefault(inner)
    const v = lookup(conditions, key)
    if (v && v.length === 1) return v[0]!
    if (fallback !== null) return fallback
    missing = key
    return whole
  })
  return { value: out, missing }
}

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
  return { base: rest, negated: /Not/.test(rest), ifExists, set }
}

const NUM = (s: string): number => (/^\s*-?\d+(\.\d+)?\s*$/.test(s) ? Number(s) : Number.NaN)
const DATE = (s: string): number => (/^\d+$/.test(s) ? Number(s) * 1000 : Date.parse(s))

/** One request value against one policy value, for the positive form of the operator. Null: unsupported. */
function compareOne (base: string, requestValue: string, policyValue: string): boolean | null {
  switch (base.replace(/Not/, '')) {
    case 'StringEquals': return requestValue === policyValue
    case 'StringEqualsIgnoreCase': return requestValue.toLowerCase() === policyValue.toLowerCase()
    case 'StringLike': return globMatch(policyValue, requestValue)
    // IAM treats ArnEquals like ArnLike: both accept wildcards in each ARN field.
    case 'ArnEquals':
    case 'ArnLike': return globMatch(policyValue, requestValue)
    case 'Bool': return requestValue.toLowerCase() === policyValue.toLowerCase()
    case 'BinaryEquals': return requestValue === policyValue
    case 'NumericEquals': return NUM(requestValue) === NUM(policyValue)
    case 'NumericLessThan': return NUM(requestValue) < NUM(policyValue)
    case 'NumericLessThanEquals': return NUM(requestValue) <= NUM(policyValue)
    case 'NumericGreaterThan': return NUM(requestValue) > NUM(policyValue)
    case 'NumericGreaterThanEquals': return NUM(requestValue) >= NUM(policyValue)
    case 'DateEquals': return DATE(requestValue) === DATE(policyValue)
    case 'DateLessThan': return DATE(requestValue) < DATE(policyValue)
    case 'DateLessThanEquals': return DATE(requestValue) <= DATE(policyValue)
    case 'DateGreaterThan': return DATE(requestValue) > DATE(policyValue)
    case 'DateGreaterThanEquals': return DATE(requestValue) >= DATE(policyValue)
    default: return null
  }
}

const fmt = (vs: string[]): string => vs.length === 1 ? `"${vs[0]}"` : `[${vs.map(v => `"${v}"`).join(', ')}]`

/** Evaluate one (operator, key, values) condition; returns null when it holds, else why not. */
export function conditionMismatch (operator: string, key: string, rawValues: string | string[] | boolean | number, request: MatchRequest): string | null {
  const op = parseOperator(operator)
  const policyValues = (Array.isArray(rawValues) ? rawValues : [rawValues]).map(v => String(v))
  const present = lookup(request.conditions, key)
  const label = `${operator} ${key}`

  if (/^Null$/i.test(op.base)) {
    const wantAbsent = policyValues.some(v => v.toLowerCase() === 'true')
    const absent = present === undefined || present.length === 0
    if (absent === wantAbsent) return null
    return wantAbsent ? `${label}: the statement wants the key absent, the request has ${fmt(present ?? [])}` : `${label}: the statement wants the key present, the request does not have it`
  }
  if (/^(Not)?IpAddress$/i.test(op.base)) return `${label}: IP address conditions are not checked by whydenied's matcher`
  if (compareOne(op.base, '', '') === null) return `${label}: operator ${op.base} is not supported by whydenied's matcher`

  const substituted: string[] = []
  for (const v of policyValues) {
    const s = substitute(v, request.conditions)
    if (s.missing !== null) return `${label}: the policy variable \${${s.missing}} has no single value in the request`
    substituted.push(s.value)
  }

  if (present === undefined || present.length === 0) {
    if (op.ifExists) return null
    if (op.set === 'all') return null // ForAllValues over an empty set is true.
    if (op.set === null && op.negated) return null
    return `${label}: the request has no ${key} (the statement wants ${fmt(substituted)})`
  }

  const anyPolicy = (rv: string): boolean => substituted.some(pv => compareOne(op.base, rv, pv) === true)
  // The negated operators hold for a value that matches none of the policy values.
  const holds = (rv: string): boolean => op.negated ? !anyPolicy(rv) : anyPolicy(rv)
  let ok: boolean
  if (op.set === 'all') ok = present.every(holds)
  else if (op.set === 'any') ok = present.some(holds)
  else ok = op.negated ? present.every(holds) : present.some(holds)
  if (ok) return null
  return `${label}: the request has ${fmt(present)}, the statement ${op.negated ? 'excludes' : 'wants'} ${fmt(substituted)}`
}

/** Does the statement apply to the request (action, resource and every condition)? Effect is not considered. */
export function statementMatches (statement: PolicyStatement, request: MatchRequest): MatchResult {
  const mismatches: string[] = []
  const action = request.action ?? ''
  if (action === '') mismatches.push('the request names no action')
  else if (!action.includes(':')) mismatches.push(`the action "${action}" has no service prefix: IAM actions are written service:Action`)

  if (statement.Action !== undefined) {
    const pats = asList(statement.Action)
    if (action !== '' && !pats.some(p => actionMatches(p, action))) mismatches.push(`Action ${fmt(pats)} does not cover "${action}"`)
  } else if (statement.NotAction !== undefined) {
    const pats = asList(statement.NotAction)
    if (action !== '' && pats.some(p => actionMatches(p, action))) mismatches.push(`NotAction ${fmt(pats)} excludes "${action}"`)
  } else {
    mismatches.push('the statement has neither Action nor NotAction')
  }

  const resource = request.resource
  const shown = resource === null || resource === '' ? 'no resource' : `"${resource}"`
  const resolve = (p: string): string => substitute(p, request.conditions).value
  if (statement.Resource !== undefined) {
    const pats = asList(statement.Resource)
    if (!pats.some(p => resourceMatches(resolve(p), resource))) mismatches.push(`Resource ${fmt(pats)} does not cover ${shown}`)
  } else if (statement.NotResource !== undefined) {
    const pats = asList(statement.NotResource)
    if (pats.some(p => resourceMatches(resolve(p), resource))) mismatches.push(`NotResource ${fmt(pats)} excludes ${shown}`)
  } else {
    mismatches.push('the statement has neither Resource nor NotResource')
  }

  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, values] of Object.entries(keys ?? {})) {
      const why = conditionMismatch(operator, key, values, request)
      if (why !== null) mismatches.push(why)
    }
  }
  return { matches: mismatches.length === 0, mismatches }
}
