/**
 * The JSON API, mounted at /api: its own context, with the request checks, the JSON error body for
 * every failure (a refusal before routing and a 404 included) and every API route.
 */
import type { FastifyPluginAsync } from 'fastify'
import { Type } from '../../util/typebox.js'
import { jsonErrorHandler, jsonNotFound } from '../../errors.js'
import { guard } from '../../plugins/security.js'
import type { Decoder } from '../../services/decode.js'
import mockStsApi from '../../sts/encode-route.js'
import type { TokenCodec } from '../../sts/token.js'
import decodeApi from './decode.js'
import denialsApi from './denials.js'
import importsApi from './imports.js'
import reportsApi from './reports.js'
import policiesApi from './policies.js'

export interface ApiOptions {
  /** The mock STS's codec (POST /api/mock-sts/encode mints with it). */
  codec: TokenCodec
  /** The app's decoder (POST /api/decode): its own mock STS in process, or config.stsEndpoint. */
  decoder: Decoder
}

const api: FastifyPluginAsync<ApiOptions> = async (app, opts) => {
  app.setErrorHandler(jsonErrorHandler)
  app.setNotFoundHandler(jsonNotFound)
  await app.register(guard)
  await app.register(denialsApi)
  await app.register(importsApi)
  await app.register(mockStsApi, { codec: opts.codec, ttlSeconds: app.config.stsTtlSeconds })
  await app.register(decodeApi, { decoder: opts.decoder })
  await app.register(reportsApi)
  await app.register(policiesApi)
  // The document describes this context's routes (plugins/openapi.ts collects them).
  app.get('/openapi.json', {
    schema: {
      tags: ['meta'],
      summary: 'This API described as OpenAPI 3.1 (generated from the route schemas)',
      response: { 200: Type.Object({ openapi: Type.String(), info: Type.Unknown(), paths: Type.Unknown() }, { additionalProperties: true }) }
    }
  }, async () => app.swagger())
}

export default api
