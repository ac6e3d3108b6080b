/**
 * Who may call the mock STS: a JSON file of identities (access key, secret, optional session token,
 * the principal's ARN/UserId/Account, and whether it may call sts:DecodeAuthorizationMessage).
 * The default ships in fixtures/sts/identities.json (keys `test`/`test` may decode, `denied`/`denied` may not).
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
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

/** `{"identities": [...]}` or a bare array → a table keyed by access key id. */
export function parseIdentities (value: unknown): IdentityTable {
  const list = Array.isArray(value) ? value : (isObj(value) && Array.isArray(value.identities) ? value.identities : null)
  if (list === null) throw new Error('expected {"identities": [...]} or a JSON array of identities')
  if (list.length === 0) throw new Error('lists no identity')
  const table = new Map<string, StsIdentity>()
  list.forEach((v: unknown, i: number) => {
    const at = `identities[${i}]`
    if (!isObj(v)) throw new Error(`${at} is not an object`)
    const str = (k: string, required = true): string | null => {
      const x = v[k]
      if (x === undefined || x === null) {
        if (required) throw new Error(`${at}.${k} is missing`)
        return null
      }
      if (typeof x !== 'string' || x === '') throw new Error(`${at}.${k} must be a non-empty string`)
      return x
    }
    const accessKeyId = str('accessKeyId')!
    if (!/^[\x21-\x7e]+$/.test(accessKeyId) || accessKeyId.includes('/')) throw new Error(`${at}.accessKeyId must be printable ASCII without spaces or "/"`)
    if (table.has(accessKeyId)) throw new Error(`${at}.accessKeyId ${accessKeyId} is listed twice`)
    const canDecode = v.canDecode
    if (typeof canDecode !== 'boolean') throw new Error(`${at}.canDecode must be true or false`)
    const arn = str('arn')!
    if (!/^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+/.test(arn)) throw new Error(`${at}.arn ${JSON.stringify(arn)} is not an IAM or STS principal ARN`)
    table.set(accessKeyId, {
      accessKeyId,
      secretAccessKey: str('secretAccessKey')!,
      sessionToken: str('sessionToken', false),
      arn,
      userId: str('userId')!,
      account: str('account')!,
      canDecode
    })
  })
  return table
}

/** The identity the app itself uses to call its own mock: the first that may decode. */
export function decodingIdentity (table: IdentityTable): StsIdentity | null {
  for (const id of table.values()) if (id.canDecode) return id
  return null
}

function isObj (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
