/**
 * Binding anything but loopback requires a token; then every page and API call needs it: a bearer
 * header for the API, or the cookie the login form sets for the browser. /sts keeps its own auth.
 */
import { spawnServe } from '../helpers/server.js'
import path from 'node:path'
import t from 'tap'
import { buildApp } from '../../server/app.js'
import { loadConfig } from '../../server/config.js'
import { buildTestApp, tempDir } from '../helpers/build.js'
import { CLI, runCli } from '../helpers/cli.js'
import { csrfFor, fixtureText, html } from '../routes/pages/support.js'

const TOKEN = 's3cret-token-for-tests'

t.test('buildApp refuses a non-loopback host without a token, with a clear message', async t => {
  const dir = tempDir(t)
  for (const host of ['0.0.0.0', '::', '192.168.1.20', 'example.internal']) {
    await t.rejects(buildApp(loadConfig({ dbPath: path.join(dir, 'x.db'), host, logLevel: 'silent' }, {}), { logger: false }),
      { code: 'WHYDENIED_TOKEN_REQUIRED', message: /without a token.*--token/ }, host)
  }
  for (const host of ['127.0.0.1', '::1', 'localhost', '127.0.0.5']) {
    const app = await buildApp(loadConfig({ dbPath: path.join(dir, 'y.db'), host, logLevel: 'silent' }, {}), { logger: false })
    await app.close()
    t.pass(`${host} needs no token`)
  }
})

t.test('whydenied serve --host 0.0.0.0 refuses to start without --token, and starts with one', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'serve.db')
  const refused = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--db', db], { timeoutMs: 20_000 })
  t.equal(refused.code, 1)
  t.match(refused.stderr, /Refusing to listen on 0\.0\.0\.0 without a token/)
  t.match(refused.stderr, /--token/)

  // With the token in the environment it starts and prints its URL.
  const served = await spawnServe(t, [CLI, 'serve', '--host', '0.0.0.0', '--port', '0', '--db', db, '--quiet'], { env: { WHYDENIED_TOKEN: TOKEN } })
  const child = served.child
  const url = `http://127.0.0.1:${new URL(served.url).port}`
  try {
    const denied = await fetch(`${url}/api/denials`)
    t.equal(denied.status, 401)
    const ok = await fetch(`${url}/api/denials`, { headers: { authorization: `Bearer ${TOKEN}` } })
    t.equal(ok.status, 200)
  } finally {
    child.kill('SIGTERM')
  }
})

t.test('with a token: the API needs the bearer header', async t => {
  const app = await buildTestApp(t, { host: '0.0.0.0', token: TOKEN })
  const none = await app.inject({ url: '/api/denials' })
  t.equal(none.statusCode, 401)
  t.match(none.json(), { code: 'WHYDENIED_UNAUTHORIZED' })
  t.match(none.headers['www-authenticate'], /^Bearer/)
  t.equal((await app.inject({ url: '/api/denials', headers: { authorization: 'Bearer wrong' } })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/denials', headers: { authorization: `Basic ${TOKEN}` } })).statusCode, 401)
  t.equal((await app.inject({ url: '/api/denials', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200)
  const imp = await app.inject({ method: 'POST', url: '/api/imports', payload: fixtureText('seed-passrole.json'), headers: { 'content-type': 'application/json' } })
  t.equal(imp.statusCode, 401, 'writes too')
  const imp2 = await app.inject({ method: 'POST', url: '/api/imports', payload: fixtureText('seed-passrole.json'), headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } })
  t.equal(imp2.statusCode, 200)
  t.equal((await app.inject({ url: '/?format=json' })).statusCode, 401, 'JSON twins too')
  t.equal((await app.inject({ url: '/nowhere', headers: { accept: 'application/json' } })).statusCode, 401, 'even unknown URLs')
})

t.test('with a token: pages redirect to the login form, which sets a cookie', async t => {
  const app = await buildTestApp(t, { host: '0.0.0.0', token: TOKEN })
  for (const url of ['/', '/denials?action=iam:PassRole', '/denials/1', '/import']) {
    const res = await app.inject({ url, headers: { accept: 'text/html' } })
    t.equal(res.statusCode, 303, url)
    t.equal(res.headers.location, `/login?next=${encodeURIComponent(url)}`)
  }
  t.equal((await app.inject({ url: '/static/app.css' })).statusCode, 200, 'the stylesheet needs no token (the login page uses it)')

  const form = await app.inject({ url: '/login?next=%2Fdenials%3Faction%3Diam%3APassRole' })
  t.equal(form.statusCode, 200)
  const doc = html(form)
  t.equal(doc.querySelector('input[name="next"]')!.getAttribute('value'), '/denials?action=iam:PassRole')
  t.equal(doc.querySelector('input[name="token"]')!.getAttribute('type'), 'password')
  const { token: csrf, cookie } = await csrfFor(app, '/login')

  const wrong = await app.inject({ method: 'POST', url: '/login', payload: { token: 'nope', next: '/denials', _csrf: csrf }, headers: { cookie } })
  t.equal(wrong.statusCode, 401)
  t.match(html(wrong).querySelector('.notice-error')!.text, 'not the one')
  t.notOk(wrong.cookies.some(c => c.name === 'whydenied_session'))

  const noCsrf = await app.inject({ method: 'POST', url: '/login', payload: { token: TOKEN, next: '/' }, headers: { cookie } })
  t.equal(noCsrf.statusCode, 403, 'the login form needs its CSRF token too')

  // As the browser sends the form: urlencoded.
  const ok = await app.inject({
    method: 'POST',
    url: '/login',
    payload: new URLSearchParams({ _csrf: csrf, next: '/denials?action=iam:PassRole', token: TOKEN }).toString(),
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }
  })
  t.equal(ok.statusCode, 303)
  t.equal(ok.headers.location, '/denials?action=iam:PassRole')
  const session = ok.cookies.find(c => c.name === 'whydenied_session')!
  t.ok(session.httpOnly)
  t.equal(session.sameSite, 'Strict')
  t.equal(session.path, '/')
  t.not(session.value, TOKEN, 'the cookie does not hold the token itself')
  t.match(session.value, /^[\w-]{43}$/, 'a random session id (256 bits)')

  const page = await app.inject({ url: '/denials', headers: { cookie: `whydenied_session=${session.value}` } })
  t.equal(page.statusCode, 200)
  t.ok(html(page).querySelector('form.signout'), 'signed-in pages offer sign-out')
  t.equal((await app.inject({ url: '/api/denials', headers: { cookie: `whydenied_session=${session.value}` } })).statusCode, 200)
  t.equal((await app.inject({ url: '/denials', headers: { cookie: 'whydenied_session=forged', accept: 'text/html' } })).statusCode, 303)
})

t.test('login: the next URL stays on this server (no open redirect); sign-out clears the cookie', async t => {
  const app = await buildTestApp(t, { host: '0.0.0.0', token: TOKEN })
  const { token: csrf, cookie } = await csrfFor(app, '/login')
  for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
    const res = await app.inject({ method: 'POST', url: '/login', payload: { token: TOKEN, next, _csrf: csrf }, headers: { cookie } })
    t.equal(res.headers.location, '/', next)
  }
  const signIn = await app.inject({ method: 'POST', url: '/login', payload: { token: TOKEN, _csrf: csrf }, headers: { cookie } })
  const session = `whydenied_session=${signIn.cookies.find(c => c.name === 'whydenied_session')!.value}`
  const { token: csrf2, cookie: c2 } = await csrfFor(app, '/denials', { cookie: session })
  const out = await app.inject({ method: 'POST', url: '/logout', payload: { _csrf: csrf2 }, headers: { cookie: `${c2}; ${session}` } })
  t.equal(out.statusCode, 303)
  t.equal(out.headers.location, '/login')
  const cleared = out.cookies.find(c => c.name === 'whydenied_session')!
  t.equal(cleared.value, '')
})

t.test('without a token, /login just goes home', async t => {
  const app = await buildTestApp(t)
  const res = await app.inject({ url: '/login?next=/denials' })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/denials')
})

t.test('the mock STS keeps its own authentication when a token is set', async t => {
  const app = await buildTestApp(t, { host: '0.0.0.0', token: TOKEN })
  const res = await app.inject({ method: 'POST', url: '/sts', payload: 'Action=GetCallerIdentity&Version=2011-06-15', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.notMatch(res.body, /WHYDENIED_UNAUTHORIZED/)
  t.match(res.body, /MissingAuthenticationToken/, 'the STS itself asks for SigV4 credentials')
})
