/** The built CLI on CloudTrail and text: import (tree, lookup-events, stdin text), re-import, --decode none|mock|aws, decode --pending, decode of plain text. */
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { ROOT, tempDir } from '../helpers/files.js'
import { CLI, runCli } from '../helpers/cli.js'
import { CLOUDTRAIL_FIXTURES, TEST_STS_SECRET, TEXT_FIXTURES, writeCloudTrailTree } from '../helpers/cloudtrail.js'
import { nodeChild } from '../helpers/node-child.js'

const ENV = { WHYDENIED_STS_SECRET: TEST_STS_SECRET }
const AWS_ENV = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true', AWS_PROFILE: '' }
const summary = (stdout: string): Record<string, unknown> => {
  const s = JSON.parse(stdout) as Record<string, unknown>
  return { imported: s.imported, duplicates: s.duplicates, skipped: s.skipped, rejected: s.rejectedCount }
}
function query (db: string, sql: string): unknown[] {
  const d = new Database(db, { readonly: true })
  try { return d.prepare(sql).all() } finally { d.close() }
}

t.test('import a delivered log tree, re-import, lookup-events, then decode --pending', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'ct.db')
  const tree = writeCloudTrailTree(path.join(dir, 'logs'))
  const first = await runCli(['import', '--json', '--db', db, tree.root], { env: ENV })
  t.equal(first.code, 0, first.stderr)
  t.same(summary(first.stdout), { imported: 8, duplicates: 0, skipped: 4, rejected: 0 })
  const again = await runCli(['import', '--db', db, tree.root], { env: ENV })
  t.match(again.stdout, /^imported 0, duplicates 8, rejected 0, skipped 4 \(not denials\)/, 're-import: all duplicates')
  const lookup = await runCli(['import', '--json', '--db', db, path.join(CLOUDTRAIL_FIXTURES, 'lookup-events.json')], { env: ENV })
  t.same(summary(lookup.stdout), { imported: 1, duplicates: 3, skipped: 1, rejected: 0 }, 'events in both are one occurrence')
  t.same(query(db, 'SELECT imported, duplicates, skipped FROM imports ORDER BY id'), [{ imported: 8, duplicates: 0, skipped: 4 }, { imported: 0, duplicates: 8, skipped: 4 }, { imported: 1, duplicates: 3, skipped: 1 }],
    'each import\'s row keeps what it skipped')

  const text = await runCli(['search', '--json', '--db', db, '--action', 'ec2:RunInstances'], { env: ENV })
  const before = JSON.parse(text.stdout) as { total: number }
  t.equal(before.total, 2, 'two EC2 text denials before decoding')

  const dec = await runCli(['decode', '--pending', '--db', db], { env: ENV })
  t.equal(dec.code, 0, dec.stderr)
  t.match(dec.stdout, /^decoded 2 encoded messages from CloudTrail \(0 without a call\), 0 undecodable, 0 still pending/)
  const moved = query(db, `SELECT e.event_id, d.kind, d.action, o.observed_at FROM events e JOIN occurrences o ON o.id = e.occurrence_id JOIN denials d ON d.id = o.denial_id
    WHERE e.token_state = 'decoded' ORDER BY e.event_id`)
  t.same(moved, [
    { event_id: '5f1c0000-0000-4000-8000-000000000006', kind: 'decoded', action: 'ec2:RunInstances', observed_at: '2026-11-28T10:04:00.000Z' },
    { event_id: '5f1c0000-0000-4000-8000-000000000007', kind: 'decoded', action: 'ec2:RunInstances', observed_at: '2026-11-28T10:05:00.000Z' }
  ], 'the events\' occurrences belong to the decoded denials, at the events\' times')
  t.same(query(db, "SELECT count(*) AS n FROM denials WHERE kind = 'text' AND action = 'ec2:RunInstances'"), [{ n: 0 }], 'the emptied text denials are gone')
  t.same(query(db, 'SELECT count(*) AS n FROM occurrences'), [{ n: 9 }], 'nothing counted twice')
  t.same(query(db, 'SELECT count(*) AS n FROM denials d WHERE d.occurrences <> (SELECT count(*) FROM occurrences o WHERE o.denial_id = d.id)'), [{ n: 0 }], 'counters exact')
  const q = await runCli(['search', '--json', '--db', db, '--q', 'deny'], { env: ENV })
  t.equal(q.code, 0)
  const none = await runCli(['decode', '--pending', '--db', db], { env: ENV })
  t.match(none.stdout, /^decoded 0 encoded messages/, 'nothing left')
  const re = await runCli(['import', '--json', '--db', db, tree.root], { env: ENV })
  t.same(summary(re.stdout), { imported: 0, duplicates: 8, skipped: 4, rejected: 0 }, 're-import after decoding: still all duplicates')

  // The same encoded message decoded again by hand is a duplicate of the event's occurrence.
  const byHand = await runCli(['decode', '--store', '--db', db, `Encoded authorization failure message: ${tree.tokens.run}`], { env: ENV })
  t.match(byHand.stderr, /^stored: imported 0, duplicates 1/)
})

t.test('import --decode mock decodes at once; a later decode --store of a pending message links to the event', async t => {
  const dir = tempDir(t)
  const tree = writeCloudTrailTree(path.join(dir, 'logs'))
  const db = path.join(dir, 'm.db')
  const r = await runCli(['import', '--json', '--decode', 'mock', '--db', db, tree.logFile], { env: ENV })
  t.equal(r.code, 0, r.stderr)
  t.match(JSON.parse(r.stdout), { imported: 8, skipped: 4, decoded: { decoded: 2, undecodable: 0, remaining: 0, error: null } })
  t.same(query(db, 'SELECT kind, count(*) AS n FROM denials GROUP BY kind ORDER BY kind'), [{ kind: 'decoded', n: 2 }, { kind: 'text', n: 6 }])

  const db2 = path.join(dir, 'n.db')
  await runCli(['import', '--db', db2, tree.logFile], { env: ENV })
  const byHand = await runCli(['decode', '--store', '--db', db2, `Encoded authorization failure message: ${tree.tokens.region}`], { env: ENV })
  t.match(byHand.stderr, /^stored: imported 1/, byHand.stderr)
  t.same(query(db2, "SELECT token_state FROM events WHERE event_id LIKE '%07'"), [{ token_state: 'decoded' }])
  t.same(query(db2, 'SELECT count(*) AS n FROM occurrences'), [{ n: 8 }], 'the event\'s occurrence moved, none added')
  const bad = await runCli(['import', '--decode', 'maybe', '--db', db2, tree.logFile])
  t.equal(bad.code, 1)
  t.match(bad.stderr, /Allowed choices are none, mock, aws/)
})

/** `whydenied mock-sts` on a free port: its endpoint URL. */
function mockSts (t: Test, db: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const run = nodeChild([CLI, 'mock-sts', '--port', '0', '--db', db], { ...process.env, ...ENV, WHYDENIED_DB: '' })
    const child = spawn(run.command, run.args, { cwd: ROOT, env: run.env, stdio: ['ignore', 'pipe', 'pipe'] })
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGTERM') })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', d => {
      out += d
      const m = /mock STS endpoint: (http:\/\/127\.0\.0\.1:\d+\/sts)/.exec(out)
      if (m) resolve(m[1]!)
    })
    child.on('exit', code => reject(new Error(`mock-sts exited ${code}`)))
  })
}

t.test('import --decode aws, through the endpoint option, against our mock STS over HTTP', async t => {
  const dir = tempDir(t)
  const tree = writeCloudTrailTree(path.join(dir, 'logs'))
  const endpoint = await mockSts(t, path.join(dir, 'sts.db'))
  const db = path.join(dir, 'a.db')
  const r = await runCli(['import', '--json', '--decode', 'aws', '--endpoint', endpoint, '--db', db, tree.root], { env: { ...ENV, ...AWS_ENV } })
  t.equal(r.code, 0, r.stderr)
  t.match(JSON.parse(r.stdout), { imported: 8, decoded: { decoded: 2, fromCache: 0, remaining: 0 } })
  t.same(query(db, 'SELECT count(*) AS n FROM token_cache'), [{ n: 2 }], 'each decoded message cached by its SHA-256')
  const down = await runCli(['import', '--json', '--decode', 'aws', '--endpoint', 'http://127.0.0.1:9/sts', '--db', path.join(dir, 'b.db'), tree.root], { env: { ...ENV, ...AWS_ENV } })
  t.match(JSON.parse(down.stdout), { imported: 8, decoded: { decoded: 0, remaining: 2, error: /Cannot reach the STS at http:\/\/127\.0\.0\.1:9\/sts/ } }, 'STS unreachable: stored, left pending, said why')
})

t.test('text: a log file, stdin, and decode of a message with nothing encoded', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 't.db')
  const log = path.join(TEXT_FIXTURES, 'messages.log')
  const r = await runCli(['import', '--json', '--db', db, log])
  t.equal(r.code, 2, 'one line refused')
  t.same(summary(r.stdout), { imported: 18, duplicates: 0, skipped: 0, rejected: 1 })
  const stdin = await runCli(['import', '--json', '--db', db, '--source', 'ticket-9', '-'], { input: readFileSync(log) })
  t.same(summary(stdin.stdout), { imported: 18, duplicates: 0, skipped: 0, rejected: 1 })
  const sentence = 'An error occurred (AccessDeniedException) when calling the GetItem operation: User: arn:aws:iam::111122223333:user/mary is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/t because no identity-based policy allows the dynamodb:GetItem action'
  const dec = await runCli(['decode', '--store', '--db', db, sentence])
  t.equal(dec.code, 0, dec.stderr)
  t.match(JSON.parse(dec.stdout), { kind: 'text', principalArn: 'arn:aws:iam::111122223333:user/mary', action: 'dynamodb:GetItem', policyType: 'identity', decision: 'implicit-deny' })
  t.match(dec.stderr, /^stored: imported 1, duplicates 0, rejected 0 \(text denials/)
  const found = await runCli(['search', '--json', '--db', db, '--kind', 'text', '--policy-type', 'scp', '--policy-arn', 'arn:aws:organizations::*'])
  t.equal(found.code, 0, found.stderr)
  const r2 = JSON.parse(found.stdout) as { total: number, items: Array<Record<string, unknown>>, facets: Record<string, unknown> }
  t.equal(r2.total, 1)
  t.match(r2.items[0], { kind: 'text', policyType: 'scp', policyArn: 'arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-a1b2c3d4', action: 'ec2:StopInstances' })
  t.match(r2.facets, { kind: [{ value: 'text', count: 1 }], policyType: [{ value: 'scp', count: 1 }] })
  const badKind = await runCli(['search', '--db', db, '--kind', 'fancy'])
  t.match(badKind.stderr, /Allowed choices are decoded, text/)
  const bare = await runCli(['decode', '--db', db, 'An error occurred (AccessDenied) when calling the GetObject operation: Access Denied'])
  t.equal(bare.code, 1, 'nothing to decode or parse')
})
