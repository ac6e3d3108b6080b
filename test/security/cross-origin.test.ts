/**
 * A request that changes state from another origin is refused with 403 whatever its content type
 * (Origin / Sec-Fetch-Site), before any body is read; same-origin and non-browser clients pass;
 * the mock STS under /sts is left to its own (SigV4) checks. A foreign Host is refused (DNS rebinding).
 */
import t from 'tap'
import { buildTestApp } from '../helpers/build.js'
import { fixtureText, html, multipart } from '../routes/pages/support.js'

const body = fixtureText('seed-passrole.json')

t.test('cross-origin state changes are refused with 403, whatever the content type', async t => {
  const app = await buildTestApp(t)
  const form = multipart([{ name: 'files', filename: 'a.json', content: body }])
  const variants: Array<{ type: string, payload: string | Buffer }> = [
    { type: 'application/json', payload: body },
    { type: 'text/plain', payload: body },
    { type: 'application/x-www-form-urlencoded', payload: 'text=' + encodeURIComponent(body) },
    { type: form.headers['content-type']!, payload: form.payload },
    { type: 'application/x-ndjson', payload: body }
  ]
  const origins: Array<Record<string, string>> = [
    { origin: 'http://evil.example' },
    { origin: 'null' },
    { origin: 'http://localhost:9999' },
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site', origin: 'http://localhost' }
  ]
  for (const url of ['/api/imports', '/import', '/import/decode', '/api/decode', '/login', '/logout', '/api/does-not-exist']) {
    for (const v of variants) {
      for (const o of origins) {
        const res = await app.inject({ method: 'POST', url, payload: v.payload, headers: { 'content-type': v.type, ...o } })
        t.equal(res.statusCode, 403, `${url} ${v.type} ${JSON.stringify(o)}`)
      }
    }
  }
  for (const method of ['PUT', 'DELETE', 'PATCH'] as const) {
    const res = await app.inject({ method, url: '/api/imports', payload: body, headers: { 'content-type': 'application/json', origin: 'http://evil.example' } })
    t.equal(res.statusCode, 403, method)
  }
  t.equal((await app.inject({ url: '/api/denials' })).json().total, 0, 'nothing was imported')
})

t.test('the 403 is JSON for the API and a page for the browser', async t => {
  const app = await buildTestApp(t)
  const api = await app.inject({ method: 'POST', url: '/api/imports', payload: body, headers: { 'content-type': 'application/json', origin: 'http://evil.example' } })
  t.match(api.json(), { statusCode: 403, code: 'WHYDENIED_CROSS_ORIGIN' })
  const page = await app.inject({ method: 'POST', url: '/import', payload: 'x', headers: { 'content-type': 'text/plain', origin: 'http://evil.example', accept: 'text/html' } })
  t.equal(page.statusCode, 403)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(html(page).querySelector('#error-message')!.text, 'Cross-origin request refused')
})

t.test('same-origin browsers and non-browser clients (no Origin) pass', async t => {
  const app = await buildTestApp(t)
  const same = await app.inject({ method: 'POST', url: '/api/imports', payload: body, headers: { 'content-type': 'application/json', origin: 'http://localhost:80', host: 'localhost:80', 'sec-fetch-site': 'same-origin' } })
  t.equal(same.statusCode, 200)
  t.equal(same.json().imported, 1)
  const cli = await app.inject({ method: 'POST', url: '/api/imports?source=cli', payload: body, headers: { 'content-type': 'application/json' } })
  t.equal(cli.statusCode, 200)
  const typed = await app.inject({ method: 'POST', url: '/api/imports?source=typed', payload: body, headers: { 'content-type': 'application/json', 'sec-fetch-site': 'none' } })
  t.equal(typed.statusCode, 200, 'Sec-Fetch-Site: none is a user action (address bar, bookmark)')
  const get = await app.inject({ url: '/denials', headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } })
  t.equal(get.statusCode, 200, 'reading is not refused: a cross-site page cannot read the answer anyway')
})

t.test('the mock STS is not subject to the browser checks', async t => {
  const app = await buildTestApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/sts',
    payload: 'Action=GetCallerIdentity&Version=2011-06-15',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example', host: 'sts.example' }
  })
  t.notMatch(res.body, /WHYDENIED_CROSS_ORIGIN|WHYDENIED_BAD_HOST/)
  t.match(res.body, /<ErrorResponse|<GetCallerIdentityResponse/, 'the STS answered (here: its own auth error)')
})

t.test('a Host that is not this machine is refused while bound to loopback (DNS rebinding)', async t => {
  const app = await buildTestApp(t)
  for (const host of ['evil.example', 'evil.example:3000', '192.168.1.10:3000']) {
    const res = await app.inject({ url: '/api/denials', headers: { host } })
    t.equal(res.statusCode, 403, host)
    t.equal(res.json().code, 'WHYDENIED_BAD_HOST')
  }
  for (const host of ['localhost:3000', '127.0.0.1:3000', '[::1]:3000', '127.0.0.2']) {
    t.equal((await app.inject({ url: '/api/denials', headers: { host } })).statusCode, 200, host)
  }
})
