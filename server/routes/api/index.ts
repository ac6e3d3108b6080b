/**
 * The JSON API, mounted at /api: its own context, with the request checks, the JSON error body for
 * every failure (a refusal before routing and a 404 included) and every API route.
 */
import type { FastifyPluginAsync } from 'fastify'
import { jsonErrorHandler, jsonNotFound } from '../../errors.js'
import { guard } from '../../plugins/security.js'
import type { IdentityTable } from '../../sts/identities.js'
import type { TokenCodec } from '../../sts/token.js'
import decodeApi from './decode.js'
import denialsApi from './denials.js'
import importsApi from './imports.js'
import mockStsApi from './mock-sts.js'
import reportsApi from './reports.js'

export interface ApiOptions {
  /** The mock STS's codec and identities (POST /api/mock-sts/encode mints with it; /api/decode calls it). */
  codec: TokenCodec
  identities: IdentityTable
}

const api: FastifyPluginAsync<ApiOptions> = async (app, opts) => {
  app.setErrorHandler(jsonErrorHandler)
  app.setNotFoundHandler(jsonNotFound)
  await app.register(guard)
  await app.register(denialsApi)
  await app.register(importsApi)
  await app.register(mockStsApi, { codec: opts.codec, ttlSeconds: app.config.stsTtlSeconds })
  await app.register(decodeApi, { identities: opts.identities, endpoint: app.config.stsEndpoint })
  await app.register(reportsApi)
}

export default api
