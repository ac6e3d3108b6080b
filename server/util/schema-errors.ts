/**
 * One problem a person can act on, from the validation errors of a TypeBox schema: the field as
 * written in the file (`teams[0].accounts[1]`) and what was expected there. Used for the files we
 * read (the teams file, the mock STS identities file).
 */
import type { TSchema } from './typebox.js'
import type { Validator } from './typebox.js'
import type { TLocalizedValidationError } from './typebox.js'

export interface SchemaProblem {
  /** The field (`teams[0].name`), or null for the document itself. */
  field: string | null
  reason: string
}

const TYPE_WORDS: Record<string, string> = {
  array: 'a list',
  object: 'a mapping',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  null: 'empty'
}

/** The most specific problem of `value`, or null when it is valid. `root` names a top-level list (`identities`). */
export function schemaProblem (validator: Validator<{}, TSchema>, value: unknown, root = ''): SchemaProblem | null {
  if (validator.Check(value)) return null
  // anyOf only says "one branch failed" and a false schema repeats additionalProperties: the branches say more.
  const errors = validator.Errors(value).filter(e => e.keyword !== 'anyOf' && e.keyword !== 'boolean')
  if (errors.length === 0) return { field: null, reason: 'is not valid' }
  const located = errors.map(e => ({ e, segments: segmentsOf(e) }))
  const depth = Math.max(...located.map(l => l.segments.length))
  const deepest = located.filter(l => l.segments.length === depth)
  const specific = deepest.find(l => l.e.keyword !== 'type')
  const field = fieldName(root, (specific ?? deepest[0]!).segments)
  if (specific) return { field, reason: reasonOf(specific.e, validator.Type()) }
  // Only type errors here, one per branch of a union: name every accepted type.
  const types = [...new Set(deepest.map(l => TYPE_WORDS[String((l.e.params as { type?: unknown }).type)] ?? String((l.e.params as { type?: unknown }).type)))]
  return { field, reason: `must be ${types.join(' or ')}` }
}

/** The path of the field an error is about: required and additionalProperties errors name a child of instancePath. */
function segmentsOf (e: TLocalizedValidationError): string[] {
  const segments = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/').map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (e.keyword === 'required') return [...segments, (e.params as { requiredProperties: string[] }).requiredProperties[0]!]
  if (e.keyword === 'additionalProperties') return [...segments, (e.params as { additionalProperties: string[] }).additionalProperties[0]!]
  return segments
}

function fieldName (root: string, segments: string[]): string | null {
  const name = segments.reduce((out, s) => /^\d+$/.test(s) ? `${out}[${s}]` : out === '' ? s : `${out}.${s}`, root)
  return name === '' ? null : name
}

function reasonOf (e: TLocalizedValidationError, schema: TSchema): string {
  const params = e.params as Record<string, unknown>
  switch (e.keyword) {
    case '~refine': return e.message
    case 'required': {
      const about = schemaAt(schema, `${e.schemaPath}/properties/${String((params.requiredProperties as string[])[0])}`)?.description
      return about ? `is missing: ${String(about)}` : 'is missing'
    }
    case 'additionalProperties': {
      const known = Object.keys((schemaAt(schema, e.schemaPath)?.properties ?? {}) as object)
      return `is not a known field (expected ${known.join(', ')})`
    }
    case 'minLength': return params.limit === 1 ? 'must be a non-empty string' : `must be at least ${String(params.limit)} characters long`
    case 'maxLength': return `is longer than ${String(params.limit)} characters`
    case 'minItems': return params.limit === 1 ? 'must list at least one entry' : `must list at least ${String(params.limit)} entries`
    case 'maxItems': return `lists more than ${String(params.limit)} entries`
    default: return e.message
  }
}

/** The sub-schema at a schemaPath (`#/properties/teams/items`). */
function schemaAt (schema: TSchema, pointer: string): Record<string, unknown> | undefined {
  let node: unknown = schema
  for (const s of pointer.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string, unknown>)[s.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return typeof node === 'object' && node !== null ? node as Record<string, unknown> : undefined
}
