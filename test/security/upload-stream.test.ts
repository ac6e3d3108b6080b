/**
 * Limits on the stream, checks before the body (issue 8, item 5), over real HTTP on 127.0.0.1 with
 * chunked bodies (no Content-Length): past the limit the server answers 413 while the client is still
 * sending, and a request refused by origin, CSRF or token is answered before its body is read.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helpers/build.js'
import { csrfFor, fixtureText } from '../routes/pages/support.js'

const LIMIT = 1024 * 1024
/** What a client would send if nobody stopped it: 64 times the limit. */
const ENDLESS = 64 * LIMIT
/** Slack for what sits in socket buffers and in flight when the server stops reading. */
const SLACK = 12 * 1024 * 1024
const BOUNDARY = '----whydeniedStreamBoundary'

interface StreamResult { status: number, headers: http.IncomingHttpHeaders, body: string, sentAtResponse: number, finishedSending: boolean }

async function listen (_t: { teardown: (fn: () => unknown) => void }, app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  return (app.server.address() as AddressInfo).port
}

/**
 * POST `head`, then `filler` over and over (chunked, honouring backpressure) until the server answers
 * or `total` bytes are sent, then `tail`. Resolves with the answer and how much was sent before it.
 *
 * The server closes a refused upload with bytes still unread in its socket, which makes its kernel
 * reset the connection. Usually the answer is read first; rarely (one CI run so far) the client's
 * next write fails with EPIPE or ECONNRESET before the answer is parsed. Such an attempt tells
 * nothing about the status, so it is made again (at most three times); any other error, or a reset
 * every time, fails the test.
 */
async function streamPost (port: number, path: string, headers: Record<string, string>, head: string, filler: Buffer, total = ENDLESS, tail = ''): Promise<StreamResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await streamPostOnce(port, path, headers, head, filler, total, tail)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (attempt >= 3 || (code !== 'EPIPE' && code !== 'ECONNRESET')) throw err
    }
  }
}

function streamPostOnce (port: number, path: string, headers: Record<string, string>, head: string, filler: Buffer, total: number, tail: string): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    let sent = 0
    let answered: StreamResult | null = null
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, connection: 'close' } })
    req.on('response', res => {
      answered = { status: res.statusCode!, headers: res.headers, body: '', sentAtResponse: sent, finishedSending: sent >= total }
      res.setEncoding('utf8')
      res.on('data', (d: string) => { answered!.body += d })
      res.on('end', () => { resolve(answered!); req.destroy() })
      res.on('error', () => resolve(answered!))
    })
    req.on('error', err => { if (answered === null) reject(err) })
    const pump = (): void => {
      // eslint-disable-next-line no-unmodified-loop-condition -- set by an event handler
      while (answered === null && sent < total) {
        sent += filler.length
        if (!req.write(filler)) { req.once('drain', pump); return }
      }
      if (answered === null && sent >= total) req.end(tail)
    }
    req.write(head)
    pump()
  })
}

const fileHead = (fields: Array<[string, string]>): string =>
  fields.map(([k, v]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('') +
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="big.ndjson"\r\nContent-Type: application/x-ndjson\r\n\r\n`
const multipartType = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }
const FILLER = Buffer.alloc(64 * 1024, 'x')

t.test('import page: an endless chunked upload with a valid CSRF token stops at the limit with 413', async t => {
  const app = await buildTestApp(t, { maxUploadBytes: LIMIT })
  const port = await listen(t, app)
  const { token, cookie } = await csrfFor(app)
  const rssBefore = process.memoryUsage().rss
  const res = await streamPost(port, '/import', { ...multipartType, cookie }, fileHead([['_csrf', token]]), FILLER)
  t.equal(res.status, 413)
  t.match(res.body, 'Upload too large')
  t.notOk(res.finishedSending, 'answered while the client was still sending')
  t.ok(res.sentAtResponse < LIMIT + SLACK, `answered after ${res.sentAtResponse} bytes`)
  t.equal(res.headers.connection, 'close', 'and the connection closes: the rest is never read')
  t.ok(process.memoryUsage().rss - rssBefore < 150 * 1024 * 1024, 'memory stays bounded')

  // The token may come in a header too; then nothing at all is read before the check.
  const viaHeader = await streamPost(port, '/import?format=json', { ...multipartType, cookie, 'x-csrf-token': token }, fileHead([]), FILLER)
  t.equal(viaHeader.status, 413)
  t.equal(JSON.parse(viaHeader.body).code, 'WHYDENIED_UPLOAD_TOO_LARGE')
  t.notOk(viaHeader.finishedSending)
  t.equal((await app.inject({ url: '/api/denials' })).json().total, 0, 'nothing stored')
})

t.test('import page: without a valid CSRF token, refused before the files are read', async t => {
  const app = await buildTestApp(t, { maxUploadBytes: LIMIT })
  const port = await listen(t, app)
  const { token, cookie } = await csrfFor(app)

  const cases: Array<[string, Record<string, string>, string, RegExp]> = [
    ['cross-origin', { ...multipartType, cookie, origin: 'http://evil.example' }, fileHead([['_csrf', token]]), /WHYDENIED_CROSS_ORIGIN/],
    ['cross-site fetch', { ...multipartType, cookie, 'sec-fetch-site': 'cross-site' }, fileHead([['_csrf', token]]), /WHYDENIED_CROSS_ORIGIN/],
    ['no CSRF cookie', multipartType, fileHead([['_csrf', token]]), /FST_CSRF_MISSING_SECRET/],
    ['file before the token', { ...multipartType, cookie }, fileHead([]), /WHYDENIED_CSRF_TOKEN_FIRST/],
    ['another field before the token', { ...multipartType, cookie }, fileHead([['source', 'x'], ['_csrf', token]]), /WHYDENIED_CSRF_TOKEN_FIRST/],
    ['a wrong token', { ...multipartType, cookie }, fileHead([['_csrf', token.slice(0, -2) + 'xx']]), /FST_CSRF_INVALID_TOKEN/],
    ['a wrong header token', { ...multipartType, cookie, 'x-csrf-token': 'nope' }, fileHead([]), /FST_CSRF_INVALID_TOKEN/]
  ]
  for (const [label, headers, head, code] of cases) {
    const res = await streamPost(port, '/import?format=json', headers, head, FILLER)
    t.equal(res.status, 403, label)
    t.match(res.body, code, label)
    t.notOk(res.finishedSending, `${label}: answered while the client was still sending`)
    t.ok(res.sentAtResponse < SLACK, `${label}: answered after ${res.sentAtResponse} bytes`)
  }
  // A huge first "token" is not read to its end either.
  const huge = await streamPost(port, '/import?format=json', { ...multipartType, cookie }, `--${BOUNDARY}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n`, FILLER)
  t.equal(huge.status, 403)
  t.notOk(huge.finishedSending)
  t.equal((await app.inject({ url: '/api/denials' })).json().total, 0, 'nothing stored')
})

t.test('POST /api/imports: endless chunked multipart and raw bodies stop at the limit with 413', async t => {
  const app = await buildTestApp(t, { maxUploadBytes: LIMIT })
  const port = await listen(t, app)
  const multi = await streamPost(port, '/api/imports', multipartType, fileHead([]), FILLER)
  t.equal(multi.status, 413)
  t.notOk(multi.finishedSending, 'multipart: answered while the client was still sending')
  t.ok(multi.sentAtResponse < LIMIT + SLACK)
  // Many small files add up too.
  const smallFile = Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="f.json"\r\n\r\n` + 'x'.repeat(60 * 1024))
  const many = await streamPost(port, '/api/imports', multipartType, fileHead([]), smallFile)
  t.ok(many.status === 413, `many files: ${many.status}`)
  t.notOk(many.finishedSending)

  const line = Buffer.from(fixtureText('kms-decrypt.json').replace(/\s*\n\s*/g, ' ') + '\n')
  const raw = await streamPost(port, '/api/imports', { 'content-type': 'application/x-ndjson' }, '', Buffer.concat(Array(64).fill(line)))
  t.equal(raw.status, 413)
  t.notOk(raw.finishedSending, 'raw: answered while the client was still sending')
  t.ok(raw.sentAtResponse < LIMIT + SLACK)
  t.equal((await app.inject({ url: '/api/denials' })).json().total, 0, 'nothing stored')

  const encode = await streamPost(port, '/api/mock-sts/encode', { 'content-type': 'application/json' }, '', FILLER)
  t.equal(encode.status, 413, 'the mock STS encoder too')
  t.notOk(encode.finishedSending)
})

t.test('POST /api/imports with a token: refused before the body without it; chunked uploads under the limit work', async t => {
  const app = await buildTestApp(t, { maxUploadBytes: LIMIT, host: '0.0.0.0', token: 'stream-token' })
  const port = await listen(t, app)
  const denied = await streamPost(port, '/api/imports', multipartType, fileHead([]), FILLER)
  t.equal(denied.status, 401)
  t.notOk(denied.finishedSending)
  t.ok(denied.sentAtResponse < SLACK)

  const body = fixtureText('kms-decrypt.json')
  const ok = await streamPost(port, '/api/imports', { ...multipartType, authorization: 'Bearer stream-token' }, fileHead([]), Buffer.from(body), body.length, `\r\n--${BOUNDARY}--\r\n`)
  t.equal(ok.status, 200, ok.body)
  t.equal(JSON.parse(ok.body).imported, 1)
  const rawOk = await streamPost(port, '/api/imports?source=chunked', { 'content-type': 'application/json', authorization: 'Bearer stream-token' }, '', Buffer.from(fixtureText('seed-passrole.json')), 1)
  t.equal(rawOk.status, 200, rawOk.body)
  t.equal(JSON.parse(rawOk.body).imported, 1)
})

t.test('import page: a chunked upload under the limit, token first, imports', async t => {
  const app = await buildTestApp(t, { maxUploadBytes: LIMIT })
  const port = await listen(t, app)
  const { token, cookie } = await csrfFor(app)
  const body = fixtureText('kms-decrypt.json')
  const res = await streamPost(port, '/import?format=json', { ...multipartType, cookie }, fileHead([['_csrf', token]]), Buffer.from(body), body.length,
    `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="source"\r\n\r\nlabelled\r\n--${BOUNDARY}--\r\n`)
  t.equal(res.status, 200, res.body)
  t.equal(JSON.parse(res.body).imported, 1)
})

t.test('every other body-reading route stops an endless chunked body at its limit', async t => {
  const app = await buildTestApp(t, { maxUploadBytes: LIMIT })
  const port = await listen(t, app)
  const { token, cookie } = await csrfFor(app)
  const routes: Array<[string, Record<string, string>]> = [
    ['/api/decode', { 'content-type': 'application/json' }],
    ['/login', { 'content-type': 'application/x-www-form-urlencoded', cookie, 'x-csrf-token': token }],
    ['/logout', { 'content-type': 'application/x-www-form-urlencoded', cookie, 'x-csrf-token': token }],
    ['/sts', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['/import/decode?format=json', { ...multipartType, cookie, 'x-csrf-token': token }]
  ]
  for (const [url, headers] of routes) {
    const res = await streamPost(port, url, headers, '', FILLER)
    t.equal(res.status, 413, url)
    t.notOk(res.finishedSending, `${url}: answered while the client was still sending`)
    t.ok(res.sentAtResponse < LIMIT + SLACK, `${url}: answered after ${res.sentAtResponse} bytes`)
  }
})

t.test('several files in one chunk are each read whole; a part a route skips is drained', async t => {
  const app = await buildTestApp(t, { maxUploadBytes: LIMIT })
  const names = ['seed-passrole.json', 'kms-decrypt.json', 'minimal-no-conditions.json']
  const body = names.map(n => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="${n}"\r\n\r\n${fixtureText(n)}\r\n`).join('') + `--${BOUNDARY}--\r\n`
  const api = await app.inject({ method: 'POST', url: '/api/imports', payload: body, headers: multipartType })
  t.equal(api.statusCode, 200, api.body)
  t.equal(api.json().imported, 3)

  // The decode form ignores files: one sent before its text is drained, and the text still read.
  const { token, cookie } = await csrfFor(app)
  const decodeBody = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${token}\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="ignored.json"\r\n\r\n${'y'.repeat(200 * 1024)}\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="text"\r\n\r\nno encoded message here\r\n--${BOUNDARY}--\r\n`
  const decode = await app.inject({ method: 'POST', url: '/import/decode?format=json', payload: decodeBody, headers: { ...multipartType, cookie } })
  t.not(decode.statusCode, 403)
  t.not(decode.statusCode, 500)
  t.notMatch(decode.body, /NOTHING_TO_DECODE/, 'the text after the skipped file was read')
})
