/** The JSON error body every /api route answers on failure (errors.ts errorBody), for the OpenAPI document. */
import { Type } from '../util/typebox.js'

export const ErrorBodySchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String({ description: 'A stable WHYDENIED_* code' }),
  error: Type.String({ description: 'The HTTP reason phrase' }),
  message: Type.String({ description: 'What went wrong and what to do; "Internal Server Error" for a 5xx' })
}, { additionalProperties: true })
