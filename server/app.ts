/** The composition root: buildApp(config) is what `whydenied serve` runs and what every route test builds. */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AppConfig } from './config.js'
import type { LookupAll } from './util/binding.js'
import dbPlugin from './plugins/db.js'
import denialsApi from './routes/api/denials.js'
import importsApi from './routes/api/imports.js'
import { createStsSetup, stsMock } from './sts/plugin.js'
import mockStsApi from './sts/encode-route.js'
import decodeApi from './routes/api/decode.js'
import { Decoder, localTarget } from './services/decode.js'
import securityPlugin from './plugins/security.js'
import viewsPlugin from './plugins/views.js'
import pages from './routes/pages/index.js'
import reportPages from './routes/pages/reports.js'
import reportsApi from './routes/api/reports.js'

export interface BuildOptions {
  logger?: FastifyServerOptions['logger']
  /** Name resolution for the binding rule (tests inject one; default dns.lookup). */
  lookup?: LookupAll
}

export async function buildApp (config: AppConfig, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? { level: config.logLevel },
    // `serve --trust-proxy`: believe X-Forwarded-Proto/-For from the nearest hop (the reverse proxy)
    // only; without it they are ignored, as anyone can send them.
    trustProxy: config.trustProxy ? (_address: string, hop: number) => hop === 0 : false,
    // Generous but bounded path parameters.
    routerOptions: { maxParamLength: 500 }
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('config', config)

  // Order matters: the database first, then everything that uses it.
  await app.register(dbPlugin, { dbPath: config.dbPath })

  // JSON API errors keep Fastify's shape {statusCode, code, error, message}; a 5xx never shows its cause.
  app.setErrorHandler((err: Error & { statusCode?: number, code?: string, validation?: unknown }, req, reply) => {
    const status = err.statusCode ?? 500
    if (status >= 500) {
      req.log.error({ err, method: req.method, url: req.url }, 'request failed')
      return reply.code(status).send({ statusCode: status, code: err.code ?? 'WHYDENIED_INTERNAL', error: 'Internal Server Error', message: 'Internal Server Error' })
    }
    return reply.code(status).send({ statusCode: status, code: err.code ?? 'WHYDENIED_BAD_REQUEST', error: httpReason(status), message: err.message })
  })

  // Headers, cross-origin refusal, CSRF and token auth apply to everything registered after them.
  await app.register(securityPlugin, { host: config.host, token: config.token, lookup: opts.lookup })
  await app.register(viewsPlugin, { production: config.productionViews })

  await app.register(denialsApi)
  await app.register(importsApi)
  // The mock STS in its own encapsulated context under /sts, with its own form parser and XML
  // errors. AWS clients send no Origin, cookie or bearer token: the cross-origin, CSRF and token checks
  // must never apply to /sts (SigV4 authenticates it). Identities and secret load here: a bad file stops startup.
  const sts = createStsSetup({ identitiesFile: config.stsIdentitiesFile, secret: config.stsSecret, dbPath: config.dbPath })
  await app.register(stsMock, { prefix: '/sts', ...sts })
  await app.register(mockStsApi, { codec: sts.codec, ttlSeconds: config.stsTtlSeconds })
  // The app's own mock is reached with app.inject(): the real SDK signs a real request, the mounted
  // /sts plugin verifies and answers it, and no socket is involved, so this works whether or not the
  // app listens, on whatever address, and needs no credentials outside the identities file.
  const decoder = new Decoder(config.stsEndpoint !== null ? { kind: 'endpoint', endpoint: config.stsEndpoint } : localTarget(app, sts.identities), app.repos.importer, app.repos.denials)
  app.addHook('onClose', async () => { decoder.close() })
  await app.register(decodeApi, { decoder })
  // Pages (HTML, with their own error page; ?format=json twins).
  await app.register(pages, { decoder })
  // Team reports: the page with its downloads, and its JSON API.
  await app.register(reportPages)
  await app.register(reportsApi)
  return app
}

function httpReason (status: number): string {
  return ({ 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests' } as Record<number, string>)[status] ?? 'Error'
}

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig
  }
}
