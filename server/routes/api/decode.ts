/**
 * POST /api/decode {text, store?, source?}: find the encoded messages in error text, decode each through
 * STS, and optionally import them, through the app's Decoder (app.ts: its own mock in process, unless
 * config.stsEndpoint names another STS).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { excerpt, MAX_TEXT_LENGTH } from '../../decode/extract.js'
import type { Decoder, DecodeTextOutcome } from '../../services/decode.js'

export interface DecodeApiOptions {
  /** The app's decoder: its own mock STS (called in process), or config.stsEndpoint. */
  decoder: Decoder
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

const DecodeResultSchema = Type.Object({ results: Type.Array(DecodedItemSchema) })

/** Every answer of POST /api/decode: the decoded messages, or the error. */
export type DecodeAnswer = Partial<Static<typeof DecodeResultSchema> & Static<typeof DecodeErrorSchema>>

const reasons: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 500: 'Internal Server Error', 502: 'Bad Gateway', 504: 'Gateway Timeout' }

/** The answer of POST /api/decode for an outcome: also the JSON twin of the import page's decode form. */
export function decodeAnswer (outcome: DecodeTextOutcome): { statusCode: number, body: DecodeAnswer } {
  if (outcome.ok) return { statusCode: 200, body: { results: outcome.items } }
  if (outcome.problems !== undefined) {
    const problems = outcome.problems
    // Nothing is sent to STS when any candidate is doubtful.
    return {
      statusCode: 400,
      body: {
        statusCode: 400,
        code: 'WHYDENIED_BAD_TOKEN',
        error: 'Bad Request',
        message: problems.map(p => `${p.excerpt}: ${p.reason}`).join('; '),
        problems
      }
    }
  }
  const e = outcome.error
  return {
    statusCode: e.statusCode,
    body: {
      statusCode: e.statusCode,
      code: e.code,
      error: reasons[e.statusCode] ?? 'Error',
      message: outcome.count > 1 ? `message ${outcome.index + 1} of ${outcome.count} (${excerpt(outcome.token)}): ${e.message}` : e.message,
      stsCode: e.stsCode,
      stsMessage: e.stsMessage,
      token: outcome.token
    }
  }
}

const decodeApi: FastifyPluginAsyncTypebox<DecodeApiOptions> = async (app, opts) => {
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
      response: { 200: DecodeResultSchema, '4xx': DecodeErrorSchema, '5xx': DecodeErrorSchema }
    }
  }, async (req, reply) => {
    const outcome = await opts.decoder.decodeText(req.body.text, req.body.store === true ? { source: req.body.source ?? 'decode' } : null)
    const { statusCode, body } = decodeAnswer(outcome)
    return reply.code(statusCode as 200).send(body as Static<typeof DecodeResultSchema>)
  })
}

export default decodeApi
