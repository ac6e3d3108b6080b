/**
 * The built CLI: `whydenied mock-sts encode`, `whydenied decode` (the seed workflow: error text → decode
 * --store → searchable), `whydenied mock-sts` and `whydenied serve` printing a usable endpoint.
 */
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { DecodeAuthorizationMessageCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { DECODED_FIXTURES, ROOT, tempDir } from '../helpers/files.js'
import { CLI, runCli } from '../helpers/cli.js'
import { nodeChild } from '../helpers/node-child.js'
import { cliOutput } from '../../server/cli/decode.js'
import { loadStsSecret, TokenCodec } from '../../server/sts/token.js'

const AWS_ENV = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '', AWS_PROFILE: '' }
const rawOf = (f: string): string => JSON.parse(readFileSync(path.join(DECODED_FIXTURES, f), 'utf8')).DecodedMessage as string
const errorLine = (token: string): string => `An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: ${token}`

/** Start a long-running CLI command; resolve with the child and its first stdout lines. */
function start (t: Test, args: string[], lines: number): Promise<{ child: ChildProcess, out: string[] }> {
  return new Promise((resolve, reject) => {
    const run = nodeChild([CLI, ...args], { ...process.env, ...AWS_ENV, WHYDENIED_DB: '' })
    const child = spawn(run.command, run.args, { cwd: ROOT, env: run.env, stdio: ['ignore', 'pipe', 'pipe'] })
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGTERM') })
    let buf = ''
    let err = ''
    child.stderr!.setEncoding('utf8').on('data', d => { err += d })
    child.stdout!.setEncoding('utf8').on('data', d => {
      buf += d
      const got = buf.split('\n')
      if (got.length > lines) resolve({ child, out: got.slice(0, lines) })
    })
    child.on('exit', code => reject(new Error(`exited ${code}: ${err}`)))
  })
}

t.test('seed workflow: mint, decode error text with --store, then search finds it', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'w.db')
  const enc = await runCli(['mock-sts', 'encode', '--db', db, path.join(DECODED_FIXTURES, 'seed-passrole.json')])
  t.equal(enc.code, 0, enc.stderr)
  const lines = enc.stdout.split('\n')
  t.equal(lines.length, 2, 'one token and a newline')
  const token = lines[0]!
  t.match(token, /^[A-Za-z0-9_-]{100,}$/)

  // A separate process with the same --db: the key persisted next to the database.
  const dec = await runCli(['decode', '--db', db, '--store', errorLine(token)])
  t.equal(dec.code, 0, dec.stderr)
  t.equal(dec.stdout, cliOutput(rawOf('seed-passrole.json')), 'exactly what aws sts decode-authorization-message prints')
  t.match(dec.stderr, /^stored: imported 1, duplicates 0, rejected 0 \(denial \d+\)\n$/)
  const again = await runCli(['decode', '--db', db, '--store', errorLine(token)])
  t.match(again.stderr, /^stored: imported 0, duplicates 1, rejected 0/, 'the same encoded message again: a duplicate')
  const other = await runCli(['mock-sts', 'encode', '--db', db, path.join(DECODED_FIXTURES, 'seed-passrole.json')])
  const token2 = other.stdout.trim()
  t.not(token2, token)
  const second = await runCli(['decode', '--db', db, '--store', errorLine(token2)])
  t.match(second.stderr, /^stored: imported 1, duplicates 0, rejected 0/, 'another encoded message of the same content: another occurrence')

  const found = await runCli(['search', '--db', db, '--action', 'iam:PassRole', '--json'])
  t.equal(found.code, 0, found.stderr)
  const res = JSON.parse(found.stdout)
  t.equal(res.total, 1, 'the denial is searchable')
  t.equal(res.items[0].occurrences, 2)
  t.equal(res.items[0].resource, 'arn:aws:iam::111122223333:role/EC2_instance_Profile_role')
  const bySource = await runCli(['search', '--db', db, '--q', 'EC2_instance_Profile_role', '--json'])
  t.equal(JSON.parse(bySource.stdout).total, 1)
})

t.test('encode from stdin (NDJSON) and decode several tokens from stdin', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'w.db')
  const files = ['kms-decrypt.json', 'hostile-values.json', 'minimal-no-conditions.json']
  const ndjson = files.map(f => JSON.stringify(JSON.parse(readFileSync(path.join(DECODED_FIXTURES, f), 'utf8')))).join('\n') + '\n'
  const enc = await runCli(['mock-sts', 'encode', '--db', db, '-'], { input: ndjson })
  t.equal(enc.code, 0, enc.stderr)
  const tokens = enc.stdout.trimEnd().split('\n')
  t.equal(tokens.length, 3, 'one token per record, one per line')
  const text = `Launch Failed - Encoded authorization failure message: ${tokens[0]!}\nthen: "${tokens[1]!}".\nand: Encoded authorization failure message: ${tokens[2]!.match(/.{1,60}/g)!.join('\n')}\n`
  const dec = await runCli(['decode', '--db', db, '-'], { input: text })
  t.equal(dec.code, 0, dec.stderr)
  t.equal(dec.stdout, files.map(f => cliOutput(rawOf(f))).join(''), 'one document per token, in order')
})

t.test('refusals and failures: clear messages, exit 1, nothing sent or printed', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'w.db')
  const token = (await runCli(['mock-sts', 'encode', '--db', db, path.join(DECODED_FIXTURES, 'kms-decrypt.json')])).stdout.trim()

  const elided = await runCli(['decode', '--db', db, `Encoded authorization failure message: ${token.slice(0, 40)}...`])
  t.equal(elided.code, 1)
  t.equal(elided.stdout, '')
  t.match(elided.stderr, /^whydenied: not sent to STS: .*elided/)

  const lower = await runCli(['decode', '--db', db, token.toLowerCase()])
  t.equal(lower.code, 1)
  t.match(lower.stderr, /all lower case/)

  const foreign = await runCli(['decode', '--db', path.join(dir, 'other', 'o.db'), token])
  t.equal(foreign.code, 1)
  t.equal(foreign.stdout, '')
  t.match(foreign.stderr, /^whydenied: the local mock STS cannot decode this message \(InvalidAuthorizationMessageException: /)

  const offline = await runCli(['decode', '--db', db, '--endpoint', 'http://127.0.0.1:9/sts', token], { env: AWS_ENV })
  t.equal(offline.code, 1)
  t.match(offline.stderr, /Cannot reach the STS at http:\/\/127\.0\.0\.1:9\/sts \(ECONNREFUSED/)
  t.match(offline.stderr, /--endpoint URL/)

  // --aws: the default credential chain; with none configured, it says so (and nothing reaches the network).
  const noCreds = await runCli(['decode', '--aws', '--db', db, token], { env: { ...AWS_ENV, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_REGION: 'eu-west-1' } })
  t.equal(noCreds.code, 1)
  t.match(noCreds.stderr, /^whydenied: No AWS credentials to call AWS STS: .*AWS_PROFILE/)

  const both = await runCli(['decode', '--aws', '--endpoint', 'http://127.0.0.1:9/sts', token])
  t.equal(both.code, 1)
  t.match(both.stderr, /exclude each other/)

  const badRecord = await runCli(['mock-sts', 'encode', '--db', db, '-'], { input: '{"hello": "world"}\n' })
  t.equal(badRecord.code, 1)
  t.equal(badRecord.stdout, '')
  t.match(badRecord.stderr, /cannot encode stdin:1: not a decoded authorization message/)

  const badTtl = await runCli(['mock-sts', 'encode', '--db', db, '--ttl', 'soon', '-'], { input: '{}' })
  t.equal(badTtl.code, 1)
  t.match(badTtl.stderr, /option '--ttl <seconds>' argument 'soon' is invalid\. Give whole seconds from 0/)
})

t.test('encode --ttl: the token expires', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'w.db')
  const token = (await runCli(['mock-sts', 'encode', '--db', db, '--ttl', '1', path.join(DECODED_FIXTURES, 'kms-decrypt.json')])).stdout.trim()
  await new Promise(resolve => setTimeout(resolve, 2100))
  const late = await runCli(['decode', '--db', db, token])
  t.equal(late.code, 1)
  t.match(late.stderr, /InvalidAuthorizationMessageException: The encoded authorization message is invalid: the message expired at/)
})

t.test('`whydenied mock-sts` prints an endpoint that clients use as is; AccessDenied through decode --endpoint', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'm.db')
  const ids = path.join(dir, 'ids.json')
  writeFileSync(ids, readFileSync(path.join(ROOT, 'fixtures', 'sts', 'identities.json')))
  const { out } = await start(t, ['mock-sts', '--port', '0', '--db', db, '--identities', ids, '--quiet'], 2)
  const m = /^mock STS endpoint: (http:\/\/127\.0\.0\.1:\d+\/sts)$/.exec(out[0]!)
  t.ok(m, out[0]!)
  const endpoint = m![1]!
  t.match(out[1], /^access keys: test, denied \(may not decode\); secret: .*mock-sts\.key$/)

  const token = (await runCli(['mock-sts', 'encode', '--db', db, path.join(DECODED_FIXTURES, 'scp-explicit-deny.json')])).stdout.trim()
  const ok = await runCli(['decode', '--endpoint', endpoint, token], { env: AWS_ENV })
  t.equal(ok.code, 0, ok.stderr)
  t.equal(ok.stdout, cliOutput(rawOf('scp-explicit-deny.json')))

  const denied = await runCli(['decode', '--endpoint', endpoint, token], { env: { ...AWS_ENV, AWS_ACCESS_KEY_ID: 'denied', AWS_SECRET_ACCESS_KEY: 'denied' } })
  t.equal(denied.code, 1)
  t.equal(denied.stdout, '')
  t.match(denied.stderr, /^whydenied: the STS at http:\/\/127\.0\.0\.1:\d+\/sts refused to decode: the caller is not allowed to call sts:DecodeAuthorizationMessage \(AccessDenied: User: arn:aws:iam::111122223333:user\/ci-deployer is not authorized to perform: sts:DecodeAuthorizationMessage because no identity-based policy allows the sts:DecodeAuthorizationMessage action\)/)
  t.match(denied.stderr, /"Action": "sts:DecodeAuthorizationMessage"/)

  const client = new STSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
  t.teardown(() => client.destroy())
  t.equal((await client.send(new DecodeAuthorizationMessageCommand({ EncodedMessage: token }))).DecodedMessage, rawOf('scp-explicit-deny.json'))
})

t.test('`whydenied serve` prints the mock STS endpoint', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 's.db')
  const { out } = await start(t, ['serve', '--port', '0', '--db', db, '--quiet', '--ttl', '3600'], 2)
  t.match(out[0], /^whydenied listening on http:\/\/127\.0\.0\.1:\d+\/$/)
  const m = /^mock STS endpoint: (http:\/\/127\.0\.0\.1:\d+\/sts)$/.exec(out[1]!)
  t.ok(m, out[1]!)
  const client = new STSClient({ endpoint: m![1]!, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
  t.teardown(() => client.destroy())
  t.equal((await client.send(new GetCallerIdentityCommand({}))).Arn, 'arn:aws:iam::111122223333:user/whydenied-decoder')

  // --ttl is the default lifetime of POST /api/mock-sts/encode; the key file next to --db opens the token.
  const res = await fetch(m![1]!.replace(/\/sts$/, '/api/mock-sts/encode'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: readFileSync(path.join(DECODED_FIXTURES, 'kms-decrypt.json')) })
  const token = ((await res.json()) as { EncodedMessage: string }).EncodedMessage
  const opened = new TokenCodec(loadStsSecret({ dbPath: db }).secret).open(token)
  t.equal(opened.decoded, rawOf('kms-decrypt.json'))
  t.ok(opened.expiresAt !== null && Math.abs(opened.expiresAt - (Date.now() + 3600_000)) < 60_000, 'expires in an hour')
})
