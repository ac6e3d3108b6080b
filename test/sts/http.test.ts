/**
 * The mock STS over its wire protocol, with raw form posts: every success shape and every AWS error
 * code the issue lists, through the app that `whydenied serve` runs (mounted at /sts).
 */
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { buildTestApp, DECODED_FIXTURES, tempDir } from '../helpers/build.js'
import { buildStsMock } from '../../server/sts/plugin.js'
import { TokenCodec } from '../../server/sts/token.js'
import { DENIED_KEYS, parseError, signedRequest, stsCall } from './sign.js'

const raw = JSON.parse(readFileSync(path.join(DECODED_FIXTURES, 'seed-passrole.json'), 'utf8')).DecodedMessage as string
const decodeParams = (EncodedMessage?: string): Record<string, string> => ({ Action: 'DecodeAuthorizationMessage', Version: '2011-06-15', ...(EncodedMessage !== undefined ? { EncodedMessage } : {}) })

t.test('mock STS in the app, at /sts', async t => {
  const app = await buildTestApp(t)
  const token = (await app.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: readFileSync(path.join(DECODED_FIXTURES, 'seed-passrole.json')), headers: { 'content-type': 'application/json' } })).json().EncodedMessage as string

  t.test('DecodeAuthorizationMessage: the envelope, the header id, the exact JSON', async t => {
    for (const p of ['/sts', '/sts/']) {
      for (const ct of ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'application/x-www-form-urlencoded;charset=UTF-8']) {
        const res = await stsCall(app, decodeParams(token), { path: p, contentType: ct })
        t.equal(res.statusCode, 200, `${p} ${ct}`)
        t.match(res.headers['content-type'], /^text\/xml/)
        const id = res.headers['x-amzn-requestid']
        t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        const body = res.body
        t.match(body, /^<DecodeAuthorizationMessageResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">\s*<DecodeAuthorizationMessageResult>\s*<DecodedMessage>/)
        t.ok(body.includes(`<ResponseMetadata>\n    <RequestId>${id as string}</RequestId>\n  </ResponseMetadata>`))
        const dm = /<DecodedMessage>([^<]*)<\/DecodedMessage>/.exec(body)![1]!
        t.equal(dm, raw.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;'), 'XML-escaped, not pretty-printed')
      }
    }
  })

  t.test('GetCallerIdentity answers the caller', async t => {
    const res = await stsCall(app, { Action: 'GetCallerIdentity', Version: '2011-06-15' })
    t.equal(res.statusCode, 200)
    t.match(res.body, /<GetCallerIdentityResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">\s*<GetCallerIdentityResult>\s*<Arn>arn:aws:iam::111122223333:user\/whydenied-decoder<\/Arn>\s*<UserId>AIDA73R7OL7JC2CMZUG2Q<\/UserId>\s*<Account>111122223333<\/Account>/)
    const denied = await stsCall(app, { Action: 'GetCallerIdentity', Version: '2011-06-15' }, DENIED_KEYS)
    t.equal(denied.statusCode, 200, 'needs no permission')
    t.match(denied.body, /<Arn>arn:aws:iam::111122223333:user\/ci-deployer<\/Arn>/)
  })

  t.test('a header-signed GET with the parameters in the query string', async t => {
    const { HttpRequest } = await import('@smithy/protocol-http')
    const { SignatureV4 } = await import('@smithy/signature-v4')
    const { Sha256 } = await import('@aws-crypto/sha256-js')
    const signer = new SignatureV4({ credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, region: 'us-east-1', service: 'sts', sha256: Sha256 })
    const req = await signer.sign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: '/sts', query: { Action: 'GetCallerIdentity', Version: '2011-06-15' }, headers: { host: '127.0.0.1' } }))
    const res = await app.inject({ method: 'GET', url: '/sts?Action=GetCallerIdentity&Version=2011-06-15', headers: req.headers })
    t.equal(res.statusCode, 200)
    t.match(res.body, /<Arn>arn:aws:iam::111122223333:user\/whydenied-decoder<\/Arn>/)
    const changed = await app.inject({ method: 'GET', url: '/sts?Action=GetCallerIdentity&Version=2011-06-15&x=1', headers: req.headers })
    t.equal(parseError(changed.body).code, 'SignatureDoesNotMatch', 'the query is signed')
  })

  const cases: Array<{ name: string, status: number, code: string, message?: RegExp | string, call: () => Promise<import('fastify').LightMyRequestResponse> }> = [
    { name: 'no EncodedMessage', status: 400, code: 'MissingParameter', message: 'The request must contain the parameter EncodedMessage', call: () => stsCall(app, decodeParams()) },
    { name: 'empty EncodedMessage', status: 400, code: 'ValidationError', message: /length greater than or equal to 1/, call: () => stsCall(app, decodeParams('')) },
    { name: 'EncodedMessage over 10240 characters', status: 400, code: 'ValidationError', message: /length less than or equal to 10240/, call: () => stsCall(app, decodeParams('A'.repeat(10241))) },
    { name: 'malformed token', status: 400, code: 'InvalidAuthorizationMessageException', message: /invalid/, call: () => stsCall(app, decodeParams('not a token!')) },
    { name: 'tampered token (one character changed)', status: 400, code: 'InvalidAuthorizationMessageException', message: /integrity/, call: () => stsCall(app, decodeParams(token.slice(0, 200) + (token[200] === 'A' ? 'B' : 'A') + token.slice(201))) },
    { name: 'truncated token', status: 400, code: 'InvalidAuthorizationMessageException', call: () => stsCall(app, decodeParams(token.slice(0, token.length - 8))) },
    { name: 'line-wrapped token', status: 400, code: 'InvalidAuthorizationMessageException', message: /line breaks/, call: () => stsCall(app, decodeParams(token.slice(0, 76) + '\n' + token.slice(76))) },
    { name: 'token of another secret', status: 400, code: 'InvalidAuthorizationMessageException', call: () => stsCall(app, decodeParams(new TokenCodec('another secret entirely').mint(raw))) },
    { name: 'no Authorization header', status: 403, code: 'MissingAuthenticationToken', message: 'Request is missing Authentication Token', call: () => stsCall(app, decodeParams(token), { unsigned: true }) },
    { name: 'unknown access key', status: 403, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.', call: () => stsCall(app, decodeParams(token), { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' }) },
    { name: 'wrong secret', status: 403, code: 'SignatureDoesNotMatch', message: /^The request signature we calculated does not match the signature you provided/, call: () => stsCall(app, decodeParams(token), { secretAccessKey: 'wrong' }) },
    { name: 'body changed after signing', status: 403, code: 'SignatureDoesNotMatch', call: () => stsCall(app, decodeParams(token), { tamperBody: b => b.replace('Version', 'version') }) },
    { name: 'signed for another service', status: 403, code: 'SignatureDoesNotMatch', message: /scoped to correct service: 'sts'/, call: () => stsCall(app, decodeParams(token), { service: 'iam' }) },
    { name: 'signed for another path', status: 403, code: 'SignatureDoesNotMatch', call: async () => { const r = await signedRequest(decodeParams(token), { path: '/sts/' }); return app.inject({ ...r, url: '/sts' }) } },
    { name: 'clock 20 minutes off', status: 400, code: 'RequestExpired', call: () => stsCall(app, decodeParams(token), { date: new Date(Date.now() - 20 * 60_000) }) },
    { name: 'Authorization without Signature', status: 400, code: 'IncompleteSignature', message: /requires 'Signature' parameter/, call: async () => { const r = await signedRequest(decodeParams(token)); r.headers.authorization = r.headers.authorization!.replace(/, Signature=[0-9a-f]+/, ''); return app.inject(r) } },
    { name: 'SigV4a', status: 400, code: 'IncompleteSignature', message: /SigV4a/, call: async () => { const r = await signedRequest(decodeParams(token)); r.headers.authorization = r.headers.authorization!.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256'); return app.inject(r) } },
    { name: 'caller not allowed to decode', status: 403, code: 'AccessDenied', message: 'User: arn:aws:iam::111122223333:user/ci-deployer is not authorized to perform: sts:DecodeAuthorizationMessage because no identity-based policy allows the sts:DecodeAuthorizationMessage action', call: () => stsCall(app, decodeParams(token), DENIED_KEYS) },
    { name: 'unknown Action', status: 400, code: 'InvalidAction', message: 'Could not find operation AssumeRole for version 2011-06-15', call: () => stsCall(app, { Action: 'AssumeRole', Version: '2011-06-15' }) },
    { name: 'wrong Version', status: 400, code: 'InvalidAction', call: () => stsCall(app, { ...decodeParams(token), Version: '2010-01-01' }) },
    { name: 'no Action', status: 400, code: 'MissingAction', call: () => stsCall(app, { Version: '2011-06-15' }) },
    { name: 'JSON body instead of a form', status: 400, code: 'MissingAction', call: () => stsCall(app, '{"Action":"GetCallerIdentity"}', { contentType: 'application/json' }) },
    { name: 'unsupported content type', status: 400, code: 'MissingAction', call: () => stsCall(app, 'Action=GetCallerIdentity', { contentType: 'application/xml' }) }
  ]
  for (const c of cases) {
    t.test(`${c.name} → ${c.code} ${c.status}`, async t => {
      const res = await c.call()
      t.equal(res.statusCode, c.status)
      t.match(res.headers['content-type'], /^text\/xml/)
      const e = parseError(res.body)
      t.match(res.body, /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">\s*<Error>\s*<Type>/)
      t.equal(e.code, c.code)
      t.equal(e.type, c.status >= 500 ? 'Receiver' : 'Sender')
      t.equal(e.requestId, res.headers['x-amzn-requestid'], 'RequestId sibling of Error, same as the header')
      if (typeof c.message === 'string') t.equal(e.message, c.message)
      else if (c.message) t.match(e.message, c.message)
    })
  }

  t.test('a form too large is refused with an XML error', async t => {
    const res = await stsCall(app, decodeParams('A'.repeat(100_000)))
    t.equal(res.statusCode, 413)
    t.equal(parseError(res.body).code, 'RequestEntityTooLarge')
  })
})

t.test('the /sts route is exempt from the app token and the cross-origin check; /api/decode is not', async t => {
  const app = await buildTestApp(t, { token: 'app-token-123' })
  const res = await stsCall(app, { Action: 'GetCallerIdentity', Version: '2011-06-15' })
  t.equal(res.statusCode, 200, 'SigV4 is the only auth of /sts')
  const api = await app.inject({ method: 'POST', url: '/api/decode', payload: { text: 'x' } })
  t.equal(api.statusCode, 401)
})

t.test('expired tokens, session tokens and a custom identities file (standalone mock)', async t => {
  const dir = tempDir(t)
  const ids = path.join(dir, 'ids.json')
  writeFileSync(ids, JSON.stringify({
    identities: [
      { accessKeyId: 'ASIAQEXAMPLESESSION1', secretAccessKey: 'sess-secret', sessionToken: 'FwoGZXIvYXdzEXAMPLE//token', arn: 'arn:aws:sts::444455556666:assumed-role/PlatformSupport/alice', userId: 'AROAQEXAMPLEROLEID12:alice', account: '444455556666', canDecode: true }
    ]
  }))
  let clock = Date.now()
  const mock = await buildStsMock({ identitiesFile: ids, dbPath: path.join(dir, 'x.db') })
  t.teardown(() => mock.close())
  // A second instance with a controllable clock but the same secret (the key file next to the db).
  const { stsMock } = await import('../../server/sts/plugin.js')
  const Fastify = (await import('fastify')).default
  const clocked = Fastify()
  await clocked.register(stsMock, { prefix: '/sts', ...mock.sts, now: () => clock })
  t.teardown(() => clocked.close())
  const sess = { accessKeyId: 'ASIAQEXAMPLESESSION1', secretAccessKey: 'sess-secret', sessionToken: 'FwoGZXIvYXdzEXAMPLE//token' }

  const ok = await stsCall(mock, { Action: 'GetCallerIdentity', Version: '2011-06-15' }, sess)
  t.equal(ok.statusCode, 200)
  t.match(ok.body, /assumed-role\/PlatformSupport\/alice/)
  const noToken = await stsCall(mock, { Action: 'GetCallerIdentity', Version: '2011-06-15' }, { ...sess, sessionToken: undefined })
  t.equal(parseError(noToken.body).code, 'InvalidClientTokenId', 'temporary keys need their session token')
  const badToken = await stsCall(mock, { Action: 'GetCallerIdentity', Version: '2011-06-15' }, { ...sess, sessionToken: 'other' })
  t.equal(parseError(badToken.body).code, 'InvalidClientTokenId')

  const short = mock.sts.codec.mint(raw, { ttlSeconds: 60, now: clock })
  const before = await stsCall(clocked, decodeParams(short), { ...sess, date: new Date(clock) })
  t.equal(before.statusCode, 200, 'valid before it expires')
  clock += 61_000
  const after = await stsCall(clocked, decodeParams(short), { ...sess, date: new Date(clock) })
  t.equal(after.statusCode, 400)
  const e = parseError(after.body)
  t.equal(e.code, 'InvalidAuthorizationMessageException')
  t.match(e.message, /expired/)
})
