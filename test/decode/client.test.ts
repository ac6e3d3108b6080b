/** The decode client with the SDK mocked (aws-sdk-client-mock): success and every failure's message. */
import t, { type Test } from 'tap'
import { mockClient } from 'aws-sdk-client-mock'
import { DecodeAuthorizationMessageCommand, InvalidAuthorizationMessageException, STSClient, STSServiceException } from '@aws-sdk/client-sts'
import { createStsClient, decodeMessage, DecodeError } from '../../server/decode/client.js'
import { decodeAll } from '../../server/services/decode.js'

const sts = mockClient(STSClient)
t.afterEach(() => { sts.reset() })
t.teardown(() => { sts.restore() })

const client = createStsClient({ kind: 'endpoint', endpoint: 'http://127.0.0.1:9/sts' })
const TOKEN = 'x'.repeat(10) + 'AbC_-9'.repeat(40)
const DECODED = '{"allowed":false,"explicitDeny":false,"context":{"action":"iam:PassRole"}}'

const failure = async (t: Test, err: unknown): Promise<DecodeError> => {
  sts.on(DecodeAuthorizationMessageCommand).rejects(err as Error)
  const e = await decodeMessage(client, TOKEN, { target: 'the STS at http://127.0.0.1:9/sts' }).then(() => null, (x: unknown) => x)
  t.type(e, DecodeError)
  return e as DecodeError
}

t.test('success: the DecodedMessage exactly, for exactly the token given', async t => {
  sts.on(DecodeAuthorizationMessageCommand, { EncodedMessage: TOKEN }).resolves({ DecodedMessage: DECODED })
  t.equal(await decodeMessage(client, TOKEN, { target: 'STS' }), DECODED)
  t.equal(sts.commandCalls(DecodeAuthorizationMessageCommand).length, 1)
  t.same(sts.commandCalls(DecodeAuthorizationMessageCommand)[0]!.args[0].input, { EncodedMessage: TOKEN })
})

t.test('InvalidAuthorizationMessageException: damaged, expired or foreign; 400', async t => {
  const e = await failure(t, new InvalidAuthorizationMessageException({ message: 'The encoded authorization message is invalid: the message expired at 2026-11-28T12:01:00.000Z.', $metadata: { httpStatusCode: 400 } }))
  t.equal(e.statusCode, 400)
  t.equal(e.code, 'WHYDENIED_STS_INVALID_MESSAGE')
  t.equal(e.stsCode, 'InvalidAuthorizationMessageException')
  t.match(e.stsMessage, /expired/)
  t.match(e.message, /InvalidAuthorizationMessageException: The encoded authorization message is invalid/)
  t.match(e.message, /truncated, line-wrapped, changed\), it has expired, or another STS issued it/)
})

t.test('AccessDenied: names sts:DecodeAuthorizationMessage and how to allow it; 403', async t => {
  const awsText = 'User: arn:aws:iam::111122223333:user/ci-deployer is not authorized to perform: sts:DecodeAuthorizationMessage because no identity-based policy allows the sts:DecodeAuthorizationMessage action'
  const e = await failure(t, new STSServiceException({ name: 'AccessDenied', $fault: 'client', message: awsText, $metadata: { httpStatusCode: 403 } }))
  t.equal(e.statusCode, 403)
  t.equal(e.code, 'WHYDENIED_STS_ACCESS_DENIED')
  t.equal(e.stsCode, 'AccessDenied')
  t.equal(e.stsMessage, awsText)
  t.match(e.message, /not allowed to call sts:DecodeAuthorizationMessage/)
  t.match(e.message, /"Action": "sts:DecodeAuthorizationMessage"/)
  t.ok(e.message.includes(awsText), 'AWS\'s own words are kept')
})

t.test('network error: the endpoint is unreachable, and how to point elsewhere; 502', async t => {
  const e = await failure(t, Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED', $metadata: { attempts: 2 } }))
  t.equal(e.statusCode, 502)
  t.equal(e.code, 'WHYDENIED_STS_UNREACHABLE')
  t.equal(e.stsCode, null)
  t.match(e.message, /^Cannot reach the STS at http:\/\/127\.0\.0\.1:9\/sts \(ECONNREFUSED/)
  t.match(e.message, /whydenied mock-sts/)
  t.match(e.message, /--endpoint URL/)
  t.match(e.message, /--aws uses real AWS/)
})

t.test('timeout: says so; 504', async t => {
  const e = await failure(t, Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError' }))
  t.equal(e.statusCode, 504)
  t.equal(e.code, 'WHYDENIED_STS_TIMEOUT')
  t.match(e.message, /did not answer in time/)
})

t.test('bad credentials and missing credentials', async t => {
  const e = await failure(t, new STSServiceException({ name: 'InvalidClientTokenId', $fault: 'client', message: 'The security token included in the request is invalid.', $metadata: { httpStatusCode: 403 } }))
  t.equal(e.code, 'WHYDENIED_STS_AUTH')
  t.match(e.message, /rejected the credentials \(InvalidClientTokenId/)
  const c = await failure(t, Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }))
  t.equal(c.code, 'WHYDENIED_STS_NO_CREDENTIALS')
  t.match(c.message, /AWS_PROFILE/)
})

t.test('decodeAll: each token separately; a failure does not stop the others', async t => {
  sts.on(DecodeAuthorizationMessageCommand, { EncodedMessage: 'good1' }).resolves({ DecodedMessage: '{"a":1}' })
    .on(DecodeAuthorizationMessageCommand, { EncodedMessage: 'bad' }).rejects(new InvalidAuthorizationMessageException({ message: 'invalid', $metadata: { httpStatusCode: 400 } }))
    .on(DecodeAuthorizationMessageCommand, { EncodedMessage: 'good2' }).resolves({ DecodedMessage: '{"a":2}' })
  const out = await decodeAll(client, ['good1', 'bad', 'good2'], { target: 'STS' })
  t.same(out.map(o => o.ok ? o.item.DecodedMessage : (o.error).stsCode), ['{"a":1}', 'InvalidAuthorizationMessageException', '{"a":2}'])
})
