/**
 * Sign-in and binding (issue 8, item 6): `next` never leaves this origin, wrong tokens are rate-limited,
 * each sign-in is its own session that Sign out ends, Secure behind a trusted proxy only, and the
 * no-token rule for binding goes by the addresses a name resolves to (shared by serve and mock-sts).
 */
import { spawnServe } from '../helpers/server.js'
import path from 'node:path'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../server/app.js'
import { loadConfig } from '../../server/config.js'
import { AUTH_FAILURE_LIMIT, FailureCounter } from '../../server/util/token-guard.js'
import { bindsLoopbackOnly, type LookupAll } from '../../server/util/binding.js'
import { buildStsMock } from '../../server/sts/plugin.js'
import { buildTestApp, tempDir } from '../helpers/build.js'
import { CLI, runCli } from '../helpers/cli.js'
import { csrfFor, fixtureText, html } from '../routes/pages/support.js'

const TOKEN = 'sign-in-test-token'
const ORIGIN = 'http://127.0.0.1:3000'

/** Query strings as an attacker would write them (raw, already percent-encoded where it matters). */
const HOSTILE_NEXT = [
  '/%09/evil.example', '/%0A/evil.example', '/%0D/evil.example', '/%0B/evil.example', '/%00/evil.example', '/%0C/evil.example',
  '/%7F/evil.example', '%2F%2Fevil.example', '/%2F/evil.example', '/%252F%252Fevil.example', '/%5Cevil.example', '%5C%5Cevil.example',
  '/%5C/evil.example', '/%255C/evil.example', '//evil.example', '///evil.example', '/.//evil.example', '/..//evil.example',
  'https://evil.example', 'https:%2F%2Fevil.example', 'http:/evil.example', 'javascript:alert(1)', '%20//evil.example',
  '/%20/evil.example', '/%E2%80%AE/evil.example', '/%C2%85/evil.example', '/%E9', '/%C3%A9', '/%', '/%ZZ', '%E0%A4%A',
  '/%0D%0ASet-Cookie:%20x=1', '/%2509/evil.example', 'evil.example', '', '/' + 'a'.repeat(5000), '/%EF%BF%BF', '/%F0%9F%98%80'
]

function sameOrigin (t: Test, location: unknown, label: string): void {
  t.type(location, 'string', `${label}: a Location`)
  const u = new URL(String(location), ORIGIN)
  t.equal(u.origin, ORIGIN, `${label}: ${JSON.stringify(location)} stays on ${ORIGIN}`)
}

async function signIn (app: FastifyInstance, opts: { next?: string, headers?: Record<string, string>, remoteAddress?: string, token?: string } = {}) {
  const { token: csrf, cookie } = await csrfFor(app, '/login')
  return app.inject({
    method: 'POST',
    url: '/login',
    remoteAddress: opts.remoteAddress,
    payload: new URLSearchParams({ _csrf: csrf, token: opts.token ?? TOKEN, ...(opts.next !== undefined ? { next: opts.next } : {}) }).toString(),
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...opts.headers }
  })
}

function sessionOf (res: { cookies: Array<{ name: string, value: string }> }): string {
  return res.cookies.find(c => c.name === 'whydenied_session')!.value
}

t.test('open redirect: no `next` leads off this origin, and none gives a 500', async t => {
  const open = await buildTestApp(t)
  const locked = await buildTestApp(t, { host: '0.0.0.0', token: TOKEN })
  for (const raw of HOSTILE_NEXT) {
    // No token: GET /login redirects straight to `next`.
    const direct = await open.inject({ url: `/login?next=${raw}`, headers: { host: '127.0.0.1:3000' } })
    t.equal(direct.statusCode, 303, `GET ${raw}`)
    sameOrigin(t, direct.headers.location, `GET ${raw}`)
    // With a token: the form keeps a safe `next`, and a correct sign-in goes there.
    const form = await locked.inject({ url: `/login?next=${raw}` })
    t.equal(form.statusCode, 200, `form ${raw}`)
    const next = html(form).querySelector('input[name="next"]')!.getAttribute('value')!
    sameOrigin(t, next, `form ${raw}`)
    const decoded = (() => { try { return decodeURIComponent(raw) } catch { return raw } })()
    for (const value of [decoded, raw]) {
      const res = await signIn(locked, { next: value })
      t.equal(res.statusCode, 303, `POST ${JSON.stringify(value)}`)
      sameOrigin(t, res.headers.location, `POST ${JSON.stringify(value)}`)
    }
  }
  // The reported case exactly, and ordinary values kept as they are.
  t.equal((await open.inject({ url: '/login?next=/%09/evil.example' })).headers.location, '/')
  for (const ok of ['/denials?action=iam:PassRole', '/denials/12', '/denials?q=https://example.com/x', '/denials?x=%2F%2F']) {
    t.equal((await open.inject({ url: `/login?next=${encodeURIComponent(ok)}` })).headers.location, ok, ok)
  }
})

t.test('sessions: each sign-in its own id; Sign out ends exactly that one', async t => {
  const app = await buildTestApp(t, { host: '0.0.0.0', token: TOKEN })
  const a = sessionOf(await signIn(app))
  const b = sessionOf(await signIn(app))
  t.not(a, b, 'two sign-ins, two ids')
  for (const s of [a, b]) t.equal((await app.inject({ url: '/api/denials', headers: { cookie: `whydenied_session=${s}` } })).statusCode, 200)

  const { token: csrf, cookie } = await csrfFor(app, '/denials', { cookie: `whydenied_session=${a}` })
  const out = await app.inject({ method: 'POST', url: '/logout', payload: { _csrf: csrf }, headers: { cookie: `${cookie}; whydenied_session=${a}` } })
  t.equal(out.statusCode, 303)
  t.equal(sessionOf(out), '', 'the browser is told to drop it')
  // A copy of the cookie kept after Sign out is worthless.
  t.equal((await app.inject({ url: '/api/denials', headers: { cookie: `whydenied_session=${a}` } })).statusCode, 401, 'cookie rejected after sign-out')
  t.equal((await app.inject({ url: '/denials', headers: { cookie: `whydenied_session=${a}`, accept: 'text/html' } })).statusCode, 303)
  t.equal((await app.inject({ url: '/api/denials', headers: { cookie: `whydenied_session=${b}` } })).statusCode, 200, 'the other session lives on')
  // Another server (a restart) knows none of them.
  const other = await buildTestApp(t, { host: '0.0.0.0', token: TOKEN })
  t.equal((await other.inject({ url: '/api/denials', headers: { cookie: `whydenied_session=${b}` } })).statusCode, 401)
})

t.test('the session cookie is Secure when the request came over HTTPS through a trusted proxy only', async t => {
  const plain = await buildTestApp(t, { host: '0.0.0.0', token: TOKEN })
  const spoofed = (await signIn(plain, { headers: { 'x-forwarded-proto': 'https' } })).cookies.find(c => c.name === 'whydenied_session')!
  t.notOk(spoofed.secure, 'without --trust-proxy, X-Forwarded-Proto is ignored')

  const proxied = await buildTestApp(t, { host: '0.0.0.0', token: TOKEN, trustProxy: true })
  t.ok((await signIn(proxied, { headers: { 'x-forwarded-proto': 'https' } })).cookies.find(c => c.name === 'whydenied_session')!.secure, 'Secure with --trust-proxy and X-Forwarded-Proto: https')
  t.notOk((await signIn(proxied, { headers: { 'x-forwarded-proto': 'http' } })).cookies.find(c => c.name === 'whydenied_session')!.secure, 'not over plain HTTP')
})

t.test('wrong bearer tokens are rate-limited per client; a client under the limit still gets in', async t => {
  const app = await buildTestApp(t, { host: '0.0.0.0', token: TOKEN })
  const attacker = '10.0.0.66'
  const start = Date.now()
  const tries = await Promise.all(Array.from({ length: 300 }, (_, i) =>
    app.inject({ url: '/api/denials', remoteAddress: attacker, headers: { authorization: `Bearer guess-${i}` } })))
  t.ok(Date.now() - start < 30_000)
  const codes = tries.map(r => r.statusCode)
  t.equal(codes.filter(c => c === 401).length, AUTH_FAILURE_LIMIT, `${AUTH_FAILURE_LIMIT} plain 401s`)
  t.equal(codes.filter(c => c === 429).length, 300 - AUTH_FAILURE_LIMIT, 'then 429')
  const limited = tries.find(r => r.statusCode === 429)!
  t.match(limited.headers['retry-after'], /^\d+$/)
  t.ok(Number(limited.headers['retry-after']) >= 1 && Number(limited.headers['retry-after']) <= 60)
  t.match(limited.json(), { statusCode: 429, code: 'WHYDENIED_TOO_MANY_ATTEMPTS', error: 'Too Many Requests' })

  // Over the limit even the right token is not compared: the answer must not tell it apart.
  const right = await app.inject({ url: '/api/denials', remoteAddress: attacker, headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(right.statusCode, 429)
  // Another client is not affected.
  t.equal((await app.inject({ url: '/api/denials', remoteAddress: '10.0.0.7', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200)
  t.equal((await app.inject({ url: '/api/denials', remoteAddress: '10.0.0.7', headers: { authorization: 'Bearer wrong' } })).statusCode, 401)
  // Right tokens never count.
  for (let i = 0; i < AUTH_FAILURE_LIMIT * 3; i++) {
    t.equal((await app.inject({ url: '/api/denials', remoteAddress: '10.0.0.8', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200)
  }
})

t.test('the failure counter: per client, per window, bounded', async t => {
  let now = 1_000_000
  const c = new FailureCounter(3, 60_000, 4, () => now)
  for (let i = 0; i < 3; i++) { t.equal(c.retryAfter('a'), 0); c.fail('a') }
  t.equal(c.retryAfter('a'), 60, 'over: wait for the rest of the window')
  t.equal(c.retryAfter('b'), 0, 'others unaffected')
  now += 30_500
  t.equal(c.retryAfter('a'), 30)
  now += 30_000
  t.equal(c.retryAfter('a'), 0, 'a new window')
  for (const k of ['k1', 'k2', 'k3', 'k4', 'k5']) c.fail(k)
  t.equal((c as unknown as { windows: Map<string, unknown> }).windows.size, 4, 'never more than the cap')
})

t.test('wrong sign-ins are rate-limited too, with a 429 page and Retry-After', async t => {
  const app = await buildTestApp(t, { host: '0.0.0.0', token: TOKEN })
  const attacker = '10.0.0.99'
  for (let i = 0; i < AUTH_FAILURE_LIMIT; i++) t.equal((await signIn(app, { token: `nope-${i}`, remoteAddress: attacker })).statusCode, 401)
  const over = await signIn(app, { token: 'nope-again', remoteAddress: attacker })
  t.equal(over.statusCode, 429)
  t.match(over.headers['retry-after'], /^\d+$/)
  t.match(over.headers['content-type'], /text\/html/)
  t.match(html(over).querySelector('#error-message')!.text, 'Too many wrong tokens')
  t.notOk(over.cookies.some(c => c.name === 'whydenied_session'))
  t.equal((await signIn(app, { remoteAddress: attacker })).statusCode, 429, 'the right token is not even compared')
  const ok = await signIn(app, { remoteAddress: '10.0.0.100' })
  t.equal(ok.statusCode, 303, 'another client signs in')
  // Bearer and sign-in failures share one count.
  t.equal((await app.inject({ url: '/api/denials', remoteAddress: attacker, headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 429)
})

t.test('serve --trust-proxy over real HTTP: Secure behind HTTPS, limits per forwarded client', async t => {
  const dir = tempDir(t)
  const { url } = await spawnServe(t, [CLI, 'serve', '--port', '0', '--db', path.join(dir, 's.db'), '--token', TOKEN, '--trust-proxy', '--quiet'])
  const base = url.replace(/\/$/, '')
  const form = await fetch(`${base}/login`)
  const csrf = html(await form.text()).querySelector('input[name="_csrf"]')!.getAttribute('value')!
  const csrfCookie = form.headers.getSetCookie().find(c => c.startsWith('_csrf='))!.split(';')[0]!
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ _csrf: csrf, token: TOKEN, next: '/%09/evil.example' }),
    headers: { cookie: csrfCookie, 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.5' }
  })
  t.equal(res.status, 303)
  t.equal(res.headers.get('location'), '/')
  const session = res.headers.getSetCookie().find(c => c.startsWith('whydenied_session='))!
  t.match(session, /; Secure/)
  t.match(session, /; HttpOnly/)

  // The proxy's X-Forwarded-For names the client: one client over the limit, another still fine.
  const wrong = (ip: string) => fetch(`${base}/api/denials`, { headers: { authorization: 'Bearer wrong', 'x-forwarded-for': ip } })
  const codes = []
  for (let i = 0; i <= AUTH_FAILURE_LIMIT; i++) codes.push((await wrong('203.0.113.9')).status)
  t.same(codes, [...Array(AUTH_FAILURE_LIMIT).fill(401), 429])
  t.equal((await fetch(`${base}/api/denials`, { headers: { authorization: `Bearer ${TOKEN}`, 'x-forwarded-for': '203.0.113.10' } })).status, 200)
})

t.test('binding: decided by the addresses a name resolves to, not by the name', async t => {
  const lookupOf = (addrs: string[]): LookupAll => async () => addrs.map(address => ({ address }))
  const failing: LookupAll = async () => { throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }) }
  t.ok(await bindsLoopbackOnly('dev.localhost', lookupOf(['127.0.0.1', '::1'])))
  t.ok(await bindsLoopbackOnly('box', lookupOf(['127.0.1.1'])))
  t.notOk(await bindsLoopbackOnly('dev.localhost', lookupOf(['192.168.1.20'])), 'a .localhost name mapped to a LAN address')
  t.notOk(await bindsLoopbackOnly('localhost', lookupOf(['127.0.0.1', '10.0.0.5'])), 'every address must be loopback')
  t.notOk(await bindsLoopbackOnly('localhost', lookupOf([])))
  t.notOk(await bindsLoopbackOnly('nowhere.localhost', failing), 'unresolvable: not known to be loopback')
  const never: LookupAll = async () => { throw new Error('literals need no lookup') }
  for (const lit of ['127.0.0.1', '127.9.9.9', '::1', '[::1]', '::ffff:127.0.0.1']) t.ok(await bindsLoopbackOnly(lit, never), lit)
  for (const lit of ['0.0.0.0', '::', '10.0.0.1', '::ffff:10.0.0.1', '[::]']) t.notOk(await bindsLoopbackOnly(lit, never), lit)

  const dir = tempDir(t)
  const config = (host: string, token: string | null = null) => loadConfig({ dbPath: path.join(dir, 'b.db'), host, token, logLevel: 'silent' }, {})
  await t.rejects(buildApp(config('dev.localhost'), { logger: false, lookup: lookupOf(['192.168.1.20']) }), { code: 'WHYDENIED_TOKEN_REQUIRED', message: /dev\.localhost/ })
  const withToken = await buildApp(config('dev.localhost', TOKEN), { logger: false, lookup: lookupOf(['192.168.1.20']) })
  await withToken.close()
  const loop = await buildApp(config('dev.localhost'), { logger: false, lookup: lookupOf(['127.0.0.1', '::1']) })
  await loop.close()
  t.pass('a name resolving to loopback only needs no token')
})

t.test('mock-sts follows the same rule: non-loopback needs --token, and minting then needs it', async t => {
  const dir = tempDir(t)
  const dbPath = path.join(dir, 'm.db')
  for (const host of ['0.0.0.0', '::', '192.168.1.20']) {
    await t.rejects(buildStsMock({ identitiesFile: null, dbPath, host }), { code: 'WHYDENIED_TOKEN_REQUIRED' }, host)
  }
  await t.rejects(buildStsMock({ identitiesFile: null, dbPath, host: 'dev.localhost', lookup: async () => [{ address: '10.1.2.3' }] }), { code: 'WHYDENIED_TOKEN_REQUIRED' })

  const mock = await buildStsMock({ identitiesFile: null, dbPath, host: '0.0.0.0', token: TOKEN })
  t.teardown(() => mock.close())
  const body = fixtureText('kms-decrypt.json')
  const none = await mock.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: body, headers: { 'content-type': 'application/json' } })
  t.equal(none.statusCode, 401)
  t.equal(none.json().code, 'WHYDENIED_UNAUTHORIZED')
  t.equal((await mock.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: body, headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' } })).statusCode, 401)
  const ok = await mock.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: body, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } })
  t.equal(ok.statusCode, 200)
  t.type(ok.json().EncodedMessage, 'string')
  // Wrong tokens are limited as on `serve` (one was sent above).
  for (let i = 1; i < AUTH_FAILURE_LIMIT; i++) t.equal((await mock.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: body, headers: { 'content-type': 'application/json', authorization: `Bearer no-${i}` } })).statusCode, 401)
  const limited = await mock.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: body, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } })
  t.equal(limited.statusCode, 429)
  t.match(limited.headers['retry-after'], /^\d+$/)

  // Loopback without a token keeps working as before.
  const local = await buildStsMock({ identitiesFile: null, dbPath, host: '127.0.0.1' })
  t.teardown(() => local.close())
  t.equal((await local.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: body, headers: { 'content-type': 'application/json' } })).statusCode, 200)

  const refused = await runCli(['mock-sts', '--host', '0.0.0.0', '--port', '0', '--db', dbPath], { timeoutMs: 20_000 })
  t.equal(refused.code, 1)
  t.match(refused.stderr, /Refusing to listen on 0\.0\.0\.0 without a token/)
})
