/** The rules behind the security plugin, one by one: loopback names, cross-origin reasons, safe redirects. */
import t from 'tap'
import type { FastifyRequest } from 'fastify'
import { crossOriginReason, isLoopback, safeNext } from '../../server/plugins/security.js'
import { sameSecret } from '../../server/util/token-guard.js'

const req = (headers: Record<string, string>): FastifyRequest => ({ headers } as unknown as FastifyRequest)

t.test('loopback addresses', async t => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', 'app.localhost', '::ffff:127.0.0.1']) t.ok(isLoopback(h), h)
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', 'example.com', 'localhost.example.com', '127.0.0.1.nip.io', '']) t.notOk(isLoopback(h), h)
})

t.test('cross-origin reasons', async t => {
  t.equal(crossOriginReason(req({ host: 'localhost:3000' })), null, 'no browser headers: not a browser')
  t.equal(crossOriginReason(req({ host: 'localhost:3000', origin: 'http://localhost:3000' })), null)
  t.equal(crossOriginReason(req({ host: 'localhost:80', origin: 'http://localhost' })), null, 'default ports compare equal')
  t.equal(crossOriginReason(req({ host: 'localhost:3000', origin: 'null', 'sec-fetch-site': 'same-origin' })), null)
  t.match(crossOriginReason(req({ host: 'localhost:3000', origin: 'null' })), 'Origin: null')
  t.match(crossOriginReason(req({ host: 'localhost:3000', origin: 'http://localhost:3001' })), 'does not match')
  t.match(crossOriginReason(req({ host: 'localhost:3000', origin: 'http://localhost:3000', 'sec-fetch-site': 'same-site' })), 'same-site')
  t.match(crossOriginReason(req({ host: 'localhost:3000', origin: 'chrome-extension://abc' })), 'not a web origin')
  t.match(crossOriginReason(req({ origin: 'http://localhost:3000' })), 'does not match', 'no Host to compare with')
})

t.test('the page after sign-in stays on this server', async t => {
  t.equal(safeNext('/denials?x=1'), '/denials?x=1')
  for (const n of ['//evil.example', '/\\evil.example', 'https://evil.example', 'evil', '', '/a\r\nSet-Cookie: x=1', undefined, 42]) t.equal(safeNext(n), '/', String(n))
})

t.test('secrets compare in constant time, whatever their lengths', async t => {
  t.ok(sameSecret('abc', 'abc'))
  t.notOk(sameSecret('abc', 'abcd'))
  t.notOk(sameSecret('', 'abc'))
})
