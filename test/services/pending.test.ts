/** Decoding CloudTrail's pending messages with the SDK mocked: a concurrency limit, backoff on Throttling, each message decoded once (cached by SHA-256), undecodable ones kept as text. */
import t, { type Test } from 'tap'
import path from 'node:path'
import { mockClient } from 'aws-sdk-client-mock'
import { DecodeAuthorizationMessageCommand, InvalidAuthorizationMessageException, STSClient, STSServiceException } from '@aws-sdk/client-sts'
import { createStsClient } from '../../server/decode/client.js'
import { openDatabase } from '../../server/db/connection.js'
import { repositoriesOn } from '../../server/db/index.js'
import { Importer } from '../../server/services/importer.js'
import { decodePending } from '../../server/services/pending.js'
import { readTextRecords } from '../../server/ingest/index.js'
import { tempDir } from '../helpers/files.js'

const sts = mockClient(STSClient)
t.afterEach(() => { sts.reset() })
t.teardown(() => { sts.restore() })
const client = createStsClient({ kind: 'endpoint', endpoint: 'http://127.0.0.1:9/sts' })

const token = (i: number): string => `AbCd${String(i).padStart(4, '0')}`.repeat(20)
const decoded = (i: number): string => JSON.stringify({ allowed: false, explicitDeny: false, context: { action: 'ec2:RunInstances', resource: `arn:aws:ec2:us-east-1:111122223333:instance/i-${i}`, principal: { arn: 'arn:aws:iam::111122223333:user/bob' } } })
const event = (i: number, tok: string): string => JSON.stringify({
  eventVersion: '1.11',
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  eventID: `ev-${i}`,
  eventTime: `2026-11-28T10:${String(i % 60).padStart(2, '0')}:00Z`,
  awsRegion: 'us-east-1',
  errorCode: 'Client.UnauthorizedOperation',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob' },
  errorMessage: `You are not authorized to perform this operation. Encoded authorization failure message: ${tok}`
})

async function setup (t: Test, lines: string[]): Promise<ReturnType<typeof repositoriesOn>> {
  const db = openDatabase(path.join(tempDir(t), 'p.db'))
  t.teardown(() => db.close())
  const repos = repositoriesOn(db)
  await new Importer(repos.writer, repos.imports).run(readTextRecords(lines.join('\n') + '\n', 'ct.ndjson'))
  return repos
}

t.test('at most `concurrency` calls at once; one call per distinct message; cached for the next run', async t => {
  // 12 events, 10 distinct messages (events 10 and 11 repeat messages 0 and 1).
  const repos = await setup(t, Array.from({ length: 12 }, (_, i) => event(i, token(i % 10))))
  let open = 0
  let peak = 0
  sts.on(DecodeAuthorizationMessageCommand).callsFake(async (input: { EncodedMessage: string }) => {
    open++
    peak = Math.max(peak, open)
    await new Promise(resolve => setTimeout(resolve, 20))
    open--
    return { DecodedMessage: decoded(Number(input.EncodedMessage.slice(4, 8))) }
  })
  const s = await decodePending(repos.events, repos.writer, client, 'STS', { concurrency: 3 })
  t.match(s, { decoded: 12, undecodable: 0, remaining: 0, error: null })
  t.equal(sts.commandCalls(DecodeAuthorizationMessageCommand).length, 10, 'each distinct message once')
  t.ok(peak <= 3 && peak >= 2, `peak concurrency ${peak}`)
  t.equal(repos.events.cached(token(3)), decoded(3), 'cached by SHA-256')
  t.equal(repos.events.pendingCount(), 0)
})

t.test('Throttling: backed off and retried; the message still decodes', async t => {
  const repos = await setup(t, [event(1, token(1))])
  const throttled = new STSServiceException({ name: 'Throttling', $fault: 'client', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } })
  sts.on(DecodeAuthorizationMessageCommand).rejectsOnce(throttled).rejectsOnce(throttled).resolves({ DecodedMessage: decoded(1) })
  const started = performance.now()
  const s = await decodePending(repos.events, repos.writer, client, 'STS', { baseDelayMs: 50 })
  t.match(s, { decoded: 1, error: null })
  t.equal(sts.commandCalls(DecodeAuthorizationMessageCommand).length, 3)
  t.ok(performance.now() - started >= 50, 'waited between attempts')
})

t.test('a message STS cannot decode stays a text denial, marked undecodable; a failing STS stops the run', async t => {
  const repos = await setup(t, [event(1, token(1)), event(2, token(2))])
  sts.on(DecodeAuthorizationMessageCommand, { EncodedMessage: token(1) }).rejects(new InvalidAuthorizationMessageException({ message: 'invalid', $metadata: { httpStatusCode: 400 } }))
  sts.on(DecodeAuthorizationMessageCommand, { EncodedMessage: token(2) }).rejects(new STSServiceException({ name: 'AccessDenied', $fault: 'client', message: 'no', $metadata: { httpStatusCode: 403 } }))
  const s = await decodePending(repos.events, repos.writer, client, 'STS', { concurrency: 1 })
  t.match(s, { decoded: 0, undecodable: 1, remaining: 1, error: /not allowed to call sts:DecodeAuthorizationMessage/ })
})
