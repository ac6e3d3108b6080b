/**
 * One error path: each context answers every failure in its own format, also when a hook replies
 * before routing (Host and cross-origin checks, the token, 404s, body limits). Over real HTTP.
 */
import t, { type Test } from 'tap'
import { request } from 'node:http'
import Fastify from 'fastify'
import { errorBody, jsonErrorHandler } from '../../server/errors.js'
import { buildTestApp, type TapLike } from '../helpers/build.js'

interface Res { status: number, type: string, body: string, headers: Record<string, string | string[] | undefined> }

/** One request over HTTP, with any Host header (fetch would not send ours). */
function send (base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Res> {
  const u = new URL(base)
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers: { host: u.host, ...headers } }, res => {
      let data = ''
      res.setEncoding('utf8').on('data', d => { data += d }).on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type'] ?? ''), body: data, headers: res.headers }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function listening (t: TapLike, overrides = {}): Promise<string> {
  const app = await buildTestApp(t, overrides)
  return app.listen({ host: '127.0.0.1', port: 0 })
}

const ERROR_KEYS = ['code', 'error', 'message', 'statusCode']
function jsonError (t: Test, res: Res, status: number, code: string): void {
  t.equal(res.status, status)
  t.match(res.type, /^application\/json/)
  const body = JSON.parse(res.body) as Record<string, unknown>
  t.same(Object.keys(body).sort(), ERROR_KEYS)
  t.equal(body.statusCode, status)
  t.equal(body.code, code)
}

function errorPage (t: Test, res: Res, status: number, text: RegExp): void {
  t.equal(res.status, status)
  t.match(res.type, /^text\/html/)
  t.match(res.body, /<h1[^>]*>/)
  t.match(res.body, text)
}

const BROWSER = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }

t.test('pages: the error page, for a 404, a bad Host and a cross-origin post (refused before routing)', async t => {
  const base = await listening(t)
  errorPage(t, await send(base, 'GET', '/no/such/page', BROWSER), 404, /There is no page at \/no\/such\/page/)
  errorPage(t, await send(base, 'GET', '/denials/999999', BROWSER), 404, /No denial with id 999999/)
  errorPage(t, await send(base, 'GET', '/denials', { ...BROWSER, host: 'evil.example' }), 403, /is not this machine/)
  errorPage(t, await send(base, 'GET', '/no/such/page', { ...BROWSER, host: 'evil.example' }), 403, /is not this machine/)
  errorPage(t, await send(base, 'POST', '/import', { ...BROWSER, origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, 'text=x'), 403, /Cross-origin request refused/)
})

t.test('?format=json twins of pages: the JSON error body, decided by the page context from the query', async t => {
  const base = await listening(t)
  jsonError(t, await send(base, 'GET', '/no/such/page?format=json', BROWSER), 404, 'WHYDENIED_NOT_FOUND')
  jsonError(t, await send(base, 'GET', '/denials/999999?format=json', BROWSER), 404, 'WHYDENIED_DENIAL_NOT_FOUND')
  jsonError(t, await send(base, 'GET', '/denials?format=json', { ...BROWSER, host: 'evil.example' }), 403, 'WHYDENIED_BAD_HOST')
  jsonError(t, await send(base, 'GET', '/denials?since=whenever&format=json', BROWSER), 400, 'WHYDENIED_BAD_FILTER')
  // A path that merely starts like another context is still a page.
  errorPage(t, await send(base, 'GET', '/apix', BROWSER), 404, /There is no page at \/apix/)
  errorPage(t, await send(base, 'GET', '/stsx', BROWSER), 404, /There is no page at \/stsx/)
})

t.test('the API: the JSON error body whatever the client accepts, for a 404, a bad Host, a body over the limit', async t => {
  const base = await listening(t, { maxUploadBytes: 1024 })
  jsonError(t, await send(base, 'GET', '/api/no-such-route', BROWSER), 404, 'WHYDENIED_NOT_FOUND')
  jsonError(t, await send(base, 'GET', '/api', BROWSER), 404, 'WHYDENIED_NOT_FOUND')
  jsonError(t, await send(base, 'GET', '/api/denials/999999', BROWSER), 404, 'WHYDENIED_DENIAL_NOT_FOUND')
  jsonError(t, await send(base, 'GET', '/api/denials', { ...BROWSER, host: 'evil.example' }), 403, 'WHYDENIED_BAD_HOST')
  jsonError(t, await send(base, 'GET', '/api/no-such-route', { ...BROWSER, host: 'evil.example' }), 403, 'WHYDENIED_BAD_HOST')
  jsonError(t, await send(base, 'POST', '/api/imports', { 'content-type': 'application/json' }, 'x'.repeat(4096)), 413, 'FST_ERR_CTP_BODY_TOO_LARGE')
  jsonError(t, await send(base, 'GET', '/api/denials?limit=0'), 400, 'FST_ERR_VALIDATION')
})

t.test('with a token: a page redirects to sign in, its JSON twin and the API answer 401 JSON', async t => {
  const base = await listening(t, { host: '0.0.0.0', token: 'tok-for-shapes' })
  const page = await send(base, 'GET', '/denials', BROWSER)
  t.equal(page.status, 303)
  t.equal(page.headers.location, '/login?next=%2Fdenials')
  jsonError(t, await send(base, 'GET', '/denials?format=json', BROWSER), 401, 'WHYDENIED_UNAUTHORIZED')
  jsonError(t, await send(base, 'GET', '/api/denials', BROWSER), 401, 'WHYDENIED_UNAUTHORIZED')
  jsonError(t, await send(base, 'GET', '/api/no-such-route', BROWSER), 401, 'WHYDENIED_UNAUTHORIZED')
})

t.test('the mock STS: AWS XML errors for a 404 and a body over its limit; the pages\' checks never apply', async t => {
  const base = await listening(t)
  const xml = (res: Res, status: number, code: string): void => {
    t.equal(res.status, status)
    t.match(res.type, /^text\/xml/)
    t.match(res.body, new RegExp(`<ErrorResponse[^>]*>\\s*<Error>\\s*<Type>Sender</Type>\\s*<Code>${code}</Code>`))
  }
  xml(await send(base, 'GET', '/sts/no-such-path', BROWSER), 404, 'NotFound')
  xml(await send(base, 'POST', '/sts', { 'content-type': 'application/x-www-form-urlencoded' }, 'Action=' + 'x'.repeat(200_000)), 413, 'RequestEntityTooLarge')
  // No Host rule, no cross-origin rule: SigV4 decides (here: no Authorization at all).
  xml(await send(base, 'POST', '/sts', { host: 'evil.example', origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, 'Action=GetCallerIdentity&Version=2011-06-15'), 403, 'MissingAuthenticationToken')
})

t.test('the one JSON error body: a 5xx hides its cause and is logged with its request; an exposed 5xx keeps its message', async t => {
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'error', stream: { write: (l: string) => { lines.push(l) } } } })
  app.setErrorHandler(jsonErrorHandler)
  app.get('/boom/:id', async () => { throw new Error('secret detail of /var/lib/x') })
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/boom/7?x=1' })
  t.equal(res.statusCode, 500)
  t.same(res.json(), { statusCode: 500, code: 'WHYDENIED_INTERNAL', error: 'Internal Server Error', message: 'Internal Server Error' })
  t.equal(lines.length, 1)
  const log = JSON.parse(lines[0]!) as { msg: string, method: string, url: string, params: unknown, err: { message: string } }
  t.equal(log.msg, 'request failed')
  t.same([log.method, log.url, log.params, log.err.message], ['GET', '/boom/7?x=1', { id: '7' }, 'secret detail of /var/lib/x'])

  const exposed = Object.assign(new Error('Cannot reach the STS'), { statusCode: 502, code: 'WHYDENIED_STS_UNREACHABLE', expose: true })
  t.same(errorBody(exposed), { statusCode: 502, code: 'WHYDENIED_STS_UNREACHABLE', error: 'Bad Gateway', message: 'Cannot reach the STS' })
  t.same(errorBody(Object.assign(new Error('no'), { statusCode: 418, details: { extra: 1 } })), { statusCode: 418, code: 'WHYDENIED_BAD_REQUEST', error: 'I\'m a Teapot', message: 'no', extra: 1 })
})
