/** POST /api/decode and POST /api/mock-sts/encode through the app, with the mock in process or over HTTP. */
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { buildTestApp, DECODED_FIXTURES, tempDir } from '../helpers/build.js'
import { buildStsMock } from '../../server/sts/plugin.js'
import { TokenCodec } from '../../server/sts/token.js'

// Credentials for the default chain when the app calls an STS endpoint (never any real profile).
Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true' })
delete process.env.AWS_PROFILE
delete process.env.AWS_SESSION_TOKEN

const fixture = (f: string): Buffer => readFileSync(path.join(DECODED_FIXTURES, f))
const rawOf = (f: string): string => JSON.parse(fixture(f).toString('utf8')).DecodedMessage as string
const errorLine = (token: string): string => `An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: ${token}`

t.test('encode, then decode error text, then store: the seed workflow over the API', async t => {
  const app = await buildTestApp(t)
  const enc = await app.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: fixture('seed-passrole.json'), headers: { 'content-type': 'application/json' } })
  t.equal(enc.statusCode, 200)
  const token = enc.json().EncodedMessage as string
  t.match(token, /^[A-Za-z0-9_-]{100,10240}$/)
  t.same(Object.keys(enc.json()), ['EncodedMessage'])

  const dec = await app.inject({ method: 'POST', url: '/api/decode', payload: { text: errorLine(token) } })
  t.equal(dec.statusCode, 200)
  t.same(dec.json(), { results: [{ token, DecodedMessage: rawOf('seed-passrole.json') }] }, 'nothing stored without store')
  t.equal((await app.inject('/api/denials')).json().total, 0)

  const stored = await app.inject({ method: 'POST', url: '/api/decode', payload: { text: errorLine(token), store: true, source: 'ticket-42' } })
  t.equal(stored.statusCode, 200)
  const item = stored.json().results[0]
  t.equal(item.stored, 'imported')
  t.type(item.denialId, 'number')
  const found = (await app.inject('/api/denials?action=iam:PassRole')).json()
  t.equal(found.total, 1, 'searchable')
  t.equal(found.items[0].id, item.denialId)
  const detail = (await app.inject(`/api/denials/${item.denialId as number}`)).json()
  t.equal(detail.raw, rawOf('seed-passrole.json'), 'stored exactly as decoded')
  t.match(JSON.stringify(detail), /ticket-42/, 'labelled with the source')
})

t.test('several records and several tokens', async t => {
  const app = await buildTestApp(t)
  const ndjson = ['kms-decrypt.json', 'scp-explicit-deny.json'].map(f => JSON.stringify(JSON.parse(fixture(f).toString()))).join('\n') + '\n'
  const enc = (await app.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: ndjson, headers: { 'content-type': 'application/x-ndjson' } })).json()
  t.equal(enc.EncodedMessages.length, 2)
  t.equal(enc.EncodedMessage, enc.EncodedMessages[0])
  const text = enc.EncodedMessages.map((tok: string) => `Encoded authorization failure message: ${tok}`).join('\n')
  const dec = (await app.inject({ method: 'POST', url: '/api/decode', payload: { text, store: true } })).json()
  t.same(dec.results.map((r: { DecodedMessage: string }) => r.DecodedMessage), [rawOf('kms-decrypt.json'), rawOf('scp-explicit-deny.json')])
  t.equal((await app.inject('/api/denials')).json().total, 2)
  const bare = await app.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: JSON.parse(rawOf('kms-decrypt.json')) })
  t.equal(bare.statusCode, 200, 'the bare decoded object is accepted too')
})

t.test('an occurrence is its encoded message: the same token twice is one, two tokens of equal content are two', async t => {
  const app = await buildTestApp(t)
  const mint = async (): Promise<string> => (await app.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: fixture('seed-passrole.json'), headers: { 'content-type': 'application/json' } })).json().EncodedMessage as string
  const first = await mint()
  const second = await mint()
  t.not(first, second, 'two failures of the same request: two different encoded messages')
  const store = async (text: string, source = 'decode') => (await app.inject({ method: 'POST', url: '/api/decode', payload: { text, store: true, source } })).json().results as Array<{ stored: string, denialId: number }>
  const a = await store(errorLine(first))
  t.equal(a[0]!.stored, 'imported')
  t.equal((await store(errorLine(second)))[0]!.stored, 'imported', 'same content, another token: another occurrence')
  t.equal((await store(errorLine(first)))[0]!.stored, 'duplicate', 'the same token again: a duplicate')
  t.equal((await store(errorLine(first), 'ticket-9'))[0]!.stored, 'duplicate', 'under another source label too: it is the same failure')
  const both = await store(`${errorLine(second)}\n${errorLine(first)}`)
  t.same(both.map(r => r.stored), ['duplicate', 'duplicate'], 'at another place in the text: still the same failures')
  const detail = (await app.inject(`/api/denials/${a[0]!.denialId}`)).json()
  t.equal(detail.occurrences, 2)
  t.equal(detail.occurrenceList.length, 2)
  const third = await mint()
  t.same((await store(`${errorLine(third)}\n${errorLine(first)}`)).map(r => r.stored), ['imported', 'duplicate'])
  t.equal((await app.inject(`/api/denials/${a[0]!.denialId}`)).json().occurrences, 3)
})

t.test('encode refuses what it cannot mint', async t => {
  const app = await buildTestApp(t)
  const empty = await app.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: '', headers: { 'content-type': 'application/json' } })
  t.equal(empty.statusCode, 400)
  t.equal(empty.json().code, 'WHYDENIED_CANNOT_MINT')
  const bad = await app.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: '{"DecodedMessage": "{\\"allowed\\":false,\\"explicitDeny\\":false,\\"context\\":{\\"action\\":\\"s3:GetObject\\"}}"}\n{"hello": 1}\n', headers: { 'content-type': 'application/x-ndjson' } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /^line 2: not a decoded authorization message/)
})

t.test('expiry: the server default (--ttl) and ?ttl=0', async t => {
  const app = await buildTestApp(t, { stsTtlSeconds: 1 })
  const mint = async (url: string): Promise<string> => (await app.inject({ method: 'POST', url, payload: fixture('minimal-no-conditions.json'), headers: { 'content-type': 'application/json' } })).json().EncodedMessage
  const expiring = await mint('/api/mock-sts/encode')
  const lasting = await mint('/api/mock-sts/encode?ttl=0')
  t.equal((await app.inject({ method: 'POST', url: '/api/decode', payload: { text: expiring } })).statusCode, 200, 'valid at first')
  await new Promise(resolve => setTimeout(resolve, 2100))
  const late = await app.inject({ method: 'POST', url: '/api/decode', payload: { text: expiring } })
  t.equal(late.statusCode, 400)
  t.equal(late.json().stsCode, 'InvalidAuthorizationMessageException')
  t.match(late.json().stsMessage, /expired/)
  t.equal((await app.inject({ method: 'POST', url: '/api/decode', payload: { text: lasting } })).statusCode, 200, 'ttl=0 never expires')
})

t.test('errors: refused tokens 400, STS errors with their code, unreachable STS 502', async t => {
  const app = await buildTestApp(t)
  const token = new TokenCodec('not this app\'s secret').mint(rawOf('seed-passrole.json'))

  const elided = await app.inject({ method: 'POST', url: '/api/decode', payload: { text: `Encoded authorization failure message: ${token.slice(0, 30)}...` } })
  t.equal(elided.statusCode, 400)
  t.equal(elided.json().code, 'WHYDENIED_BAD_TOKEN')
  t.match(elided.json().problems[0].reason, /elided/)

  const none = await app.inject({ method: 'POST', url: '/api/decode', payload: { text: 'no token here' } })
  t.equal(none.statusCode, 400)
  t.match(none.json().message, /no encoded authorization message found/)

  const foreign = await app.inject({ method: 'POST', url: '/api/decode', payload: { text: token, store: true } })
  t.equal(foreign.statusCode, 400)
  t.equal(foreign.json().code, 'WHYDENIED_STS_INVALID_MESSAGE')
  t.equal(foreign.json().stsCode, 'InvalidAuthorizationMessageException')
  t.match(foreign.json().stsMessage, /integrity check/)
  t.equal(foreign.json().token, token)
  t.equal((await app.inject('/api/denials')).json().total, 0, 'nothing stored')

  const missing = await app.inject({ method: 'POST', url: '/api/decode', payload: {} })
  t.equal(missing.statusCode, 400, 'schema validation')

  // No identity may decode: the app's own call is refused by its mock, as AWS would.
  const dir = tempDir(t)
  const ids = path.join(dir, 'ids.json')
  writeFileSync(ids, JSON.stringify([{ accessKeyId: 'denied', secretAccessKey: 'denied', arn: 'arn:aws:iam::111122223333:user/ci-deployer', userId: 'AIDASWH3LERRJNQ3L2YVK', account: '111122223333', canDecode: false }]))
  const deniedApp = await buildTestApp(t, { stsIdentitiesFile: ids })
  const own = (await deniedApp.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: fixture('seed-passrole.json'), headers: { 'content-type': 'application/json' } })).json().EncodedMessage as string
  const denied = await deniedApp.inject({ method: 'POST', url: '/api/decode', payload: { text: own } })
  t.equal(denied.statusCode, 403)
  t.equal(denied.json().code, 'WHYDENIED_STS_ACCESS_DENIED')
  t.equal(denied.json().stsCode, 'AccessDenied')
  t.equal(denied.json().stsMessage, 'User: arn:aws:iam::111122223333:user/ci-deployer is not authorized to perform: sts:DecodeAuthorizationMessage because no identity-based policy allows the sts:DecodeAuthorizationMessage action')
  t.match(denied.json().message, /sts:DecodeAuthorizationMessage/)

  const offline = await buildTestApp(t, { stsEndpoint: 'http://127.0.0.1:9/sts' })
  const unreachable = await offline.inject({ method: 'POST', url: '/api/decode', payload: { text: own } })
  t.equal(unreachable.statusCode, 502)
  t.equal(unreachable.json().code, 'WHYDENIED_STS_UNREACHABLE')
  t.match(unreachable.json().message, /Cannot reach the STS at http:\/\/127\.0\.0\.1:9\/sts/)
})

t.test('config.stsEndpoint: another STS over real HTTP (a standalone mock)', async t => {
  const dir = tempDir(t)
  const mock = await buildStsMock({ identitiesFile: null, dbPath: path.join(dir, 'other.db') })
  t.teardown(() => mock.close())
  await mock.listen({ host: '127.0.0.1', port: 0 })
  const port = (mock.server.address() as { port: number }).port
  const app = await buildTestApp(t, { stsEndpoint: `http://127.0.0.1:${port}/sts` })
  const token = mock.sts.codec.mint(rawOf('region-explicit-deny.json'))
  const res = await app.inject({ method: 'POST', url: '/api/decode', payload: { text: errorLine(token) } })
  t.equal(res.statusCode, 200)
  t.equal(res.json().results[0].DecodedMessage, rawOf('region-explicit-deny.json'))
  const ownToken = (await app.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: fixture('seed-passrole.json'), headers: { 'content-type': 'application/json' } })).json().EncodedMessage as string
  const other = await app.inject({ method: 'POST', url: '/api/decode', payload: { text: ownToken } })
  t.equal(other.json().stsCode, 'InvalidAuthorizationMessageException', 'the other mock has another secret')
})
