/**
 * POST /api/decode {text, store?, source?}: find the encoded messages in error text, decode each through
 * STS, and optionally import them. STS is the app's own mock (called in process, see below) unless
 * config.stsEndpoint names another one.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { createStsClient, describeTarget, type StsTarget } from '../../decode/client.js'
import { excerpt, extractTokens, MAX_TEXT_LENGTH } from '../../decode/extract.js'
import { decodeAll, localTarget, storeDecoded } from '../../services/decode.js'
import type { IdentityTable } from '../../sts/identities.js'

export interface DecodeApiOptions {
  /** The mock's identities (the app signs its own calls with the first that may decode). */
  identities: IdentityTable
  /** Another STS to use instead of the app's mock (config.stsEndpoint). */
  endpoint: string | null
}

const DecodedItemSchema = Type.Object({
  token: Type.String(),
  DecodedMessage: Type.String({ description: 'The decoded JSON exactly as STS returned it' }),
  stored: Type.Optional(Type.Union([Type.Literal('imported'), Type.Literal('duplicate')])),
  denialId: Type.Optional(Type.Integer())
})

const DecodeErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String({ description: 'WHYDENIED_BAD_TOKEN (refused before any call), or WHYDENIED_STS_* (what STS or the network did)' }),
  error: Type.String(),
  message: Type.String({ description: 'The cause and what to do' }),
  problems: Type.Optional(Type.Array(Type.Object({ excerpt: Type.String(), reason: Type.String() }))),
  stsCode: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'The STS error code, e.g. AccessDenied, when STS answered one' })),
  stsMessage: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  token: Type.Optional(Type.String({ description: 'The message that failed' }))
})

const reasons: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 500: 'Internal Server Error', 502: 'Bad Gateway', 504: 'Gateway Timeout' }

const decodeApi: FastifyPluginAsyncTypebox<DecodeApiOptions> = async (app, opts) => {
  // The app's own mock is reached with app.inject(): the real SDK signs a real request, the mounted
  // /sts plugin verifies and answers it, and no socket is involved, so this works whether or not the
  // app listens, on whatever address, and needs no credentials outside the identities file.
  const target: StsTarget = opts.endpoint !== null
    ? { kind: 'endpoint', endpoint: opts.endpoint }
    : localTarget(app, opts.identities)
  const client = createStsClient(target)
  const label = describeTarget(target)
  app.addHook('onClose', async () => { client.destroy() })

  app.post('/api/decode', {
    bodyLimit: 2 * MAX_TEXT_LENGTH + 4096,
    schema: {
      tags: ['decode'],
      summary: 'Decode the encoded authorization messages in error text (and optionally import them)',
      body: Type.Object({
        text: Type.String({ minLength: 1, maxLength: MAX_TEXT_LENGTH, description: 'An encoded message, or text that contains some (e.g. the whole error line)' }),
        store: Type.Optional(Type.Boolean({ default: false, description: 'Import the decoded messages' })),
        source: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Label for the stored occurrences (default "decode")' }))
      }),
      response: { 200: Type.Object({ results: Type.Array(DecodedItemSchema) }), '4xx': DecodeErrorSchema, '5xx': DecodeErrorSchema }
    }
  }, async (req, reply) => {
    const { tokens, problems } = extractTokens(req.body.text)
    if (problems.length > 0) {
      // Nothing is sent to STS when any candidate is doubtful.
      return reply.code(400).send({
        statusCode: 400,
        code: 'WHYDENIED_BAD_TOKEN',
        error: 'Bad Request',
        message: problems.map(p => `${p.excerpt}: ${p.reason}`).join('; '),
        problems
      })
    }
    const outcomes = await decodeAll(client, tokens, label)
    const failed = outcomes.find(o => !o.ok)
    if (failed !== undefined && !failed.ok) {
      const e = failed.error
      return reply.code(e.statusCode as 400).send({
        statusCode: e.statusCode,
        code: e.code,
        error: reasons[e.statusCode] ?? 'Error',
        message: tokens.length > 1 ? `message ${tokens.indexOf(failed.token) + 1} of ${tokens.length} (${excerpt(failed.token)}): ${e.message}` : e.message,
        stsCode: e.stsCode,
        stsMessage: e.stsMessage,
        token: failed.token
      })
    }
    const items = outcomes.flatMap(o => o.ok ? [o.item] : [])
    if (req.body.store === true) await storeDecoded(app.repos.importer, app.repos.denials, items, req.body.source ?? 'decode')
    return { results: items }
  })
}

export default decodeApi
