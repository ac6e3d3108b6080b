/** The app's own forms carry a CSRF token: without it (or with a wrong one) a POST is refused with 403. */
import t from 'tap'
import { buildTestApp } from '../helpers/build.js'
import { csrfFor, fixtureText, html, multipart } from '../routes/pages/support.js'

const file = { name: 'files', filename: 'seed-passrole.json', content: fixtureText('seed-passrole.json') }

t.test('POST /import needs the form\'s CSRF token and its cookie', async t => {
  const app = await buildTestApp(t)
  const { token, cookie } = await csrfFor(app)

  const noToken = multipart([file])
  const r1 = await app.inject({ method: 'POST', url: '/import', payload: noToken.payload, headers: { ...noToken.headers, cookie } })
  t.equal(r1.statusCode, 403, 'no token')
  t.match(r1.headers['content-type'], /text\/html/)
  t.match(html(r1).querySelector('#error-message')!.text, 'security token')

  const withToken = multipart([{ name: '_csrf', value: token }, file])
  const r2 = await app.inject({ method: 'POST', url: '/import', payload: withToken.payload, headers: withToken.headers })
  t.equal(r2.statusCode, 403, 'token without its cookie')

  const other = await csrfFor(app)
  const r3 = await app.inject({ method: 'POST', url: '/import', payload: withToken.payload, headers: { ...withToken.headers, cookie: other.cookie } })
  t.equal(r3.statusCode, 403, 'token from another browser')

  const forged = multipart([{ name: '_csrf', value: token.slice(0, -2) + 'xx' }, file])
  const r4 = await app.inject({ method: 'POST', url: '/import', payload: forged.payload, headers: { ...forged.headers, cookie } })
  t.equal(r4.statusCode, 403, 'altered token')

  t.equal((await app.inject({ url: '/api/denials' })).json().total, 0, 'nothing was imported')

  const r5 = await app.inject({ method: 'POST', url: '/import', payload: withToken.payload, headers: { ...withToken.headers, cookie } })
  t.equal(r5.statusCode, 200, 'the right token and cookie')
  t.equal(html(r5).querySelector('#count-imported')!.text, '1')
})

t.test('the decode form and sign-out need it too; the JSON API does not use it', async t => {
  const app = await buildTestApp(t)
  const body = multipart([{ name: 'text', value: 'anything' }])
  t.equal((await app.inject({ method: 'POST', url: '/import/decode', payload: body.payload, headers: body.headers })).statusCode, 403)
  t.equal((await app.inject({ method: 'POST', url: '/logout', payload: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).statusCode, 403)
  const json = await app.inject({ method: 'POST', url: '/import/decode?format=json', payload: body.payload, headers: body.headers })
  t.equal(json.statusCode, 403)
  t.equal(json.json().code, 'FST_CSRF_MISSING_SECRET')
  // The API is for programs (no cookies): it is guarded by the Origin check, not by a form token.
  const api = await app.inject({ method: 'POST', url: '/api/imports', payload: fixtureText('kms-decrypt.json'), headers: { 'content-type': 'application/json' } })
  t.equal(api.statusCode, 200)
})
