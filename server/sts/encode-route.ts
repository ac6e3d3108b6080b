/** POST /api/mock-sts/encode: mint encoded messages for decoded ones (the body of an import: JSON or NDJSON). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../util/typebox.js'
import { readTextRecords } from '../ingest/index.js'
import { CannotMintError, UnauthorizedError } from '../errors.js'
import { mintRecords } from './mint.js'
import type { TokenCodec } from './token.js'
import { AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS, bearerOf, FailureCounter, sameSecret, tooManyAttempts } from '../util/token-guard.js'

export interface MockStsApiOptions {
  codec: TokenCodec
  /** Default lifetime of minted tokens in seconds (null: they never expire); `?ttl=` overrides it. */
  ttlSeconds: number | null
  /**
   * `mock-sts --token`: then minting needs `Authorization: Bearer TOKEN`, as `serve`'s API does (in
   * `serve` its security plugin already guards this route, and passes null here).
   */
  token?: string | null
}

/** The largest body: a token holds at most 10240 characters, so a few MiB of JSON is already far too much. */
export const MAX_ENCODE_BODY = 4 * 1024 * 1024

const EncodeResultSchema = Type.Object({
  EncodedMessage: Type.String({ description: 'The encoded message of the first (usually only) record' }),
  EncodedMessages: Type.Optional(Type.Array(Type.String(), { description: 'Every record\'s encoded message, in input order (present when the body held more than one)' }))
})

const mockStsApi: FastifyPluginAsyncTypebox<MockStsApiOptions> = async (app, opts) => {
  app.addContentTypeParser(['application/json', 'application/x-ndjson', 'application/jsonl', 'application/x-jsonlines', 'text/plain'],
    { parseAs: 'buffer', bodyLimit: MAX_ENCODE_BODY }, (_req, body, done) => { done(null, body) })

  const token = opts.token ?? null
  // The same limit on wrong tokens as `serve`.
  const failures = new FailureCounter(AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS)
  app.post('/mock-sts/encode', {
    bodyLimit: MAX_ENCODE_BODY,
    // onRequest: refused before the body is read.
    onRequest: async (req, reply) => {
      if (token === null) return
      const given = bearerOf(req)
      if (given !== null) {
        const wait = failures.retryAfter(req.ip)
        if (wait > 0) tooManyAttempts(reply, wait)
        if (sameSecret(given, token)) return
        failures.fail(req.ip)
      }
      reply.header('WWW-Authenticate', 'Bearer realm="whydenied"')
      throw new UnauthorizedError()
    },
    schema: {
      tags: ['mock-sts'],
      summary: 'Mint encoded authorization messages that the mock STS decodes',
      querystring: Type.Object({ ttl: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 * 365 * 86400, description: 'Lifetime in seconds (0: never expires); default: the server\'s --ttl' })) }),
      response: { 200: EncodeResultSchema }
    }
  }, async (req) => {
    const body = req.body
    if (!Buffer.isBuffer(body) || body.length === 0) throw new CannotMintError('The request body is empty: send a decoded message as JSON (the AWS CLI output, or the decoded object), or several as NDJSON')
    const ttl = req.query.ttl !== undefined ? (req.query.ttl === 0 ? null : req.query.ttl) : opts.ttlSeconds
    const { minted, rejected } = await mintRecords(readTextRecords(body, 'body'), opts.codec, { ttlSeconds: ttl })
    if (rejected.length > 0) {
      throw new CannotMintError(rejected.slice(0, 5).map(r => `line ${r.line}: ${r.reason}`).join('; ') + (rejected.length > 5 ? ` (and ${rejected.length - 5} more)` : ''))
    }
    if (minted.length === 0) throw new CannotMintError('The request body holds no decoded message')
    return minted.length === 1 ? { EncodedMessage: minted[0]!.token } : { EncodedMessage: minted[0]!.token, EncodedMessages: minted.map(m => m.token) }
  })
}

export default mockStsApi
