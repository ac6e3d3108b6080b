/** The composition root: buildApp(config) is what `whydenied serve` runs and what every route test builds. */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { AjvCompiler } from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AppConfig } from './config.js'
import type { LookupAll } from './util/binding.js'
import { jsonErrorHandler } from './errors.js'
import dbPlugin from './plugins/db.js'
import openapiPlugin from './plugins/openapi.js'
import { Decoder, localTarget } from './services/decode.js'
import securityPlugin from './plugins/security.js'
import { createStsSetup, stsMock } from './sts/plugin.js'
import api from './routes/api/index.js'
import pages from './routes/pages/index.js'

export interface BuildOptions {
  logger?: FastifyServerOptions['logger']
  /** Name resolution for the binding rule (tests inject one; default dns.lookup). */
  lookup?: LookupAll
}

// One validator compiler and one serializer cache per process, shared by every app buildApp makes.
// Fastify's defaults (these same two packages, same options) start afresh in each instance, so each
// app compiled every route schema again: measured, Ajv was ~20% and fast-json-stringify ~10% of the
// CPU of building an app. Ajv keeps what it compiled by schema object, and the route schemas are
// module-level TypeBox objects, so a second app gets the first one's validators; the serializers are
// kept here the same way. Validation and output are the same; `serve` builds one app, the tests
// hundreds. (Fastify treats a compiler passed here as custom, which changes one thing: it no longer
// lower-cases the keys of a `headers` schema, and no route has one.)
const buildValidator = AjvCompiler()
const defaultSerializer = SerializerSelector()
const serializers = new Map<string, WeakMap<object, (data: unknown) => string>>()

const buildSerializer: typeof defaultSerializer = (externalSchemas, serializerOpts) => {
  const build = defaultSerializer(externalSchemas, serializerOpts)
  const key = JSON.stringify([externalSchemas, serializerOpts])
  let built = serializers.get(key)
  if (built === undefined) serializers.set(key, (built = new WeakMap()))
  const cache = built
  return route => {
    const schema = route.schema as object
    let fn = cache.get(schema)
    if (fn === undefined) cache.set(schema, (fn = build(route)))
    return fn
  }
}

export async function buildApp (config: AppConfig, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? { level: config.logLevel },
    // `serve --trust-proxy`: believe X-Forwarded-Proto/-For from the nearest hop (the reverse proxy)
    // only; without it they are ignored, as anyone can send them.
    trustProxy: config.trustProxy ? (_address: string, hop: number) => hop === 0 : false,
    // Generous but bounded path parameters.
    routerOptions: { maxParamLength: 500 },
    schemaController: { compilersFactory: { buildValidator, buildSerializer } }
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('config', config)
  // Every request lands in one of the contexts below; this only guards against a failure outside them.
  app.setErrorHandler(jsonErrorHandler)

  // Order matters: the database first, then everything that uses it.
  await app.register(dbPlugin, { dbPath: config.dbPath })
  // Before any route: it collects the routes' schemas into the OpenAPI document (GET /api/openapi.json).
  await app.register(openapiPlugin)

  // Headers and connection handling for everything registered after them; the request checks
  // (Host, cross-origin, token) are registered by the pages and API contexts themselves.
  await app.register(securityPlugin, { host: config.host, token: config.token, lookup: opts.lookup })

  // Three contexts, each with its own error handler and 404, so a failure is answered in the format
  // of the context it happens in (before routing too): AWS XML under /sts, the JSON error body under
  // /api, the error page (or a page's JSON twin) everywhere else.
  // The mock STS: its own form parser and SigV4 auth (AWS clients send no Origin, cookie or bearer token).
  // Identities and secret load here: a bad file stops startup.
  const sts = createStsSetup({ identitiesFile: config.stsIdentitiesFile, secret: config.stsSecret, dbPath: config.dbPath })
  await app.register(stsMock, { prefix: '/sts', ...sts })
  // The app's own mock is reached with app.inject(): the real SDK signs a real request, the mounted
  // /sts plugin verifies and answers it, and no socket is involved, so this works whether or not the
  // app listens, on whatever address, and needs no credentials outside the identities file.
  const decoder = new Decoder(config.stsEndpoint !== null ? { kind: 'endpoint', endpoint: config.stsEndpoint } : localTarget(app, sts.identities, undefined, sts.secretOrigin), app.repos.importer, app.repos.denials)
  app.addHook('onClose', async () => { decoder.close() })
  await app.register(api, { prefix: '/api', codec: sts.codec, decoder })
  await app.register(pages, { decoder })
  return app
}

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig
  }
}
