/**
 * Policy documents are untrusted input: read one (a JSON object, JSON text, or the URL-encoded text
 * IAM's API returns) into a checked PolicyDocument, bounded in size, with a reason naming the field
 * when it is not one.
 */
import type { ConditionValues, PolicyStatement } from '../policy-match.js'
import type { PolicyDocument } from './types.js'

/** Bounds on one document: IAM's own limits are far lower (6,144 characters for a managed policy, 10,240 inline). */
export const DocumentLimits = {
  maxChars: 131072,
  maxStatements: 500,
  maxValuesPerElement: 1000,
  maxStringLength: 4096
} as const

export class PolicyDocumentError extends Error {
  constructor (reason: string, readonly field: string) {
    super(`${field}: ${reason}`)
    this.name = 'PolicyDocumentError'
  }
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** JSON text, possibly URL-encoded (get-account-authorization-details as the raw API returns it), to a value. */
function fromText (text: string, field: string): unknown {
  if (text.length > DocumentLimits.maxChars * 3) throw new PolicyDocumentError(`the document is larger than ${DocumentLimits.maxChars} characters`, field)
  let t = text.trim()
  if (t.startsWith('%7B') || t.startsWith('%7b')) {
    try { t = decodeURIComponent(t) } catch { throw new PolicyDocumentError('the URL-encoded document does not decode', field) }
  }
  try {
    return JSON.parse(t)
  } catch (err) {
    throw new PolicyDocumentError(`not valid JSON (${(err as Error).message.slice(0, 120)})`, field)
  }
}

function str (v: unknown, field: string): string {
  if (typeof v !== 'string') throw new PolicyDocumentError(`expected a string, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`, field)
  if (v.length > DocumentLimits.maxStringLength) throw new PolicyDocumentError(`longer than ${DocumentLimits.maxStringLength} characters`, field)
  return v
}

function strings (v: unknown, field: string): string | string[] {
  if (Array.isArray(v)) {
    if (v.length === 0) throw new PolicyDocumentError('an empty list', field)
    if (v.length > DocumentLimits.maxValuesPerElement) throw new PolicyDocumentError(`more than ${DocumentLimits.maxValuesPerElement} values`, field)
    return v.map((x, i) => str(x, `${field}[${i}]`))
  }
  return str(v, field)
}

function conditionValues (v: unknown, field: string): ConditionValues {
  const one = (x: unknown, f: string): string | boolean | number => {
    if (typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x))) return x
    return str(x, f)
  }
  if (Array.isArray(v)) {
    if (v.length > DocumentLimits.maxValuesPerElement) throw new PolicyDocumentError(`more than ${DocumentLimits.maxValuesPerElement} values`, field)
    return v.map((x, i) => one(x, `${field}[${i}]`))
  }
  return one(v, field)
}

function principal (v: unknown, field: string): PolicyStatement['Principal'] {
  if (v === '*') return '*'
  if (!isObj(v)) throw new PolicyDocumentError('expected "*" or an object such as {"AWS": "arn:..."}', field)
  // fromEntries defines own properties: a "__proto__" key in the input stays a plain key.
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [str(k, field), strings(x, `${field}.${k}`)]))
}

function statement (v: unknown, field: string): PolicyStatement {
  if (!isObj(v)) throw new PolicyDocumentError('expected a statement object', field)
  const effect = v.Effect
  if (effect !== 'Allow' && effect !== 'Deny') throw new PolicyDocumentError(`Effect must be "Allow" or "Deny", got ${JSON.stringify(effect)?.slice(0, 40)}`, `${field}.Effect`)
  // Keys in the order people write them (Sid, Effect, Principal, Action, Resource, Condition): a fix's diff reads naturally.
  const s: PolicyStatement = v.Sid !== undefined ? { Sid: str(v.Sid, `${field}.Sid`), Effect: effect } : { Effect: effect }
  if (v.Principal !== undefined) s.Principal = principal(v.Principal, `${field}.Principal`)
  if (v.NotPrincipal !== undefined) s.NotPrincipal = principal(v.NotPrincipal, `${field}.NotPrincipal`)
  for (const k of ['Action', 'NotAction', 'Resource', 'NotResource'] as const) {
    if (v[k] !== undefined) s[k] = strings(v[k], `${field}.${k}`)
  }
  if (s.Action !== undefined && s.NotAction !== undefined) throw new PolicyDocumentError('has both Action and NotAction', field)
  if (s.Resource !== undefined && s.NotResource !== undefined) throw new PolicyDocumentError('has both Resource and NotResource', field)
  if (v.Condition !== undefined) {
    if (!isObj(v.Condition)) throw new PolicyDocumentError('expected an object of operators', `${field}.Condition`)
    s.Condition = Object.fromEntries(Object.entries(v.Condition).map(([op, keys]) => {
      const f = `${field}.Condition.${str(op, `${field}.Condition`)}`
      if (!isObj(keys)) throw new PolicyDocumentError('expected an object of condition keys', f)
      return [op, Object.fromEntries(Object.entries(keys).map(([key, values]): [string, ConditionValues] => [str(key, f), conditionValues(values, `${f}.${key}`)]))]
    }))
  }
  return s
}

/** Read and check one policy document; `field` names where it came from, for the reason. */
export function readPolicyDocument (input: unknown, field = 'document'): PolicyDocument {
  const value = typeof input === 'string' ? fromText(input, field) : input
  if (!isObj(value)) throw new PolicyDocumentError('expected a policy document object {"Version", "Statement"}', field)
  const size = JSON.stringify(value).length
  if (size > DocumentLimits.maxChars) throw new PolicyDocumentError(`the document is larger than ${DocumentLimits.maxChars} characters (${size})`, field)
  const raw = value.Statement
  if (raw === undefined) throw new PolicyDocumentError('no Statement', `${field}.Statement`)
  const list = Array.isArray(raw) ? raw : [raw]
  if (list.length > DocumentLimits.maxStatements) throw new PolicyDocumentError(`more than ${DocumentLimits.maxStatements} statements`, `${field}.Statement`)
  const version = value.Version === undefined ? undefined : str(value.Version, `${field}.Version`)
  const id = value.Id === undefined ? undefined : str(value.Id, `${field}.Id`)
  const Statement = list.map((s, i) => statement(s, Array.isArray(raw) ? `${field}.Statement[${i}]` : `${field}.Statement`))
  return { ...(version !== undefined ? { Version: version } : {}), ...(id !== undefined ? { Id: id } : {}), Statement }
}
