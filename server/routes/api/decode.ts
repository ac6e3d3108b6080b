/**
 * POST /api/decode {text, store?, source?}: find the encoded messages in error text, decode each through
 * STS, and optionally import them, through the app's Decoder (app.ts: its own mock in process, unless
 * config.stsEndpoint names another STS).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from '../../util/typebox.js'
import { DecodeError } from '../../decode/client.js'
import { excerpt, MAX_TEXT_LENGTH } from '../../decode/extract.js'
import { BadTokenError, errorBody, type AppError } from '../../errors.js'
import type { Decoder, DecodeTextOutcome } from '../../services/decode.js'
import { DecodeErrorSchema, DecodeResultSchema } from '../../schemas/decode.js'

export interface DecodeApiOptions {
  /** The app's decoder: its own mock STS (called in process), or config.stsEndpoint. */
  decoder: Decoder
}

/** Every answer of POST /api/decode: the decoded messages, or the error. */
export type DecodeAnswer = Partial<Static<typeof DecodeResultSchema> & Static<typeof DecodeErrorSchema>>

/** The error of a failed outcome (its JSON body is errorBody's, with the problems or the STS error as details). */
export function decodeFailure (outcome: Exclude<DecodeTextOutcome, { ok: true }>): AppError {
  // Nothing is sent to STS when any candidate is doubtful.
  if (outcome.problems !== undefined) {
    const problems = outcome.problems
    return Object.assign(new BadTokenError(problems.map(p => `${p.excerpt}: ${p.reason}`).join('; ')), { details: { problems } })
  }
  const e = outcome.error
  const message = outcome.count > 1 ? `message ${outcome.index + 1} of ${outcome.count} (${excerpt(outcome.token)}): ${e.message}` : e.message
  return new DecodeError(message, e.statusCode, e.code, e.stsCode, e.stsMessage, outcome.token)
}

/** The answer of POST /api/decode for an outcome: also the JSON twin of the import page's decode form. */
export function decodeAnswer (outcome: DecodeTextOutcome): { statusCode: number, body: DecodeAnswer } {
  if (outcome.ok) return { statusCode: 200, body: { results: outcome.items } }
  const body = errorBody(decodeFailure(outcome))
  return { statusCode: body.statusCode, body }
}

const decodeApi: FastifyPluginAsyncTypebox<DecodeApiOptions> = async (app, opts) => {
  app.post('/decode', {
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
  }, async (req) => {
    const outcome = await opts.decoder.decodeText(req.body.text, req.body.store === true ? { source: req.body.source ?? 'decode' } : null)
    // A failure goes through the API's error handler (errorBody; a 5xx is logged).
    if (!outcome.ok) throw decodeFailure(outcome)
    return { results: outcome.items }
  })
}

export default decodeApi
