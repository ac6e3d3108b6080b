/** TypeBox schemas of POST /api/decode's answers (and of the Import page's decode form, its JSON twin). */
import { Type } from '../util/typebox.js'

const DecodedItemSchema = Type.Object({
  token: Type.String(),
  DecodedMessage: Type.String({ description: 'The decoded JSON exactly as STS returned it' }),
  stored: Type.Optional(Type.Union([Type.Literal('imported'), Type.Literal('duplicate')])),
  denialId: Type.Optional(Type.Integer())
})

export const DecodeErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String({ description: 'WHYDENIED_BAD_TOKEN (refused before any call), or WHYDENIED_STS_* (what STS or the network did)' }),
  error: Type.String(),
  message: Type.String({ description: 'The cause and what to do' }),
  problems: Type.Optional(Type.Array(Type.Object({ excerpt: Type.String(), reason: Type.String() }))),
  stsCode: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'The STS error code, e.g. AccessDenied, when STS answered one' })),
  stsMessage: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  token: Type.Optional(Type.String({ description: 'The message that failed' }))
})

export const DecodeResultSchema = Type.Object({ results: Type.Array(DecodedItemSchema) })
