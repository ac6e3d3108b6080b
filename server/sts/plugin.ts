/**
 * The mock STS as an encapsulated Fastify plugin: AWS Query protocol (form-encoded POST, XML answers),
 * SigV4-verified callers, DecodeAuthorizationMessage and GetCallerIdentity. Mount it with
 * `app.register(stsMock, { prefix: '/sts', ...setup })`; clients then use `http://HOST:PORT/sts` as their
 * endpoint (the AWS CLI posts to /sts, the JS SDK to /sts/: both are served).
 * Everything here is scoped to this plugin: the form parser, the XML error handler.
 */
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify'
import Fastify, { type FastifyServerOptions } from 'fastify'
import formbody from '@fastify/formbody'
import { randomUUID } from 'node:crypto'
import { actions, StsFault } from './actions.js'
import { loadIdentities, type IdentityTable } from './identities.js'
import { verifySigV4 } from './sigv4.js'
import { loadStsSecret, TokenCodec, MAX_ENCODED_LENGTH } from './token.js'
import { errorXml, STS_API_VERSION, successXml } from './xml.js'
import mockStsApi from './encode-route.js'
import { assertBindingAllowed, type LookupAll } from '../util/binding.js'
import { jsonErrorHandler, jsonNotFound } from '../errors.js'

export interface StsSetup {
  identities: IdentityTable
  codec: TokenCodec
  /** Where the secret came from: 'config', the key file's path, or 'ephemeral'. */
  secretOrigin: string
}

export interface StsMockOptions extends StsSetup {
  /** The clock (ms since the epoch), for expiry and the 15-minute signature window. */
  now?: () => number
}

/** Load the identities and the secret once, at startup: a bad file stops the server with a clear error. */
export function createStsSetup (opts: { identitiesFile: string | null, secret?: string | null, dbPath: string, createKey?: boolean }): StsSetup {
  const identities = loadIdentities(opts.identitiesFile)
  const { secret, origin } = loadStsSecret({ secret: opts.secret, dbPath: opts.dbPath, create: opts.createKey })
  return { identities, codec: new TokenCodec(secret), secretOrigin: origin }
}

/** Form bodies are tiny (EncodedMessage ≤ 10240 characters); anything much larger is refused. */
const MAX_FORM_BODY = 4 * MAX_ENCODED_LENGTH + 4096

interface FormBody { raw: string, params: URLSearchParams }

const isFormBody = (b: unknown): b is FormBody => typeof b === 'object' && b !== null && (b as FormBody).params instanceof URLSearchParams

function sendXml (reply: FastifyReply, status: number, xml: string, requestId: string): FastifyReply {
  return reply.code(status).header('content-type', 'text/xml').header('x-amzn-RequestId', requestId).send(xml)
}

function sendFault (reply: FastifyReply, fault: StsFault, requestId = randomUUID()): FastifyReply {
  return sendXml(reply, fault.status, errorXml(fault.type, fault.code, fault.message, requestId), requestId)
}

export const stsMock: FastifyPluginAsync<StsMockOptions> = async (app, opts) => {
  const now = opts.now ?? Date.now
  // Our own form parser: we keep the raw body, because the SigV4 signature covers its exact bytes.
  // An urlencoded parser inherited from the parent (e.g. for HTML forms) is replaced in this context only.
  if (app.hasContentTypeParser('application/x-www-form-urlencoded')) app.removeContentTypeParser('application/x-www-form-urlencoded')
  await app.register(formbody, { bodyLimit: MAX_FORM_BODY, parser: (raw: string): Record<string, unknown> => ({ raw, params: new URLSearchParams(raw) }) satisfies FormBody })

  // Every failure of this context is an AWS Query error document, never Fastify's JSON.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof StsFault) return sendFault(reply, err)
    const status = err.statusCode ?? 500
    if (status === 415 || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
      return sendFault(reply, new StsFault(400, 'MissingAction', 'The request must be a POST with an application/x-www-form-urlencoded body holding Action, Version and the action\'s parameters'))
    }
    if (status === 413) return sendFault(reply, new StsFault(413, 'RequestEntityTooLarge', `The request body is larger than ${MAX_FORM_BODY} bytes`))
    if (status < 500) return sendFault(reply, new StsFault(400, 'MalformedQueryString', err.message))
    req.log.error({ err, method: req.method, url: req.url }, 'mock STS request failed')
    return sendFault(reply, new StsFault(500, 'InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.'))
  })
  // Anything else under /sts is an AWS error document too (the service answers at /sts and /sts/ only).
  app.setNotFoundHandler((req, reply) => {
    return sendFault(reply, new StsFault(404, 'NotFound', `Nothing is served at ${req.url.split('?')[0]}: the mock STS answers at ${app.prefix} and ${app.prefix}/`))
  })

  // '/' under a prefix serves both /sts and /sts/. GET carries the parameters in the query string.
  app.route({
    method: ['POST', 'GET'],
    url: '/',
    handler: async (req, reply) => {
      const requestId = randomUUID()
      let params: URLSearchParams
      let raw = ''
      if (req.method === 'GET') {
        const q = req.url.indexOf('?')
        params = new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1))
      } else if (isFormBody(req.body)) {
        params = req.body.params
        raw = req.body.raw
      } else {
        throw new StsFault(400, 'MissingAction', 'The request must be a POST with an application/x-www-form-urlencoded body holding Action, Version and the action\'s parameters')
      }
      const at = now()
      const auth = await verifySigV4({ method: req.method, url: req.url, headers: req.headers, body: raw }, opts.identities, at)
      if (!auth.ok) return sendFault(reply, new StsFault(auth.status, auth.code, auth.message), requestId)

      const action = params.get('Action')
      if (action === null || action === '') return sendFault(reply, new StsFault(400, 'MissingAction', 'The request must contain the parameter Action'), requestId)
      const version = params.get('Version')
      const handler = Object.hasOwn(actions, action) ? actions[action] : undefined
      if (handler === undefined || (version !== null && version !== STS_API_VERSION)) {
        return sendFault(reply, new StsFault(400, 'InvalidAction', `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`), requestId)
      }
      let fields: Record<string, string>
      try {
        fields = handler({ params, caller: auth.identity, codec: opts.codec, now: at })
      } catch (err) {
        if (err instanceof StsFault) return sendFault(reply, err, requestId)
        throw err
      }
      return sendXml(reply, 200, successXml(action, fields, requestId), requestId)
    }
  })
}

export interface StandaloneOptions {
  identitiesFile: string | null
  secret?: string | null
  dbPath: string
  /** false: a missing key file is not created (a reader such as `whydenied decode`). */
  createKey?: boolean
  /** Default lifetime of tokens minted by POST /api/mock-sts/encode. */
  ttlSeconds?: number | null
  logger?: FastifyServerOptions['logger']
  /** The address it will bind: the same rule as `serve` (anything but loopback-only needs `token`). */
  host?: string
  /** Then required (Authorization: Bearer) by POST /api/mock-sts/encode, which mints under the shared secret. */
  token?: string | null
  lookup?: LookupAll
}

/** `whydenied mock-sts`: the mock alone, at /sts, plus POST /api/mock-sts/encode to mint tokens. */
export async function buildStsMock (opts: StandaloneOptions): Promise<FastifyInstance & { sts: StsSetup }> {
  await assertBindingAllowed(opts.host ?? '127.0.0.1', opts.token, opts.lookup)
  const setup = createStsSetup(opts)
  const app = Fastify({ logger: opts.logger ?? false })
  await app.register(stsMock, { prefix: '/sts', ...setup })
  // The encode route in a JSON context of its own under /api, as in `serve`.
  await app.register(async (api) => {
    api.setErrorHandler(jsonErrorHandler)
    api.setNotFoundHandler(jsonNotFound)
    await api.register(mockStsApi, { codec: setup.codec, ttlSeconds: opts.ttlSeconds ?? null, token: opts.token ?? null })
  }, { prefix: '/api' })
  app.decorate('sts', setup)
  return app as unknown as FastifyInstance & { sts: StsSetup }
}
