/**
 * SigV4 verification for the mock STS. Nothing here is hand-rolled crypto: the canonical request,
 * string to sign, signing key and HMAC all come from @smithy/signature-v4 (the signer every AWS JS
 * SDK uses) with @aws-crypto/sha256-js. We rebuild the request exactly as it arrived (method, path,
 * query, the headers named in SignedHeaders, the body), compute the signature with the identity's
 * secret and compare it in constant time. Region and signing name come from the credential scope.
 */
import { timingSafeEqual } from 'node:crypto'
import { Sha256 } from '@aws-crypto/sha256-js'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4, createScope, getCanonicalHeaders, getPayloadHash, getSigningKey } from '@smithy/signature-v4'
import type { IdentityTable, StsIdentity } from './identities.js'

/** What the verifier needs from an incoming request. */
export interface IncomingSigned {
  method: string
  /** The raw request target: path and query, as sent. */
  url: string
  /** Lower-case header names (Node's `req.headers`). */
  headers: Record<string, string | string[] | undefined>
  /** The raw body as received ('' for none). */
  body: string
}

export type AuthResult =
  | { ok: true, identity: StsIdentity, region: string }
  | { ok: false, status: number, code: string, message: string }

/** How far X-Amz-Date may be from the server's clock (AWS: 15 minutes). */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000

const SIGNING_NAME = 'sts'
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

const fail = (status: number, code: string, message: string): AuthResult => ({ ok: false, status, code, message })

/** Messages as AWS words them (see sts-wire.md §4.2). */
export const AuthMessages = {
  missing: 'Request is missing Authentication Token',
  invalidToken: 'The security token included in the request is invalid.',
  signature: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
} as const

/** Subclass only to reach the library's own canonical-request and string-to-sign builders. */
class Verifier extends SignatureV4 {
  constructor (region: string, service: string) {
    // Credentials are supplied per call; these placeholders are never used to sign.
    super({ credentials: { accessKeyId: '-', secretAccessKey: '-' }, region, service, sha256: Sha256, applyChecksum: false, uriEscapePath: true })
  }

  async expectedSignature (request: HttpRequest, signedHeaders: Set<string>, payloadHash: string, longDate: string, scope: string, secret: string, shortDate: string, region: string, service: string): Promise<{ signature: string, headerList: string }> {
    const canonicalHeaders = getCanonicalHeaders(request, undefined, signedHeaders)
    const canonicalRequest = this.createCanonicalRequest(request, canonicalHeaders, payloadHash)
    const stringToSign = await this.createStringToSign(longDate, scope, canonicalRequest, 'AWS4-HMAC-SHA256')
    const key = await getSigningKey(Sha256, { accessKeyId: '-', secretAccessKey: secret }, shortDate, region, service)
    const hmac = new Sha256(key)
    hmac.update(stringToSign)
    return { signature: Buffer.from(await hmac.digest()).toString('hex'), headerList: this.getCanonicalHeaderList(canonicalHeaders) }
  }
}

interface ParsedAuthorization { accessKeyId: string, date: string, region: string, service: string, terminator: string, signedHeaders: string[], signature: string }

/** Parse `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`; a string is the IncompleteSignature message. */
export function parseAuthorization (value: string): ParsedAuthorization | string {
  const m = /^(\S+)\s+(.*)$/s.exec(value.trim())
  if (!m) return `Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=${value}`
  const algorithm = m[1]!
  if (algorithm === 'AWS4-ECDSA-P256-SHA256') return 'This mock STS verifies SigV4 (AWS4-HMAC-SHA256) signatures only; SigV4a (AWS4-ECDSA-P256-SHA256) is not supported: sign the request with SigV4.'
  if (algorithm !== 'AWS4-HMAC-SHA256') return `Unsupported AWS 'algorithm': '${algorithm}'`
  const params = new Map<string, string>()
  for (const part of m[2]!.split(',')) {
    const eq = part.indexOf('=')
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  const problems: string[] = []
  for (const p of ['Credential', 'Signature', 'SignedHeaders']) {
    if (!params.get(p)) problems.push(`Authorization header requires '${p}' parameter.`)
  }
  if (problems.length > 0) return `${problems.join(' ')} Authorization=${value}`
  const cred = params.get('Credential')!.split('/')
  if (cred.length !== 5 || cred.some(c => c === '')) return `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${params.get('Credential')!}'`
  const signature = params.get('Signature')!
  if (!/^[0-9a-f]{64}$/.test(signature)) return `Signature must be 64 lower-case hexadecimal characters, got '${signature}'`
  return {
    accessKeyId: cred[0]!,
    date: cred[1]!,
    region: cred[2]!,
    service: cred[3]!,
    terminator: cred[4]!,
    signedHeaders: params.get('SignedHeaders')!.split(';').map(h => h.trim().toLowerCase()).filter(h => h !== ''),
    signature
  }
}

/** `20261128T023043Z` → Date, or null. */
export function parseAmzDate (value: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (!m) return null
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!))
  return Number.isNaN(d.getTime()) ? null : d
}

function header (headers: IncomingSigned['headers'], name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v.join(',') : v
}

/** Verify the request's SigV4 signature against the identities; the failure says which AWS error to answer. */
export async function verifySigV4 (req: IncomingSigned, identities: IdentityTable, now = Date.now()): Promise<AuthResult> {
  const authorization = header(req.headers, 'authorization')
  if (authorization === undefined || authorization.trim() === '') return fail(403, 'MissingAuthenticationToken', AuthMessages.missing)
  const auth = parseAuthorization(authorization)
  if (typeof auth === 'string') return fail(400, 'IncompleteSignature', auth)

  const identity = identities.get(auth.accessKeyId)
  if (identity === undefined) return fail(403, 'InvalidClientTokenId', AuthMessages.invalidToken)
  const sessionToken = header(req.headers, 'x-amz-security-token')
  if ((identity.sessionToken ?? undefined) !== sessionToken) return fail(403, 'InvalidClientTokenId', AuthMessages.invalidToken)

  const amzDate = header(req.headers, 'x-amz-date')
  if (amzDate === undefined) return fail(400, 'IncompleteSignature', `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${authorization}`)
  const date = parseAmzDate(amzDate)
  if (date === null) return fail(400, 'IncompleteSignature', `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`)
  if (Math.abs(now - date.getTime()) > MAX_CLOCK_SKEW_MS) {
    return fail(400, 'RequestExpired', `Request timestamp ${amzDate} is more than 15 minutes away from the server's time ${new Date(now).toISOString()}: check the clock of the machine that signed the request.`)
  }
  if (auth.date !== amzDate.slice(0, 8)) return fail(403, 'SignatureDoesNotMatch', `Credential should be scoped to a valid date: '${amzDate.slice(0, 8)}', got '${auth.date}'.`)
  if (auth.service !== SIGNING_NAME) return fail(403, 'SignatureDoesNotMatch', `Credential should be scoped to correct service: '${SIGNING_NAME}'.`)
  if (auth.terminator !== 'aws4_request') return fail(403, 'SignatureDoesNotMatch', "Credential should be scoped with a valid terminator: 'aws4_request', not '" + auth.terminator + "'.")

  const signed = new Set(auth.signedHeaders)
  if (!signed.has('host')) return fail(403, 'SignatureDoesNotMatch', "'Host' must be a signed header.")
  const headers: Record<string, string> = {}
  for (const name of signed) {
    const v = header(req.headers, name)
    if (v === undefined) return fail(403, 'SignatureDoesNotMatch', `The header '${name}' is named in SignedHeaders but is absent from the request.`)
    headers[name] = v
  }
  // The signature must cover the body actually received, since the body carries the Action and its
  // parameters: whatever the client claims about it must be its true SHA-256. UNSIGNED-PAYLOAD (meant for S3
  // uploads) would let anyone swap the body under a captured signature; no AWS SDK or CLI sends it to STS.
  const bodyHash = await getPayloadHash({ headers: {}, body: req.body === '' ? undefined : req.body } as unknown as HttpRequest, Sha256)
  const claimed = header(req.headers, 'x-amz-content-sha256')
  if (claimed === 'UNSIGNED-PAYLOAD') {
    return fail(403, 'SignatureDoesNotMatch', "'x-amz-content-sha256: UNSIGNED-PAYLOAD' is not accepted: an STS request must be signed over its body. Sign the SHA-256 of the body, as every AWS SDK and CLI does for STS.")
  }
  if (claimed !== undefined && claimed.toLowerCase() !== (req.body === '' ? EMPTY_SHA256 : bodyHash)) {
    return fail(403, 'SignatureDoesNotMatch', "The provided 'x-amz-content-sha256' header does not match what was computed.")
  }
  const payloadHash = claimed ?? bodyHash

  const q = req.url.indexOf('?')
  const rawPath = q < 0 ? req.url : req.url.slice(0, q)
  const query: Record<string, string | string[]> = {}
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(req.url.slice(q + 1))) {
      const prev = query[k]
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
    }
  }
  let path: string
  try {
    path = decodeURIComponent(rawPath)
  } catch {
    path = rawPath
  }
  const request = new HttpRequest({ method: req.method.toUpperCase(), protocol: 'http:', hostname: headers.host ?? '', path, query, headers, body: req.body })
  const verifier = new Verifier(auth.region, auth.service)
  const longDate = amzDate
  const { signature, headerList } = await verifier.expectedSignature(request, signed, payloadHash, longDate, createScope(auth.date, auth.region, auth.service), identity.secretAccessKey, auth.date, auth.region, auth.service)
  if (headerList !== [...signed].sort().join(';') || !timingSafeEqual(Buffer.from(signature), Buffer.from(auth.signature))) {
    return fail(403, 'SignatureDoesNotMatch', AuthMessages.signature)
  }
  return { ok: true, identity, region: auth.region }
}
