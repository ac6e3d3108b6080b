/**
 * Who may call the mock STS: a JSON file of identities (access key, secret, optional session token,
 * the principal's ARN/UserId/Account, and whether it may call sts:DecodeAuthorizationMessage).
 * The default ships in fixtures/sts/identities.json (keys `test`/`test` may decode, `denied`/`denied` may not).
 * Validated against a TypeBox schema: errors name the file, the field and what was expected.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { Compile, Type, type Static } from '../util/typebox.js'
import { schemaProblem } from '../util/schema-errors.js'
import { IdentitiesFileError } from '../errors.js'
import { fixturesDir } from '../paths.js'

export interface StsIdentity {
  accessKeyId: string
  secretAccessKey: string
  /** Temporary credentials: requests must carry exactly this X-Amz-Security-Token. */
  sessionToken: string | null
  arn: string
  userId: string
  account: string
  /** Whether an identity-based policy allows sts:DecodeAuthorizationMessage. */
  canDecode: boolean
}

export type IdentityTable = ReadonlyMap<string, StsIdentity>

const NonEmpty = (description: string) => Type.String({ minLength: 1, description })

/** One identity as written in the file (fields other than these are ignored, as before). */
export const IdentityEntrySchema = Type.Object({
  accessKeyId: Type.Refine(NonEmpty('the access key ID clients sign with'), v => /^[\x21-\x7e]+$/.test(v) && !v.includes('/'),
    () => 'must be printable ASCII without spaces or "/"'),
  secretAccessKey: NonEmpty('the secret access key'),
  sessionToken: Type.Optional(Type.Union([NonEmpty('temporary credentials: the X-Amz-Security-Token requests must carry'), Type.Null()])),
  arn: Type.Refine(NonEmpty('the principal ARN (arn:aws:iam::111122223333:user/name)'), v => /^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+/.test(v),
    v => `${JSON.stringify(v)} is not an IAM or STS principal ARN`),
  userId: NonEmpty('the unique ID GetCallerIdentity answers'),
  account: NonEmpty('the 12-digit account ID'),
  canDecode: Type.Boolean({ description: 'true if an identity-based policy allows sts:DecodeAuthorizationMessage' })
})
export type IdentityEntry = Static<typeof IdentityEntrySchema>

const IdentityListSchema = Type.Array(IdentityEntrySchema, { minItems: 1 })
export const IdentitiesFileSchema = Type.Object({ identities: IdentityListSchema })
export type IdentitiesFile = Static<typeof IdentitiesFileSchema>

const identityListValidator = Compile(IdentityListSchema)
// For anything but an array: a wrong type is then told as "must be a list or a mapping".
const identitiesFileValidator = Compile(Type.Union([IdentityListSchema, IdentitiesFileSchema]))

export function defaultIdentitiesFile (): string {
  return path.join(fixturesDir(), 'sts', 'identities.json')
}

/** Read and validate an identities file (null: the default). Throws IdentitiesFileError naming the problem. */
export function loadIdentities (file: string | null): IdentityTable {
  const f = file ?? defaultIdentitiesFile()
  let text: string
  try {
    text = readFileSync(f, 'utf8')
  } catch (err) {
    throw new IdentitiesFileError(f, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new IdentitiesFileError(f, `not valid JSON (${(err as Error).message})`)
  }
  try {
    return parseIdentities(value)
  } catch (err) {
    throw new IdentitiesFileError(f, (err as Error).message)
  }
}

/** `{"identities": [...]}` or a bare array → a table keyed by access key id. Throws an Error naming the field. */
export function parseIdentities (value: unknown): IdentityTable {
  // A bare array is checked as the list itself, and its fields are named as in the wrapped form.
  const problem = Array.isArray(value) ? schemaProblem(identityListValidator, value, 'identities') : schemaProblem(identitiesFileValidator, value)
  if (problem) throw new Error(problem.field ? `${problem.field}: ${problem.reason}` : problem.reason)
  const list = Array.isArray(value) ? value as IdentityEntry[] : (value as IdentitiesFile).identities
  const table = new Map<string, StsIdentity>()
  list.forEach((v, i) => {
    if (table.has(v.accessKeyId)) throw new Error(`identities[${i}].accessKeyId: ${v.accessKeyId} is listed twice`)
    table.set(v.accessKeyId, {
      accessKeyId: v.accessKeyId,
      secretAccessKey: v.secretAccessKey,
      sessionToken: v.sessionToken ?? null,
      arn: v.arn,
      userId: v.userId,
      account: v.account,
      canDecode: v.canDecode
    })
  })
  return table
}

/** The identity the app itself uses to call its own mock: the first that may decode. */
export function decodingIdentity (table: IdentityTable): StsIdentity | null {
  for (const id of table.values()) if (id.canDecode) return id
  return null
}
