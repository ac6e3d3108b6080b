/** Uploads are bounded: over the limit, a clear 413 page (JSON for the JSON twin), and nothing is stored. */
import t from 'tap'
import { buildTestApp } from '../helpers/build.js'
import { fixtureText, html, postForm } from '../routes/pages/support.js'

const LIMIT = 4096

t.test('a file over the limit gets the 413 page', async t => {
  const app = await buildTestApp(t, { maxUploadBytes: LIMIT })
  const big = fixtureText('seed-passrole.json').padEnd(LIMIT * 3, ' ')
  const res = await postForm(app, '/import', [{ name: 'files', filename: 'big.json', content: big }])
  t.equal(res.statusCode, 413)
  t.match(res.headers['content-type'], /text\/html/)
  const doc = html(res)
  t.equal(doc.querySelector('h1')!.text, 'Upload too large')
  t.match(doc.querySelector('#error-message')!.text, 'at most 0 MiB'.replace('0 MiB', `${Math.round(LIMIT / 1048576 * 10) / 10} MiB`))
  t.match(doc.querySelector('.advice')!.text, 'whydenied import')
  t.equal((await app.inject({ url: '/api/denials' })).json().total, 0, 'nothing stored')
})

t.test('pasted text over the limit, and several files adding up over it, get the 413 page', async t => {
  const app = await buildTestApp(t, { maxUploadBytes: LIMIT })
  const pasted = await postForm(app, '/import', [{ name: 'text', value: 'x'.repeat(LIMIT + 10) }])
  t.equal(pasted.statusCode, 413)
  const part = fixtureText('seed-passrole.json')
  const files = Array.from({ length: Math.ceil(LIMIT / part.length) + 1 }, (_, i) => ({ name: 'files', filename: `f${i}.json`, content: part }))
  const many = await postForm(app, '/import', files)
  t.equal(many.statusCode, 413)
  t.equal((await app.inject({ url: '/api/denials' })).json().total, 0)
})

t.test('a declared Content-Length over the limit is refused before the body is read', async t => {
  const app = await buildTestApp(t, { maxUploadBytes: LIMIT })
  const res = await app.inject({ method: 'POST', url: '/import', payload: Buffer.alloc(LIMIT + 128 * 1024), headers: { 'content-type': 'multipart/form-data; boundary=x' } })
  t.equal(res.statusCode, 413)
  t.equal(html(res).querySelector('h1')!.text, 'Upload too large')
  const json = await app.inject({ method: 'POST', url: '/import?format=json', payload: Buffer.alloc(LIMIT + 128 * 1024), headers: { 'content-type': 'multipart/form-data; boundary=x' } })
  t.equal(json.statusCode, 413)
  t.equal(json.json().code, 'WHYDENIED_UPLOAD_TOO_LARGE')
})

t.test('under the limit imports normally', async t => {
  const app = await buildTestApp(t, { maxUploadBytes: LIMIT })
  const res = await postForm(app, '/import', [{ name: 'files', filename: 'ok.json', content: fixtureText('seed-passrole.json') }])
  t.equal(res.statusCode, 200)
  t.equal(html(res).querySelector('#count-imported')!.text, '1')
})
