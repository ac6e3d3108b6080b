/** Where each target sends DecodeAuthorizationMessage, seen at the last SDK step (nothing leaves the machine). */
import t from 'tap'
import { DecodeAuthorizationMessageCommand, type STSClient } from '@aws-sdk/client-sts'
import type { HttpRequest } from '@smithy/protocol-http'
import { createStsClient } from '../../server/decode/client.js'

Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: 'x', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' })

/** The signed request the client would send, captured before the HTTP handler. */
async function requestOf (client: STSClient): Promise<HttpRequest> {
  let seen: HttpRequest | undefined
  client.middlewareStack.add(() => async (args) => {
    seen = args.request as HttpRequest
    throw new Error('captured')
  }, { step: 'finalizeRequest', priority: 'low', name: 'capture' })
  await client.send(new DecodeAuthorizationMessageCommand({ EncodedMessage: 'abc' })).catch((e: Error) => { if (e.message !== 'captured') throw e })
  client.destroy()
  return seen!
}

t.test('--aws: AWS\'s own regional endpoint, signed for that region', async t => {
  const req = await requestOf(createStsClient({ kind: 'aws', region: 'eu-west-1' }))
  t.equal(req.hostname, 'sts.eu-west-1.amazonaws.com')
  t.equal(req.protocol, 'https:')
  t.match(req.headers.authorization, /Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/sts\/aws4_request/)
})

t.test('--endpoint: that URL with its path, region us-east-1 unless given', async t => {
  const req = await requestOf(createStsClient({ kind: 'endpoint', endpoint: 'http://127.0.0.1:3001/sts' }))
  t.equal(req.hostname, '127.0.0.1')
  t.equal(req.port, 3001)
  t.match(req.path, /^\/sts\/?$/)
  t.match(req.headers.authorization, /\/us-east-1\/sts\/aws4_request/)
  const eu = await requestOf(createStsClient({ kind: 'endpoint', endpoint: 'http://127.0.0.1:3001/sts', region: 'ap-south-1' }))
  t.match(eu.headers.authorization, /\/ap-south-1\/sts\/aws4_request/)
})
