/** CloudTrail and plain text through the importer: event times and identities, skipped events, re-imports, hostile fields, gzip bombs. */
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { expandPath, readFileRecords, readTextRecords } from '../../server/ingest/index.js'
import { openDatabase, type DB } from '../../server/db/connection.js'
import { repositoriesOn } from '../../server/db/index.js'
import { GC_AFTER_BYTES, Importer, type ImportSummary } from '../../server/services/importer.js'
import type { InputItem } from '../../server/authz/types.js'
import { tempDir, type TapLike } from '../helpers/files.js'
import { CLOUDTRAIL_FIXTURES, TEXT_FIXTURES, writeCloudTrailTree } from '../helpers/cloudtrail.js'

function setup (t: TapLike): { db: DB, importer: Importer, repos: ReturnType<typeof repositoriesOn>, dir: string } {
  const dir = tempDir(t)
  const db = openDatabase(path.join(dir, 'ct.db'))
  t.teardown(() => db.close())
  const repos = repositoriesOn(db)
  return { db, repos, importer: new Importer(repos.writer, repos.imports), dir }
}

async function * files (paths: string[]): AsyncGenerator<InputItem> {
  for (const p of paths) for (const f of await expandPath(p)) yield * readFileRecords(f)
}

const brief = (s: ImportSummary): Record<string, number> => ({ imported: s.imported, duplicates: s.duplicates, skipped: s.skipped, rejected: s.rejectedCount })

t.test('a delivered log tree (.json.gz), lookup-events output and NDJSON of events', async t => {
  const { db, importer, dir } = setup(t)
  const tree = writeCloudTrailTree(path.join(dir, 'logs'))
  const first = await importer.run(files([tree.root]))
  t.same(brief(first), { imported: 8, duplicates: 0, skipped: 4, rejected: 0 }, '8 denials, 4 other events skipped, the digest file read as no events')
  t.same(brief(await importer.run(files([tree.root]))), { imported: 0, duplicates: 8, skipped: 4, rejected: 0 }, 're-import: all duplicates')
  t.same(brief(await importer.run(files([path.join(CLOUDTRAIL_FIXTURES, 'lookup-events.json')]))), { imported: 1, duplicates: 3, skipped: 1, rejected: 0 },
    'lookup-events: the events also in the log are the same occurrences')
  t.same(brief(await importer.run(files([path.join(CLOUDTRAIL_FIXTURES, 'lake-export.ndjson')]))), { imported: 1, duplicates: 2, skipped: 0, rejected: 0 }, 'NDJSON events')
  const occ = db.prepare(`SELECT o.observed_at, e.event_id, d.kind, d.principal_arn, d.role_arn, d.action, d.resource, d.decision, d.policy_type, d.policy_arn, d.region
    FROM events e JOIN occurrences o ON o.id = e.occurrence_id JOIN denials d ON d.id = o.denial_id ORDER BY e.event_id`).all() as Array<Record<string, string | null>>
  t.equal(occ.length, 10, 'one occurrence per denied event')
  const byId = new Map(occ.map(o => [o.event_id!.slice(-2), o]))
  t.match(byId.get('03'), { observed_at: '2026-11-28T10:01:00.000Z', kind: 'text', principal_arn: 'arn:aws:iam::111122223333:user/mary', action: 's3:GetObject', resource: 'arn:aws:s3:::team-logs/app.log', decision: 'implicit-deny', policy_type: 'identity' })
  t.match(byId.get('04'), { principal_arn: 'arn:aws:sts::111122223333:assumed-role/api/lambda-1', role_arn: 'arn:aws:iam::111122223333:role/service/api', action: 'dynamodb:GetItem', decision: 'explicit-deny', policy_type: 'scp', policy_arn: 'arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-a1b2c3d4', region: 'eu-west-1' },
    'the role is the session issuer, with its path')
  t.match(byId.get('06'), { action: 'ec2:RunInstances', kind: 'text', resource: null }, 'EC2: action from the event')
  t.match(byId.get('10'), { action: 's3:PutObject', resource: null, policy_type: null }, 'bare "Access Denied": principal and action from the event')
  t.match(byId.get('13'), { action: 'lambda:InvokeFunction' }, 'the action as the message names it')
  const states = db.prepare('SELECT event_id, token_state, token IS NOT NULL AS has FROM events WHERE token_state IS NOT NULL ORDER BY event_id').all()
  t.same(states, [
    { event_id: '5f1c0000-0000-4000-8000-000000000006', token_state: 'pending', has: 1 },
    { event_id: '5f1c0000-0000-4000-8000-000000000007', token_state: 'pending', has: 1 },
    { event_id: '5f1c0000-0000-4000-8000-000000000008', token_state: 'truncated', has: 0 }
  ], 'two encoded messages wait to be decoded; the cut one is marked truncated')
  const ctx = db.prepare(`SELECT ks.value AS key, vs.value AS value FROM conditions c JOIN strings ks ON ks.id = c.key_sid JOIN strings vs ON vs.id = c.value_id
    JOIN occurrences o ON o.denial_id = c.denial_id JOIN events e ON e.occurrence_id = o.id WHERE e.event_id LIKE '%03' ORDER BY position`).all()
  t.same(ctx, [{ key: 'aws:RequestedRegion', value: 'us-east-1' }, { key: 'aws:SourceIp', value: '203.0.113.10' }, { key: 'aws:UserAgent', value: 'aws-cli/2.22.0 Python/3.12.6 Linux/6.1' }], 'region, source IP and user agent kept as searchable context')
})

t.test('hostile CloudTrail fields are bounded and stored as data', async t => {
  const { db, importer, dir } = setup(t)
  const tree = writeCloudTrailTree(path.join(dir, 'logs'))
  await importer.run(files([tree.logFile]))
  const ua = db.prepare("SELECT user_agent FROM events WHERE event_id LIKE '%11'").pluck().get() as string
  t.ok(ua.startsWith('<script>alert("ua")</script>{{constructor.constructor "return 1"}}'), 'kept verbatim as text')
  t.ok(ua.length <= 2048, 'bounded')
  const nul = JSON.stringify({ Records: [{ eventVersion: '1.11', eventSource: 's3.amazonaws.com', eventName: 'GetObject', eventID: 'nul-1', eventTime: '2026-11-28T10:00:00Z', errorCode: 'AccessDenied', errorMessage: 'Access\u0000Denied \ud800', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/n\u0000' } }] })
  t.same(brief(await importer.run(readTextRecords(nul, 'nul.json'))), { imported: 1, duplicates: 0, skipped: 0, rejected: 0 }, 'NUL and lone surrogates replaced, not fatal')
  const noId = JSON.stringify({ eventVersion: '1.11', eventSource: 's3.amazonaws.com', eventName: 'GetObject', eventTime: '2026-11-28T10:00:00Z', errorCode: 'AccessDenied' })
  const s = await importer.run(readTextRecords(`${noId}\n${noId.replace('2026-11-28T10', 'yesterday')}\n`, 'noid.ndjson'))
  t.match(s.rejected, [{ line: 1, reason: /without "eventID"/ }, { line: 2, reason: /without "eventID"/ }])
})

t.test('gzip: a decompression bomb is refused with a reason, damaged gzip too', async t => {
  const { importer, dir } = setup(t)
  const bomb = path.join(dir, 'bomb.json.gz')
  writeFileSync(bomb, gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)))
  const start = performance.now()
  const s = await importer.run(files([bomb]))
  t.match(s.rejected, [{ source: bomb, reason: /expands more than 200 times \(a decompression bomb\?\)/ }])
  t.ok(performance.now() - start < 20_000, 'stopped early')
  const bad = path.join(dir, 'bad.json.gz')
  writeFileSync(bad, Buffer.concat([gzipSync('{"Records":[]}').subarray(0, 12), Buffer.from('garbage')]))
  t.match((await importer.run(files([bad]))).rejected, [{ source: bad, reason: /not valid gzip data|ends before/ }])
})

t.test('plain text: a log with messages among other lines', async t => {
  const { db, importer } = setup(t)
  const log = path.join(TEXT_FIXTURES, 'messages.log')
  const s = await importer.run(files([log]))
  t.same(brief(s), { imported: 18, duplicates: 0, skipped: 0, rejected: 1 }, 'every form; the bare "Access Denied" refused')
  t.match(s.rejected, [{ source: log, line: 21, reason: /nothing to parse: it names no principal, action or resource/ }])
  t.same(brief(await importer.run(files([log]))), { imported: 0, duplicates: 18, skipped: 0, rejected: 1 }, 'again: duplicates')
  const types = db.prepare("SELECT policy_type, count(*) AS n FROM denials WHERE kind = 'text' GROUP BY 1 ORDER BY 1").all()
  t.same(types, [
    { policy_type: null, n: 2 }, { policy_type: 'boundary', n: 2 }, { policy_type: 'identity', n: 5 }, { policy_type: 'rcp', n: 1 },
    { policy_type: 'resource', n: 4 }, { policy_type: 'scp', n: 2 }, { policy_type: 'session', n: 1 }, { policy_type: 'vpc-endpoint', n: 1 }
  ])
  const text = readFileSync(log, 'utf8')
  t.same(brief(await importer.run(readTextRecords(text, 'pasted'))), { imported: 18, duplicates: 0, skipped: 0, rejected: 1 }, 'the same text from a body: another source, new occurrences')
  t.match((await importer.run(readTextRecords('hello world\nnothing here\n', 'x'))).rejected, [{ reason: /^not JSON/ }], 'text without a message: refused as JSON, as before')
})

t.test('through the parse worker (large imports): the same outcome, non-denials skipped on this thread', async t => {
  const { importer, dir } = setup(t)
  const tree = writeCloudTrailTree(path.join(dir, 'logs'))
  const s = await importer.run(files([tree.root, path.join(CLOUDTRAIL_FIXTURES, 'lookup-events.json')]), { parallelAfter: 1 })
  t.same(brief(s), { imported: 9, duplicates: 3, skipped: 5, rejected: 0 })
})

t.test('a log mixing JSON lines and access-denied sentences: both are read', async t => {
  const { importer } = setup(t)
  const event = readFileSync(path.join(CLOUDTRAIL_FIXTURES, 'lake-export.ndjson'), 'utf8').split('\n')[0]!
  const sentence = '2026-11-28 ERROR User: arn:aws:iam::111122223333:user/mary is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::b because no identity-based policy allows the s3:ListBucket action'
  const s = await importer.run(readTextRecords(`${event}\n${sentence}\n{"not":"a denial"}\n`, 'mixed.log'))
  t.same(brief(s), { imported: 2, duplicates: 0, skipped: 0, rejected: 1 })
})

t.test('a long run of events that are not denials: garbage is collected every GC_AFTER_BYTES of input, not only per stored batch', async t => {
  // Memory flat for a month of logs: 95% of a log is skipped, so batches fill rarely; the parsed events
  // were left to pile up between them (test/bench/cloudtrail.ts measures the RSS this keeps down).
  const { importer, dir } = setup(t)
  const event = (i: number, denied: boolean): Record<string, unknown> => ({
    eventVersion: '1.11',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob', accountId: '111122223333' },
    eventTime: '2026-11-28T10:00:00Z',
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    awsRegion: 'us-east-1',
    requestParameters: { key: 'k'.repeat(800) },
    eventID: `gc-${i}`,
    ...(denied ? { errorCode: 'AccessDenied', errorMessage: `User: arn:aws:iam::111122223333:user/bob is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/${i} because no identity-based policy allows the s3:GetObject action` } : {})
  })
  const paths: string[] = []
  let bytes = 0
  for (let f = 0; f < 3; f++) {
    const json = JSON.stringify({ Records: Array.from({ length: 12_000 }, (_, i) => event(f * 12_000 + i, i === 5)) })
    bytes += json.length
    paths.push(path.join(dir, `log-${f}.json.gz`))
    writeFileSync(paths.at(-1)!, gzipSync(json, { level: 1 }))
  }
  t.ok(bytes > 2 * GC_AFTER_BYTES, `${Math.round(bytes / 1024 / 1024)} MB of events`)
  let collections = 0
  const s = await importer.run(files(paths), { collectGarbage: () => { collections++ } })
  t.same(brief(s), { imported: 3, duplicates: 0, skipped: 35_997, rejected: 0 })
  // One after the only (final) batch; the others while reading.
  t.equal(collections, 1 + Math.floor(bytes / GC_AFTER_BYTES), 'one collection per GC_AFTER_BYTES read, and one after the batch')
})

t.test('a new denial whose only event was stored before (another message under the same eventID) keeps 0 occurrences, and its counters agree', async t => {
  const { db, importer } = setup(t)
  const event = (message: string): string => JSON.stringify({
    eventVersion: '1.11',
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    eventID: 'same-id',
    eventTime: '2026-11-28T10:00:00Z',
    errorCode: 'AccessDenied',
    errorMessage: `User: arn:aws:iam::111122223333:user/mary is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::${message}" because no identity-based policy allows the s3:GetObject action`,
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/mary' }
  })
  t.same(brief(await importer.run(readTextRecords(event('first/key') + '\n', 'a.ndjson'))), { imported: 1, duplicates: 0, skipped: 0, rejected: 0 })
  // The writer inserts a new denial counting its record's occurrence; that occurrence is not stored (the eventID is), so it is uncounted.
  t.same(brief(await importer.run(readTextRecords(event('other/key') + '\n', 'b.ndjson'))), { imported: 0, duplicates: 1, skipped: 0, rejected: 0 })
  t.same(db.prepare('SELECT resource, occurrences FROM denials ORDER BY id').all(), [{ resource: 'arn:aws:s3:::first/key', occurrences: 1 }, { resource: 'arn:aws:s3:::other/key', occurrences: 0 }])
  t.equal(db.prepare('SELECT count(*) FROM denials d WHERE d.occurrences <> (SELECT count(*) FROM occurrences o WHERE o.denial_id = d.id)').pluck().get(), 0, 'every counter agrees with its occurrences')
})
