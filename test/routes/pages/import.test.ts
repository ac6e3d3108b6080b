/**
 * GET/POST /import : upload files, paste decoded JSON, paste error text with an encoded message;
 * the import summary lists every rejected record with its reason; JSON twins.
 */
import t from 'tap'
import path from 'node:path'
import { Writable } from 'node:stream'
import { buildApp } from '../../../server/app.js'
import { loadConfig } from '../../../server/config.js'
import { buildTestApp, tempDir } from '../../helpers/build.js'
import { fixtureText, html, postForm, texts } from './support.js'

t.test('the import page offers upload and paste forms, each with a CSRF token', async t => {
  const app = await buildTestApp(t)
  const res = await app.inject({ url: '/import' })
  t.equal(res.statusCode, 200)
  const doc = html(res)
  for (const id of ['upload-form', 'paste-form', 'decode-form']) {
    const form = doc.querySelector(`#${id}`)!
    t.ok(form, id)
    t.equal(form.getAttribute('method'), 'post')
    t.equal(form.getAttribute('enctype'), 'multipart/form-data')
    t.ok(form.querySelector('input[type="hidden"][name="_csrf"]')?.getAttribute('value'), `${id} carries a CSRF token`)
  }
  t.equal(doc.querySelector('#upload-form')!.getAttribute('action'), '/import')
  t.equal(doc.querySelector('#files')!.getAttribute('type'), 'file')
  t.ok(doc.querySelector('#files')!.hasAttribute('multiple'))
  t.equal(doc.querySelector('#decode-form')!.getAttribute('action'), '/import/decode')
  t.ok(res.cookies.some(c => c.name === '_csrf' && c.httpOnly && c.sameSite === 'Strict'), 'the CSRF secret cookie is HttpOnly and SameSite=Strict')
  t.equal(doc.querySelector('#latest-h ~ p.muted')!.text, 'Nothing imported yet.')
})

t.test('uploading files imports them and shows the summary; again, all duplicates', async t => {
  const app = await buildTestApp(t)
  const files = [
    { name: 'files', filename: 'seed-passrole.json', content: fixtureText('seed-passrole.json') },
    { name: 'files', filename: 'kms-decrypt.json', content: fixtureText('kms-decrypt.json') }
  ]
  const res = await postForm(app, '/import', files)
  t.equal(res.statusCode, 200)
  const doc = html(res)
  t.equal(doc.querySelector('#count-imported')!.text, '2')
  t.equal(doc.querySelector('#count-duplicates')!.text, '0')
  t.equal(doc.querySelector('#count-rejected')!.text, '0')
  t.same(texts(doc, '#import-result .input-name'), ['seed-passrole.json', 'kms-decrypt.json'])
  t.notOk(doc.querySelector('.rejects-table'))
  t.same(texts(doc, '.imports-table tbody td.arn').slice(0, 2), ['kms-decrypt.json', 'seed-passrole.json'], 'the latest imports list the new ones')
  t.equal((await app.inject({ url: '/api/denials' })).json().total, 2)

  const again = html(await postForm(app, '/import', files))
  t.equal(again.querySelector('#count-imported')!.text, '0')
  t.equal(again.querySelector('#count-duplicates')!.text, '2')
})

t.test('pasted JSON with bad lines: valid records stored, every rejected record listed with its reason', async t => {
  const app = await buildTestApp(t)
  const good = JSON.stringify(JSON.parse(fixtureText('seed-passrole.json')))
  const text = [good, '{"DecodedMessage": "{not json"}', '{"hello": "world"}', JSON.stringify(JSON.parse(fixtureText('minimal-no-conditions.json')))].join('\n')
  const res = await postForm(app, '/import', [{ name: 'text', value: text }, { name: 'source', value: 'ticket-1234' }])
  t.equal(res.statusCode, 200)
  const doc = html(res)
  t.equal(doc.querySelector('#count-imported')!.text, '2')
  t.equal(doc.querySelector('#count-rejected')!.text, '2')
  const rows = doc.querySelectorAll('.rejects-table tbody tr').map(r => texts(r, 'td'))
  t.equal(rows.length, 2)
  t.same(rows.map(r => r[0]), ['ticket-1234', 'ticket-1234'])
  t.same(rows.map(r => r[1]), ['2', '3'], 'each reject names its line')
  t.ok(rows.every(r => (r[2] ?? '').length > 10), 'each reject has a reason')
  t.ok(doc.querySelector('#import-result.has-rejects'))
  const list = (await app.inject({ url: '/api/denials' })).json()
  t.equal(list.total, 2)
})

t.test('the JSON twin answers the import summary', async t => {
  const app = await buildTestApp(t)
  const res = await postForm(app, '/import?format=json', [{ name: 'text', value: 'nope' }])
  t.equal(res.statusCode, 200)
  const j = res.json()
  t.equal(j.imported, 0)
  t.equal(j.rejected.length, 1)
  t.match(j.rejected[0], { source: 'pasted', line: 1 })
  const get = (await app.inject({ url: '/import?format=json' })).json()
  t.equal(get.latestImports[0].source, 'pasted')
})

t.test('nothing chosen: a 400 with a message on the page', async t => {
  const app = await buildTestApp(t)
  const res = await postForm(app, '/import', [{ name: 'files', filename: '', content: '' }, { name: 'text', value: '  ' }])
  t.equal(res.statusCode, 400)
  t.match(html(res).querySelector('#import-error')!.text, 'Choose at least one file')
})

t.test('error text with an encoded message is decoded through STS and stored', async t => {
  const app = await buildTestApp(t)
  const minted = await app.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: fixtureText('seed-passrole.json'), headers: { 'content-type': 'application/json' } })
  t.equal(minted.statusCode, 200)
  const token = minted.json().EncodedMessage as string
  const errorText = `An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: ${token}`
  const res = await postForm(app, '/import/decode', [{ name: 'text', value: errorText }])
  t.equal(res.statusCode, 200)
  const doc = html(res)
  t.match(doc.querySelector('#decode-result')!.text, 'Decoded 1 message: 1 new occurrence stored')
  const link = doc.querySelector('#decode-result a')!.getAttribute('href')!
  t.match(link, /^\/denials\/\d+$/)
  const decoded = JSON.parse(doc.querySelector('#decode-result details.raw-json pre')!.text)
  t.equal(decoded.context.action, 'iam:PassRole')
  const page = html(await app.inject({ url: link }))
  t.match(page.querySelector('#summary')!.text, 'was denied iam:PassRole')
})

t.test('the decode form counts each encoded message once: two tokens of one request are two occurrences', async t => {
  const app = await buildTestApp(t)
  const mint = async (): Promise<string> => (await app.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: fixtureText('seed-passrole.json'), headers: { 'content-type': 'application/json' } })).json().EncodedMessage as string
  const [one, two] = [await mint(), await mint()]
  const line = (token: string): string => `Encoded authorization failure message: ${token}`
  const first = html(await postForm(app, '/import/decode', [{ name: 'text', value: line(one) }]))
  t.match(first.querySelector('#decode-result')!.text, 'Decoded 1 message: 1 new occurrence stored')
  const second = html(await postForm(app, '/import/decode', [{ name: 'text', value: `${line(two)}\n${line(one)}` }]))
  t.match(second.querySelector('#decode-result')!.text, 'Decoded 2 messages: 1 new occurrence stored, 1 duplicate')
  const list = (await app.inject({ url: '/api/denials' })).json()
  t.equal(list.total, 1)
  t.equal(list.items[0].occurrences, 2)
})

t.test('a truncated encoded message is refused with the reason; nothing is stored', async t => {
  const app = await buildTestApp(t)
  const res = await postForm(app, '/import/decode', [{ name: 'text', value: 'Encoded authorization failure message: AbCdEf0123456789AbCdEf0123456789AbCdEf0123456789AbCdEf0123456789...' }])
  t.equal(res.statusCode, 400)
  const doc = html(res)
  t.ok(doc.querySelector('#decode-error'))
  t.ok(doc.querySelector('#decode-error')!.text.length > 40, 'the reason is shown')
  t.equal((await app.inject({ url: '/api/denials' })).json().total, 0)
  const json = await postForm(app, '/import/decode?format=json', [{ name: 'text', value: '' }])
  t.equal(json.statusCode, 400)
  t.equal(json.json().code, 'WHYDENIED_NOTHING_TO_DECODE')
})

t.test('an STS error (a tampered message) is shown with its code; nothing is stored', async t => {
  const app = await buildTestApp(t)
  const minted = await app.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: fixtureText('kms-decrypt.json'), headers: { 'content-type': 'application/json' } })
  const token = minted.json().EncodedMessage as string
  const i = Math.floor(token.length / 2)
  const tampered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1)
  const res = await postForm(app, '/import/decode', [{ name: 'text', value: `Encoded authorization failure message: ${tampered}` }])
  t.equal(res.statusCode, 400)
  const box = html(res).querySelector('#decode-error')!
  t.match(box.text, 'InvalidAuthorizationMessageException')
  t.equal((await app.inject({ url: '/api/denials' })).json().total, 0)
})

t.test('the decode form calls the decoder itself, not the app\'s own API through a second request', async t => {
  const urls: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') urls.push((JSON.parse(line) as { req?: { url?: string } }).req?.url ?? '')
      done()
    }
  })
  const config = loadConfig({ dbPath: path.join(tempDir(t), 'test.db') }, {})
  const app = await buildApp(config, { logger: { level: 'info', stream } })
  t.teardown(() => app.close())
  const minted = await app.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: fixtureText('seed-passrole.json'), headers: { 'content-type': 'application/json' } })
  const res = await postForm(app, '/import/decode?format=json', [{ name: 'text', value: `Encoded authorization failure message: ${minted.json().EncodedMessage as string}` }])
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.json().results[0].stored, 'imported')
  t.ok(urls.includes('/import/decode?format=json'), 'requests are logged')
  t.notOk(urls.includes('/api/decode'), 'no request to POST /api/decode')
})

t.test('many rejections: the summary counts them all, lists the first 1,000 and sums them up by reason', async t => {
  const app = await buildTestApp(t)
  const good = JSON.stringify(JSON.parse(fixtureText('seed-passrole.json')))
  const lines = [good]
  for (let i = 0; i < 1500; i++) lines.push(i % 3 === 0 ? `${i}` : `{"key${i}": 1}`)
  const res = await postForm(app, '/import', [{ name: 'text', value: lines.join('\n') }])
  t.equal(res.statusCode, 200)
  const doc = html(res)
  t.equal(doc.querySelector('#count-imported')!.text, '1')
  t.equal(doc.querySelector('#count-rejected')!.text, '1,500')
  t.match(doc.querySelector('#import-result .lead')!.text, /1,500 records rejected/)
  t.equal(doc.querySelectorAll('.rejects-table tbody tr').length, 1000)
  t.equal(doc.querySelector('#rejected-shown')!.text, '(the first 1,000 of 1,500)')
  t.same(doc.querySelectorAll('.reasons-table tbody tr').map(r => texts(r, 'td')), [
    ['not a decoded authorization message: expected "DecodedMessage" or the keys "allowed", "explicitDeny" and "context", found {…}', '1,000'],
    ['expected a JSON object, got a number', '500']
  ])
  const j = (await postForm(app, '/import?format=json', [{ name: 'text', value: lines.join('\n') }])).json()
  t.equal(j.rejectedCount, 1500)
  t.equal(j.rejected.length, 1000)
})
