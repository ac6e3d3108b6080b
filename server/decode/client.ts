/**
 * The decode client: DecodeAuthorizationMessage through the real @aws-sdk/client-sts, against real AWS,
 * any endpoint, or whydenied's own mock in process, and every failure turned into a message that names
 * the cause and what to do.
 */
import { Readable } from 'node:stream'
import { DecodeAuthorizationMessageCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts'
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http'
import type { FastifyInstance } from 'fastify'
import { excerpt } from './extract.js'
import { isMockToken, MOCK_MARKER } from '../sts/token.js'

// The SDK warns on every start that its releases after January 2027 need Node 22. whydenied supports
// Node 20 (package.json engines) and pins the SDK, so the warning says nothing to our users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

/** Where DecodeAuthorizationMessage goes. */
export type StsTarget =
  /** Real AWS: no endpoint override, the default credential chain and region (unless given). */
  | { kind: 'aws', region?: string | undefined }
  /** Any STS-compatible endpoint (e.g. a `whydenied mock-sts`), with the default credential chain. */
  | { kind: 'endpoint', endpoint: string, region?: string | undefined }
  /** whydenied's mock, called in process through app.inject: no socket, the same wire protocol. */
  | { kind: 'local', app: FastifyInstance, credentials: { accessKeyId: string, secretAccessKey: string, sessionToken?: string }, region?: string | undefined, secretOrigin?: string | undefined }

/** What a failure message may say beyond the STS error: the message itself, and where the local mock's secret is. */
export interface DecodeContext {
  /** The label of describeTarget. */
  target: string
  /** Set for whydenied's own mock (local or at --endpoint), never for AWS. */
  mock?: { secretOrigin?: string | undefined } | undefined
}

/** The decode context of a target: its label, and for anything but AWS, the mock's secret if known. */
export function contextOf (t: StsTarget): DecodeContext {
  if (t.kind === 'aws') return { target: describeTarget(t) }
  return { target: describeTarget(t), mock: { secretOrigin: t.kind === 'local' ? t.secretOrigin : undefined } }
}

/** How long to wait: a local STS answers in milliseconds, AWS in well under a second. */
export const TIMEOUTS = { connectionMs: 3000, requestMs: 10_000 } as const

/** A human label for messages: "the local mock STS", "STS at URL", "AWS STS". */
export function describeTarget (t: StsTarget): string {
  return t.kind === 'aws' ? 'AWS STS' : t.kind === 'endpoint' ? `the STS at ${t.endpoint}` : 'the local mock STS'
}

export function createStsClient (t: StsTarget): STSClient {
  const base: STSClientConfig = { maxAttempts: 2 }
  if (t.kind === 'aws') {
    return new STSClient({ ...base, ...(t.region ? { region: t.region } : {}), requestHandler: { connectionTimeout: TIMEOUTS.connectionMs, requestTimeout: TIMEOUTS.requestMs } })
  }
  if (t.kind === 'endpoint') {
    return new STSClient({ ...base, endpoint: t.endpoint, region: t.region ?? 'us-east-1', requestHandler: { connectionTimeout: TIMEOUTS.connectionMs, requestTimeout: TIMEOUTS.requestMs } })
  }
  return new STSClient({ ...base, endpoint: LOCAL_ENDPOINT, region: t.region ?? 'us-east-1', credentials: t.credentials, requestHandler: new InjectHandler(t.app) })
}

/** The in-process mock's endpoint as the SDK sees it; the host only appears in the signed Host header. */
const LOCAL_ENDPOINT = 'http://127.0.0.1/sts'

/** An SDK request handler that delivers the signed HTTP request to a Fastify app with inject(). */
export class InjectHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' }
  constructor (private readonly app: FastifyInstance) {}

  async handle (request: HttpRequest): Promise<{ response: HttpResponse }> {
    const qs = new URLSearchParams()
    for (const [k, v] of Object.entries(request.query ?? {})) {
      for (const x of Array.isArray(v) ? v : [v]) if (x != null) qs.append(k, x)
    }
    const query = qs.toString()
    const res = await this.app.inject({
      method: request.method as 'POST',
      url: request.path + (query ? `?${query}` : ''),
      headers: request.headers,
      payload: request.body as string | Buffer | undefined
    })
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v)
    return { response: new HttpResponse({ statusCode: res.statusCode, reason: res.statusMessage, headers, body: Readable.from([res.rawPayload]) }) }
  }

  updateHttpClientConfig (): void {}
  httpHandlerConfigs (): Record<string, never> { return {} }
  destroy (): void {}
}

/**
 * A failed decode: HTTP status and code for the API, and the STS error when STS answered one. Its
 * message says what STS or the network did and what to do, so even a 502 or 504 shows it (`expose`).
 */
export class DecodeError extends Error {
  readonly expose = true
  constructor (message: string, readonly statusCode: number, readonly code: string, readonly stsCode: string | null = null, readonly stsMessage: string | null = null, readonly token: string | null = null) {
    super(message)
    this.name = 'DecodeError'
  }

  /** The fields the JSON error body carries beyond {statusCode, code, error, message}. */
  get details (): Record<string, unknown> {
    return { stsCode: this.stsCode, stsMessage: this.stsMessage, ...(this.token !== null ? { token: this.token } : {}) }
  }
}

/** Call DecodeAuthorizationMessage; the DecodedMessage exactly as STS returned it, or a DecodeError. */
export async function decodeMessage (client: STSClient, token: string, ctx: DecodeContext): Promise<string> {
  let out
  try {
    out = await client.send(new DecodeAuthorizationMessageCommand({ EncodedMessage: token }))
  } catch (err) {
    throw toDecodeError(err, ctx.target, { token, mock: ctx.mock })
  }
  if (typeof out.DecodedMessage !== 'string') {
    throw new DecodeError(`${ctx.target} answered without a DecodedMessage: is the endpoint really STS?`, 502, 'WHYDENIED_STS_BAD_RESPONSE')
  }
  return out.DecodedMessage
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED', 'EPROTO', 'ERR_INVALID_URL'])
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException'])
const AUTH_CODES = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'MissingAuthenticationToken', 'IncompleteSignature', 'ExpiredToken', 'UnrecognizedClientException', 'AuthFailure'])

const WHERE_TO = 'Start the mock with `whydenied mock-sts` (or `whydenied serve`, at http://HOST:PORT/sts), or point --endpoint URL (WHYDENIED_STS_ENDPOINT for the server) at a reachable STS; --aws uses real AWS.'

/** Where a message from AWS can be decoded: said whenever one reaches a mock. */
export const REAL_MESSAGE_ADVICE = 'Decode it against AWS with `whydenied decode --aws` (credentials, in the account where the error happened, that are allowed sts:DecodeAuthorizationMessage), ' +
  'or run `aws sts decode-authorization-message --encoded-message ...` yourself and paste the decoded JSON into `whydenied import -` (or the Import page).'

/**
 * Why a mock could not decode `token`, and what to do. A token without the mock's marker most likely
 * comes from AWS (the usual first try of a new user); one with it was minted with another secret, or damaged.
 */
function invalidMessageAdvice (token: string | undefined, mock: DecodeContext['mock']): string {
  if (mock === undefined || token === undefined) {
    return 'It was damaged in copying (truncated, line-wrapped, changed), it has expired, or another STS issued it: messages from AWS decode only with AWS credentials of the same account. Copy the complete message again, or reproduce the error for a fresh one.'
  }
  if (!isMockToken(token)) {
    return `This looks like a message from AWS, not one a whydenied mock minted (those start with ${MOCK_MARKER}), and only AWS can decode it. ${REAL_MESSAGE_ADVICE}`
  }
  const key = mock.secretOrigin === undefined || mock.secretOrigin === 'config' || mock.secretOrigin === 'ephemeral'
    ? mock.secretOrigin === 'config' ? 'the secret $WHYDENIED_STS_SECRET' : 'its secret'
    : `its secret, ${mock.secretOrigin}`
  return `A whydenied mock minted it, but not with ${key}: the mock's secret lives next to the database (mock-sts.key beside the --db file), so decode with the --db it was minted with (or the same $WHYDENIED_STS_SECRET). ` +
    'Otherwise it was damaged in copying (truncated, changed) or has expired: copy the complete message again.'
}

/** Map anything the SDK throws to a DecodeError whose message says what happened and what to do. */
export function toDecodeError (err: unknown, target: string, about: { token?: string, mock?: DecodeContext['mock'] } = {}): DecodeError {
  const e = err as Error & { name?: string, code?: string, $metadata?: { httpStatusCode?: number }, $fault?: string, $response?: { statusCode?: number } }
  const name = e?.name ?? 'Error'
  const msg = e?.message ?? String(err)
  const status = e?.$metadata?.httpStatusCode
  if (name === 'AccessDenied' || name === 'AccessDeniedException') {
    return new DecodeError(`${target} refused to decode: the caller is not allowed to call sts:DecodeAuthorizationMessage (AccessDenied: ${msg}). ` +
      'Allow it in an IAM policy of that user or role, e.g. {"Effect": "Allow", "Action": "sts:DecodeAuthorizationMessage", "Resource": "*"}, or decode with credentials that have it.',
    403, 'WHYDENIED_STS_ACCESS_DENIED', name, msg)
  }
  if (name === 'InvalidAuthorizationMessageException') {
    return new DecodeError(`${target} cannot decode this message (InvalidAuthorizationMessageException: ${msg}). ${invalidMessageAdvice(about.token, about.mock)}`,
      400, 'WHYDENIED_STS_INVALID_MESSAGE', name, msg)
  }
  if (AUTH_CODES.has(name)) {
    return new DecodeError(`${target} rejected the credentials (${name}: ${msg}). Check the access key, secret key and session token in use${target === 'AWS STS' ? ' (aws sts get-caller-identity shows which ones)' : '; the mock\'s default identity is access key "test", secret "test"'}.`,
      403, 'WHYDENIED_STS_AUTH', name, msg)
  }
  if (name === 'ValidationError' || name === 'MissingParameter') {
    return new DecodeError(`${target} refused the request (${name}: ${msg}).`, 400, 'WHYDENIED_STS_INVALID_REQUEST', name, msg)
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials|Unable to load credentials|Resolved credential object is not valid/i.test(msg)) {
    return new DecodeError(`No AWS credentials to call ${target}: ${msg}. Configure the default credential chain (AWS_PROFILE, \`aws configure\`, \`aws sso login\`, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); for the local mock use access key "test" and secret "test".`,
      502, 'WHYDENIED_STS_NO_CREDENTIALS')
  }
  if (/Region is missing|region/i.test(msg) && /missing|invalid/i.test(msg) && status === undefined) {
    return new DecodeError(`No AWS region to call ${target}: ${msg}. Give --region (e.g. us-east-1), or set AWS_REGION.`, 502, 'WHYDENIED_STS_NO_REGION')
  }
  const code = e?.code ?? name
  if (TIMEOUT_CODES.has(code) || TIMEOUT_CODES.has(name) || /timed? ?out/i.test(msg)) {
    return new DecodeError(`${target} did not answer in time (${code}: ${msg}). ${WHERE_TO}`, 504, 'WHYDENIED_STS_TIMEOUT')
  }
  if (NETWORK_CODES.has(code) || status === undefined) {
    return new DecodeError(`Cannot reach ${target} (${code}: ${msg}). ${WHERE_TO}`, 502, 'WHYDENIED_STS_UNREACHABLE')
  }
  if (e?.$fault === 'server' || (status !== undefined && status >= 500)) {
    return new DecodeError(`${target} failed (${name}: ${msg}). Try again later.`, 502, 'WHYDENIED_STS_ERROR', name, msg)
  }
  if (e?.$fault === 'client' && status !== undefined && status < 500 && name !== 'Error' && name !== 'UnknownError') {
    return new DecodeError(`${target} refused the request (${name}: ${msg}).`, status === 403 ? 403 : 400, 'WHYDENIED_STS_ERROR', name, msg)
  }
  return new DecodeError(`${target} did not answer like STS (HTTP ${status ?? '?'}, ${name}: ${excerpt(msg, 200)}). Check the endpoint: whydenied's mock is at http://HOST:PORT/sts. ${WHERE_TO}`,
    502, 'WHYDENIED_STS_BAD_RESPONSE', name === 'Error' || name === 'UnknownError' ? null : name, name === 'Error' || name === 'UnknownError' ? null : msg)
}
