/**
 * The SigV4 signature must cover the body the mock actually received: a request signed with
 * `x-amz-content-sha256: UNSIGNED-PAYLOAD` (an S3 feature) must not let anyone swap the form body,
 * i.e. the Action and its parameters. Over real HTTP on 127.0.0.1, with the standalone mock.
 */
import t from 'tap'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { Sha256 } from '@aws-crypto/sha256-js'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import { DECODED_FIXTURES, tempDir } from '../helpers/files.js'
import { buildStsMock } from '../../server/sts/plugin.js'
import { formBody, parseError, TEST_KEYS } from './sign.js'

const raw = JSON.parse(readFileSync(path.join(DECODED_FIXTURES, 'seed-passrole.json'), 'utf8')).DecodedMessage as string

t.test('mock STS over HTTP: the signature covers the received body', async t => {
  const mock = await buildStsMock({ identitiesFile: null, dbPath: path.join(tempDir(t), 'x.db') })
  t.teardown(() => mock.close())
  const base = await mock.listen({ host: '127.0.0.1', port: 0 })
  const host = new URL(base).host
  const token = mock.sts.codec.mint(raw)

  const callerIdentity = formBody({ Action: 'GetCallerIdentity', Version: '2011-06-15' })
  const decode = formBody({ Action: 'DecodeAuthorizationMessage', Version: '2011-06-15', EncodedMessage: token })

  /** Sign `signedBody` as @smithy/signature-v4 would (with extra headers, e.g. a payload-hash claim), then send `sentBody`. */
  async function send (signedBody: string, sentBody: string, extra: Record<string, string> = {}): Promise<{ status: number, body: string }> {
    const signer = new SignatureV4({ credentials: TEST_KEYS, region: 'us-east-1', service: 'sts', sha256: Sha256, applyChecksum: false })
    const headers = { host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...extra }
    const signed = await signer.sign(new HttpRequest({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: Number(new URL(base).port), path: '/sts/', headers, body: signedBody }))
    const { host: _host, ...sendHeaders } = signed.headers
    const res = await fetch(`${base}/sts/`, { method: 'POST', headers: sendHeaders, body: sentBody })
    return { status: res.status, body: await res.text() }
  }

  t.test('a normal signature still works, with or without a true x-amz-content-sha256', async t => {
    const plain = await send(callerIdentity, callerIdentity)
    t.equal(plain.status, 200, plain.body)
    t.match(plain.body, /<GetCallerIdentityResult>/)
    const claimed = await send(decode, decode, { 'x-amz-content-sha256': createHash('sha256').update(decode).digest('hex') })
    t.equal(claimed.status, 200, claimed.body)
    t.match(claimed.body, /<DecodedMessage>/)
  })

  t.test('UNSIGNED-PAYLOAD, GetCallerIdentity swapped for DecodeAuthorizationMessage → SignatureDoesNotMatch', async t => {
    const res = await send(callerIdentity, decode, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' })
    t.equal(res.status, 403)
    t.equal(parseError(res.body).code, 'SignatureDoesNotMatch')
    t.notMatch(res.body, /DecodedMessage/, 'nothing decoded')
  })

  t.test('UNSIGNED-PAYLOAD is refused even with the body it was sent with', async t => {
    const res = await send(callerIdentity, callerIdentity, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' })
    t.equal(res.status, 403)
    const e = parseError(res.body)
    t.equal(e.code, 'SignatureDoesNotMatch')
    t.match(e.message, /UNSIGNED-PAYLOAD/, 'says why')
  })

  t.test('a body swapped under an ordinary signature, or under a stale payload hash → SignatureDoesNotMatch', async t => {
    const swapped = await send(callerIdentity, decode)
    t.equal(swapped.status, 403)
    t.equal(parseError(swapped.body).code, 'SignatureDoesNotMatch')
    const stale = await send(callerIdentity, decode, { 'x-amz-content-sha256': createHash('sha256').update(callerIdentity).digest('hex') })
    t.equal(stale.status, 403)
    t.equal(parseError(stale.body).code, 'SignatureDoesNotMatch')
  })
})
