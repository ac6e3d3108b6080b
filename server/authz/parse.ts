/** Parse one decoded authorization message (any accepted envelope) into a normalised ParsedMessage. */
import { createHash } from 'node:crypto'
import type { ConditionValue, Decision, MatchedStatement, ParsedMessage } from './types.js'
import { explainJsonError } from '../util/json-errors.js'

/** Bounds for untrusted input; documented in README ("Limits"). */
export const Limits = {
  /** One record (its JSON text) may not exceed this many bytes. */
  maxRecordBytes: 1024 * 1024,
  /** Deeper JSON is refused: real messages nest about 8 levels. */
  maxDepth: 64
} as const

/** A record-level problem; `field` names the JSON path when there is one. */
export class RecordError extends Error {
  constructor (reason: string, readonly field?: string) {
    super(field ? `${reason} (field ${field})` : reason)
    this.name = 'RecordError'
  }
}

export interface ParsedEnvelope {
  message: ParsedMessage
  observedAt: string | null
  source: string | null
}

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Signs that a page or a person shortened the text: AWS never emits these. */
const ELISION = /\(\s*(?:\.\.\.|…)\s*\)|(?:\.\.\.|…)\s*$|^\s*(?:\.\.\.|…)/

/**
 * Turn a parsed JSON value into a decoded message plus its envelope metadata.
 * Accepts the AWS CLI output `{"DecodedMessage": "..."}`, our envelope (with observedAt/source,
 * DecodedMessage as string or object), and the bare decoded object.
 */
export function parseEnvelope (value: unknown): ParsedEnvelope {
  if (!isObj(value)) throw new RecordError(notAnObject(value)!)
  checkTree(value)
  let decoded: Obj
  let raw: string
  let observedAt: string | null = null
  let source: string | null = null
  if ('DecodedMessage' in value) {
    const dm = value.DecodedMessage
    if (typeof dm === 'string') {
      raw = dm
      decoded = parseDecodedString(dm)
    } else if (isObj(dm)) {
      decoded = dm
      raw = JSON.stringify(dm)
    } else {
      throw new RecordError(`DecodedMessage must be a JSON string or object, got ${describe(dm)}`, 'DecodedMessage')
    }
    const fields = envelopeFields(value)
    observedAt = fields.observedAt
    source = fields.source
  } else if (looksDecoded(value)) {
    decoded = value
    raw = JSON.stringify(value)
  } else {
    const keys = Object.keys(value).slice(0, 5).join(', ')
    throw new RecordError(`not a decoded authorization message: expected "DecodedMessage" or the keys "allowed", "explicitDeny" and "context", found ${keys ? `{${keys}}` : 'an empty object'}`)
  }
  return { message: normalise(decoded, raw), observedAt, source }
}

/** observedAt and source of our envelope, checked. */
function envelopeFields (value: Obj): { observedAt: string | null, source: string | null } {
  const observedAt = value.observedAt !== undefined ? parseObservedAt(value.observedAt) : null
  if (value.source !== undefined && typeof value.source !== 'string') throw new RecordError('source must be a string', 'source')
  return { observedAt, source: value.source !== undefined ? value.source.slice(0, 500) : null }
}

/** The decoded message's text, when `value` is an envelope that holds it as a JSON string (the AWS CLI's output, ours). */
export function decodedText (value: unknown): string | null {
  return isObj(value) && typeof value.DecodedMessage === 'string' ? value.DecodedMessage : null
}

/**
 * parseEnvelope for an envelope whose decodedText() parsed before without a problem: every check it
 * makes but reading that text again (it would pass the same way), and the envelope's own fields.
 */
export function parseKnownEnvelope (value: unknown): { observedAt: string | null, source: string | null } {
  if (!isObj(value)) throw new RecordError(notAnObject(value)!)
  checkTree(value)
  return envelopeFields(value)
}

/** The reason a record that is not a JSON object is refused (null for an object): no exception needed. */
export function notAnObject (value: unknown): string | null {
  return isObj(value) ? null : `expected a JSON object, got ${describe(value)}`
}

function looksDecoded (v: Obj): boolean {
  return 'context' in v && ('allowed' in v || 'explicitDeny' in v)
}

function parseDecodedString (text: string): Obj {
  if (text.trim() === '') throw new RecordError('DecodedMessage is empty', 'DecodedMessage')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    if (ELISION.test(text)) {
      throw new RecordError('DecodedMessage has been elided ("..." or "(...)"): copy the complete message, not a shortened one from a web page', 'DecodedMessage')
    }
    throw new RecordError(`DecodedMessage is not valid JSON: ${explainJsonError(text, err as Error, 'DecodedMessage').sentence}`, 'DecodedMessage')
  }
  // The tree walk is exact but costs as much as parsing; the text tells us when it is needed.
  if (!textIsPlain(text)) checkTree(parsed, 'DecodedMessage')
  if (!isObj(parsed) || !looksDecoded(parsed)) {
    throw new RecordError('DecodedMessage does not hold a decoded authorization message (expected "allowed", "explicitDeny" and "context")', 'DecodedMessage')
  }
  return parsed
}

function parseObservedAt (v: unknown): string {
  if (typeof v !== 'string') throw new RecordError('observedAt must be an ISO-8601 string', 'observedAt')
  // Require a date and, when a time is given, an explicit zone: a zoneless time is ambiguous.
  if (!/^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))?$/.test(v)) {
    throw new RecordError(`observedAt "${clip(v)}" is not an ISO-8601 date-time with a time zone (e.g. 2026-11-28T10:15:00Z)`, 'observedAt')
  }
  const t = Date.parse(v)
  if (Number.isNaN(t)) throw new RecordError(`observedAt "${clip(v)}" is not a valid date`, 'observedAt')
  return new Date(t).toISOString()
}

/**
 * Bound depth, and refuse characters that cannot round-trip through SQLite's UTF-8 text:
 * NUL and unpaired surrogates. Iterative, so hostile nesting cannot overflow the stack.
 */
export function checkTree (root: unknown, rootPath = '$'): void {
  const stack: Array<[unknown, string, number]> = [[root, rootPath, 1]]
  while (stack.length > 0) {
    const [v, path, depth] = stack.pop()!
    if (depth > Limits.maxDepth) throw new RecordError(`JSON nesting deeper than ${Limits.maxDepth} levels`, path)
    if (typeof v === 'string') checkString(v, path)
    else if (Array.isArray(v)) v.forEach((x, i) => stack.push([x, `${path}[${i}]`, depth + 1]))
    else if (isObj(v)) {
      for (const [k, x] of Object.entries(v)) {
        checkString(k, `${path}.${k}`)
        stack.push([x, `${path}.${k}`, depth + 1])
      }
    }
  }
}

/**
 * True when JSON text cannot hold what checkTree refuses: no escaped NUL or surrogate, and
 * fewer opening brackets than the depth limit allows (an over-estimate of the depth).
 */
function textIsPlain (text: string): boolean {
  if (text.includes('\\u0000') || /\\u[dD][89a-fA-F]/.test(text)) return false
  let depth = 0
  let max = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 123 || c === 91) { if (++depth > max) max = depth } else if (c === 125 || c === 93) depth--
  }
  return max <= Limits.maxDepth
}

function checkString (s: string, path: string): void {
  if (s.includes('\u0000')) throw new RecordError('contains a NUL character', path)
  if (!s.isWellFormed()) throw new RecordError('contains invalid Unicode (an unpaired surrogate)', path)
}

/** sha256 of the canonical JSON (keys sorted, no whitespace): pretty and compact copies are one denial. */
export function contentHash (value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex')
}

export function canonicalJson (value: unknown): string {
  const out: string[] = []
  writeCanonical(value, out)
  return out.join('')
}

function writeCanonical (v: unknown, out: string[]): void {
  if (v === null || typeof v !== 'object') {
    out.push(JSON.stringify(v) ?? 'null')
  } else if (Array.isArray(v)) {
    out.push('[')
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',')
      writeCanonical(v[i], out)
    }
    out.push(']')
  } else {
    const o = v as Obj
    const keys = Object.keys(o).sort()
    out.push('{')
    for (let i = 0; i < keys.length; i++) {
      if (i > 0) out.push(',')
      out.push(JSON.stringify(keys[i]), ':')
      writeCanonical(o[keys[i]!], out)
    }
    out.push('}')
  }
}

function normalise (d: Obj, raw: string): ParsedMessage {
  const context = d.context
  if (!isObj(context)) throw new RecordError('"context" must be an object', 'context')
  const explicitDeny = d.explicitDeny === true
  const allowed = d.allowed === true
  for (const k of ['allowed', 'explicitDeny'] as const) {
    if (d[k] !== undefined && typeof d[k] !== 'boolean') throw new RecordError(`"${k}" must be true or false`, k)
  }
  const decision: Decision = explicitDeny ? 'explicit-deny' : allowed ? 'allowed' : 'implicit-deny'

  const conditions = readConditionItems(context.conditions, 'context.conditions')
    .flatMap(({ key, values }) => values.map((value, valueIndex) => ({ key, value, valueIndex })))
    .map((c, position): ConditionValue => ({ ...c, position }))
  const cond = (key: string): string | null => {
    const k = key.toLowerCase()
    return conditions.find(c => c.key.toLowerCase() === k)?.value ?? null
  }

  const p = context.principal === undefined ? {} : context.principal
  if (!isObj(p)) throw new RecordError('"context.principal" must be an object', 'context.principal')
  const principal = parsePrincipal(optString(p, 'arn', 'context.principal'), optString(p, 'id', 'context.principal'), optString(p, 'name', 'context.principal'))
  if (principal.account === null) principal.account = cond('aws:PrincipalAccount')

  const resource = optString(context, 'resource', 'context')
  const actionRaw = optString(context, 'action', 'context')
  // Every decision AWS encodes is about an action: without one, the record would be stored as a
  // denial of nothing, which no search or report can place.
  if (actionRaw === null || actionRaw.trim() === '') {
    throw new RecordError(`no action: "context.action" is ${actionRaw === null ? 'missing' : 'empty'}; a decoded authorization message names the action that was decided`, 'context.action')
  }
  const { action, service } = normaliseAction(actionRaw, cond('aws:Service'), resource)
  const region = cond('aws:RequestedRegion') ?? cond('aws:Region') ?? arnPart(resource, 3)

  return {
    raw,
    contentHash: contentHash(d),
    kind: 'decoded',
    decision,
    policyType: null,
    policyArn: null,
    principal,
    action,
    actionRaw,
    service,
    resource,
    region: region === '' ? null : region,
    conditions,
    statements: readItems(d.matchedStatements, 'matchedStatements').map((s, i) => parseStatement(s, `matchedStatements.items[${i}]`)),
    failures: readItems(d.failures, 'failures')
  }
}

function optString (o: Obj, key: string, where: string): string | null {
  const v = o[key]
  if (v === undefined || v === null) return null
  if (typeof v !== 'string') throw new RecordError(`"${key}" must be a string, got ${describe(v)}`, `${where}.${key}`)
  return v
}

/** AWS wraps every list as `{"items": [...]}`; tolerate a bare array and a missing list. */
function readItems (v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return []
  if (Array.isArray(v)) return v
  if (isObj(v)) {
    if (v.items === undefined || v.items === null) return []
    if (Array.isArray(v.items)) return v.items
  }
  throw new RecordError('expected {"items": [...]}', path)
}

function readValues (v: unknown, path: string): string[] {
  return readItems(v, path).map((item, i) => {
    const x = isObj(item) && 'value' in item ? item.value : item
    // A value can itself be JSON text (["sg-0123"]): strings are kept as they are, anything else as JSON.
    return typeof x === 'string' ? x : JSON.stringify(x) ?? `${path}[${i}]`
  })
}

function readConditionItems (v: unknown, path: string): Array<{ key: string, values: string[] }> {
  return readItems(v, path).map((item, i) => {
    const at = `${path}.items[${i}]`
    if (!isObj(item) || typeof item.key !== 'string') throw new RecordError('a condition needs a string "key"', at)
    return { key: item.key, values: readValues(item.values, `${at}.values`) }
  })
}

function parseStatement (s: unknown, path: string): MatchedStatement {
  if (!isObj(s)) throw new RecordError('a matched statement must be an object', path)
  return {
    statementId: optString(s, 'statementId', path),
    effect: optString(s, 'effect', path),
    principals: readValues(s.principals, `${path}.principals`),
    principalGroups: readValues(s.principalGroups, `${path}.principalGroups`),
    actions: readValues(s.actions, `${path}.actions`),
    resources: readValues(s.resources, `${path}.resources`),
    conditions: readConditionItems(s.conditions, `${path}.conditions`)
  }
}

/** Field `i` of an ARN (arn:partition:service:region:account:resource), or null. */
export function arnPart (arn: string | null, i: number): string | null {
  if (!arn?.startsWith('arn:')) return null
  const parts = arn.split(':')
  if (parts.length < 6) return null
  return parts[i] ?? null
}

export function parsePrincipal (arn: string | null, id: string | null, name: string | null): ParsedMessage['principal'] {
  const out: ParsedMessage['principal'] = { arn, id, name, type: null, account: null, roleArn: null, sessionName: null }
  if (arn === null) return out
  const account = arnPart(arn, 4)
  out.account = account === '' ? null : account
  const resource = arn.split(':').slice(5).join(':')
  const partition = arnPart(arn, 1) ?? 'aws'
  if (resource === 'root') { out.type = 'root'; return out }
  const slash = resource.indexOf('/')
  const kind = slash < 0 ? resource : resource.slice(0, slash)
  out.type = kind || null
  if (kind === 'assumed-role') {
    // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION: the role path is not in the ARN, so none is guessed.
    const rest = resource.slice(slash + 1)
    const cut = rest.lastIndexOf('/')
    const role = cut < 0 ? rest : rest.slice(0, cut)
    out.sessionName = cut < 0 ? null : rest.slice(cut + 1)
    out.roleArn = `arn:${partition}:iam::${out.account ?? ''}:role/${role}`
  }
  return out
}

/** `RunInstances` → `ec2:RunInstances`, taking the service from aws:Service or the resource ARN. */
export function normaliseAction (raw: string | null, serviceCondition: string | null, resource: string | null): { action: string | null, service: string | null } {
  if (raw === null || raw === '') return { action: raw, service: null }
  const colon = raw.indexOf(':')
  if (colon > 0) return { action: `${raw.slice(0, colon).toLowerCase()}${raw.slice(colon)}`, service: raw.slice(0, colon).toLowerCase() }
  const service = (serviceCondition ?? arnPart(resource, 2) ?? '').toLowerCase()
  if (service === '') return { action: raw, service: null }
  return { action: `${service}:${raw}`, service }
}

function describe (v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return `a ${typeof v}`
}

function clip (s: string, n = 60): string {
  return s.length > n ? `${s.slice(0, n)}…` : s
}
