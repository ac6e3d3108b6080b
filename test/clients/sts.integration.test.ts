/**
 * Real clients against the running mock over HTTP on 127.0.0.1: @aws-sdk/client-sts, the AWS CLI v2,
 * the AWS CLI v1 (python3 -m awscli) and boto3, found by test/helpers/binaries.ts (a missing one is
 * skipped with the reason, or fails under WHYDENIED_REQUIRE_ALL=1). For every decoded fixture: mint,
 * decode, identical JSON, and the CLI's output imports unchanged. Error cases through the CLIs show
 * AWS's code and message. The CLIs start in about a second each, so they run a few at a time.
 * In test/clients/ rather than test/sts/: tap starts files in path order, and as the last one its
 * ~12 s left one core idle at the end of `npm test`.
 */
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { DecodeAuthorizationMessageCommand, GetCallerIdentityCommand, InvalidAuthorizationMessageException, STSClient } from '@aws-sdk/client-sts'
import { findAwsCliV1, findAwsCliV2, findBoto3, missing, skipUnless, type Found } from '../helpers/binaries.js'
import { buildTestApp, DECODED_FIXTURES } from '../helpers/build.js'
import { cliOutput } from '../../server/cli/decode.js'

const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'
}
const childEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', PYTHONIOENCODING: 'utf-8', ...AWS_ENV, ...extra }
  return env
}

interface Run { code: number | null, stdout: string, stderr: string }
function run (cmd: string, args: string[], opts: { env?: Record<string, string>, input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: childEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', d => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', d => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
    child.stdin.end(opts.input ?? '')
  })
}

/** Run jobs with at most `limit` at a time (the machine has 2 cores). */
async function pool<T> (jobs: Array<() => Promise<T>>, limit = 4): Promise<T[]> {
  const out: T[] = new Array(jobs.length)
  let next = 0
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < jobs.length) {
      const i = next++
      out[i] = await jobs[i]!()
    }
  }))
  return out
}

const CLIS: Array<{ name: string, found: Found, exit: number }> = [
  { name: 'AWS CLI v2', found: findAwsCliV2(), exit: 254 },
  { name: 'AWS CLI v1', found: findAwsCliV1(), exit: 255 }
]
const boto3 = findBoto3()
interface Cli { name: string, exit: number, argv: (args: string[]) => [string, string[]] }

/** The CLIs found; a skipped subtest per missing one (a failing one under WHYDENIED_REQUIRE_ALL=1). */
function available (t: Test): Cli[] {
  const out: Cli[] = []
  for (const { name, found, exit } of CLIS) {
    if (found.ok) out.push({ name, exit, argv: args => [found.path, [...found.args, ...args]] })
    else t.test(`${name} (missing)`, { skip: skipUnless(found) }, async t => { t.fail(missing(found)) })
  }
  return out
}

interface Case { name: string, body: string, raw: string }
const cases: Case[] = readdirSync(DECODED_FIXTURES).filter(f => f.endsWith('.json')).sort().map(f => {
  const body = readFileSync(path.join(DECODED_FIXTURES, f), 'utf8')
  return { name: f, body, raw: JSON.parse(body).DecodedMessage as string }
})
// White space that XML parsers like to normalise or trim: CRLF, leading and trailing blanks, tabs.
const awkward = '\r\n  {"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]},"failures":{"items":[]},"context":{"principal":{"id":"AIDAEXAMPLE  TAB",\t"arn":"arn:aws:iam::111122223333:user/a  b"},"action":"s3:GetObject","resource":"arn:aws:s3:::b/<&>\'\\"","conditions":{"items":[]}}}\n\t '
cases.push({ name: 'awkward white space (synthetic)', body: JSON.stringify({ DecodedMessage: awkward }), raw: awkward })

t.test('real clients against the mock served by the app', async t => {
  const app = await buildTestApp(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const endpoint = `${base}/sts`

  // Mint over HTTP, as a user would.
  for (const c of cases) {
    const res = await fetch(`${base}/api/mock-sts/encode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: c.body })
    t.equal(res.status, 200, `mint ${c.name}`)
    ;(c as Case & { token: string }).token = ((await res.json()) as { EncodedMessage: string }).EncodedMessage
  }
  const tokens = cases.map(c => (c as Case & { token: string }).token)
  const tampered = tokens[0]!.slice(0, 100) + (tokens[0]![100] === 'x' ? 'y' : 'x') + tokens[0]!.slice(101)

  t.test('@aws-sdk/client-sts', async t => {
    const client = new STSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 })
    t.teardown(() => client.destroy())
    for (const [i, c] of cases.entries()) {
      const out = await client.send(new DecodeAuthorizationMessageCommand({ EncodedMessage: tokens[i]! }))
      t.equal(out.DecodedMessage, c.raw, c.name)
      t.match(out.$metadata.requestId, /^[0-9a-f-]{36}$/, 'request id from x-amzn-RequestId')
    }
    const me = await client.send(new GetCallerIdentityCommand({}))
    t.same({ Arn: me.Arn, UserId: me.UserId, Account: me.Account }, { Arn: 'arn:aws:iam::111122223333:user/whydenied-decoder', UserId: 'AIDA73R7OL7JC2CMZUG2Q', Account: '111122223333' })
    const err = await client.send(new DecodeAuthorizationMessageCommand({ EncodedMessage: tampered })).catch((e: unknown) => e)
    t.type(err, InvalidAuthorizationMessageException, 'the modeled exception class')
    t.equal((err as InvalidAuthorizationMessageException).$metadata.httpStatusCode, 400)
    const denied = new STSClient({ endpoint, region: 'eu-west-3', credentials: { accessKeyId: 'denied', secretAccessKey: 'denied' }, maxAttempts: 1 })
    t.teardown(() => denied.destroy())
    const ad = await denied.send(new DecodeAuthorizationMessageCommand({ EncodedMessage: tokens[0]! })).catch((e: unknown) => e) as Error & { $metadata: { httpStatusCode: number } }
    t.equal(ad.name, 'AccessDenied')
    t.equal(ad.$metadata.httpStatusCode, 403)
    t.equal(ad.message, 'User: arn:aws:iam::111122223333:user/ci-deployer is not authorized to perform: sts:DecodeAuthorizationMessage because no identity-based policy allows the sts:DecodeAuthorizationMessage action')
  })

  t.test('boto3', { skip: skipUnless(boto3) }, async t => {
    if (!boto3.ok) return t.fail(missing(boto3))
    const script = [
      'import sys, json, boto3, botocore',
      'req = json.load(sys.stdin)',
      'def call(key, secret, token):',
      '    c = boto3.client("sts", endpoint_url=req["endpoint"], region_name="ap-northeast-1", aws_access_key_id=key, aws_secret_access_key=secret)',
      '    try:',
      '        return {"ok": c.decode_authorization_message(EncodedMessage=token)["DecodedMessage"]}',
      '    except botocore.exceptions.ClientError as e:',
      '        return {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}',
      'out = {"decoded": [call("test", "test", t) for t in req["tokens"]],',
      '       "tampered": call("test", "test", req["tampered"]), "denied": call("denied", "denied", req["tokens"][0]), "unknown": call("nobody", "x", req["tokens"][0]),',
      '       "me": boto3.client("sts", endpoint_url=req["endpoint"], region_name="us-west-2", aws_access_key_id="test", aws_secret_access_key="test").get_caller_identity()["Arn"]}',
      'print(json.dumps(out))'
    ].join('\n')
    const r = await run(boto3.path, ['-c', script], { input: JSON.stringify({ endpoint, tokens, tampered }) })
    t.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as { decoded: Array<{ ok: string }>, tampered: Record<string, unknown>, denied: Record<string, unknown>, unknown: Record<string, unknown>, me: string }
    for (const [i, c] of cases.entries()) t.equal(out.decoded[i]!.ok, c.raw, c.name)
    t.equal(out.tampered.code, 'InvalidAuthorizationMessageException')
    t.equal(out.tampered.status, 400)
    t.same(out.denied, { code: 'AccessDenied', status: 403, message: 'User: arn:aws:iam::111122223333:user/ci-deployer is not authorized to perform: sts:DecodeAuthorizationMessage because no identity-based policy allows the sts:DecodeAuthorizationMessage action' })
    t.same(out.unknown, { code: 'InvalidClientTokenId', status: 403, message: 'The security token included in the request is invalid.' })
    t.equal(out.me, 'arn:aws:iam::111122223333:user/whydenied-decoder')
  })

  t.test('AWS CLI v2 and v1: every fixture decodes to identical output, which imports unchanged', async t => {
    const clis = available(t)
    const jobs = clis.flatMap(cli => cases.map((c, i) => async () => ({ cli, c, r: await run(...cli.argv(['--endpoint-url', endpoint, 'sts', 'decode-authorization-message', '--encoded-message', tokens[i]!])) })))
    const results = await pool(jobs)
    for (const { cli, c, r } of results) {
      t.equal(r.code, 0, `${cli.name} ${c.name}: ${r.stderr}`)
      t.equal(r.stdout, cliOutput(c.raw), `${cli.name} ${c.name}: the same bytes as whydenied decode prints`)
      t.equal(JSON.parse(r.stdout).DecodedMessage, c.raw)
      const imp = await fetch(`${base}/api/imports?source=${encodeURIComponent(cli.name)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: r.stdout })
      const summary = await imp.json() as { imported: number, duplicates: number, rejected: unknown[] }
      t.same(summary.rejected, [], `${cli.name} ${c.name}: imports without rejects`)
      t.equal(summary.imported + summary.duplicates, 1)
    }
    if (clis.length === 0) return
    const list = await (await fetch(`${base}/api/denials?limit=500&facets=false`)).json() as { total: number, items: Array<{ id: number }> }
    t.equal(list.total, cases.length, 'one denial per fixture')
    const stored = await Promise.all(list.items.map(async d => ((await (await fetch(`${base}/api/denials/${d.id}`)).json()) as { raw: string }).raw))
    t.same(stored.sort(), cases.map(c => c.raw).sort(), 'stored exactly as decoded')
  })

  t.test('error cases through the AWS CLIs show AWS\'s code and message', async t => {
    const op = 'when calling the DecodeAuthorizationMessage operation'
    const errorCases: Array<{ args: string[], env: Record<string, string>, expect: string }> = [
      { args: ['--encoded-message', tokens[0]!], env: { AWS_ACCESS_KEY_ID: 'denied', AWS_SECRET_ACCESS_KEY: 'denied' }, expect: `An error occurred (AccessDenied) ${op}: User: arn:aws:iam::111122223333:user/ci-deployer is not authorized to perform: sts:DecodeAuthorizationMessage because no identity-based policy allows the sts:DecodeAuthorizationMessage action` },
      { args: ['--encoded-message', tampered], env: {}, expect: `An error occurred (InvalidAuthorizationMessageException) ${op}: The encoded authorization message is invalid: the message failed its integrity check` },
      { args: ['--encoded-message', tokens[0]!], env: { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE' }, expect: `An error occurred (InvalidClientTokenId) ${op}: The security token included in the request is invalid.` },
      { args: ['--encoded-message', tokens[0]!], env: { AWS_SECRET_ACCESS_KEY: 'not-the-secret' }, expect: `An error occurred (SignatureDoesNotMatch) ${op}: The request signature we calculated does not match the signature you provided.` },
      { args: ['--encoded-message', 'A'.repeat(10241)], env: {}, expect: `An error occurred (ValidationError) ${op}: 1 validation error detected: Value at 'encodedMessage' failed to satisfy constraint: Member must have length less than or equal to 10240` },
      { args: ['--encoded-message', tokens[0]!, '--no-sign-request'], env: {}, expect: `An error occurred (MissingAuthenticationToken) ${op}: Request is missing Authentication Token` }
    ]
    // Every case through v2; v1 shares botocore's error handling, so two cases suffice there.
    const clis = available(t)
    const jobs = clis.flatMap(cli => (cli.name === 'AWS CLI v2' ? errorCases : errorCases.slice(0, 2)).map(e => ({ cli, e })))
      .map(({ cli, e }) => async () => ({ cli, e, r: await run(...cli.argv(['--endpoint-url', endpoint, 'sts', 'decode-authorization-message', ...e.args]), { env: e.env }) }))
    for (const { cli, e, r } of await pool(jobs)) {
      t.equal(r.code, cli.exit, `${cli.name}: exit status`)
      t.ok(r.stderr.includes(e.expect), `${cli.name}: ${e.expect.slice(0, 60)}…\n${r.stderr}`)
      t.equal(r.stdout, '')
    }
    const v2 = clis.find(c => c.name === 'AWS CLI v2')
    if (v2 === undefined) return
    const me = await run(...v2.argv(['--endpoint-url', endpoint, 'sts', 'get-caller-identity']))
    t.equal(me.code, 0, me.stderr)
    t.same(JSON.parse(me.stdout), { UserId: 'AIDA73R7OL7JC2CMZUG2Q', Account: '111122223333', Arn: 'arn:aws:iam::111122223333:user/whydenied-decoder' })
  })
})
