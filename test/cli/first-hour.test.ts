/**
 * A new user's first tries, through the built binary: a real AWS message given to the mock, a typo in
 * --db for a read-only command, search piped into grep, a bad --cursor, a token of another --db, and
 * the fixture generator's --help (issue 13, items 1, 3, 4 and 6).
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { DECODED_FIXTURES, ROOT, tempDir } from '../helpers/files.js'
import { runCli } from '../helpers/cli.js'

const AWS_LIKE = 'fYzQ3-Ab' + randomBytes(540).toString('base64url')
const errorLine = (token: string): string => `An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: ${token}`

t.test('decode: a real AWS message given to the mock says to use --aws or import the decoded JSON', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'data', 'w.db')
  const r = await runCli(['decode', '--db', db, '-'], { input: errorLine(AWS_LIKE) + '\n' })
  t.equal(r.code, 1)
  t.equal(r.stdout, '')
  t.match(r.stderr, /^whydenied: the local mock STS cannot decode this message \(InvalidAuthorizationMessageException: .*not one a whydenied mock minted.*\)\. This looks like a message from AWS/)
  t.match(r.stderr, /whydenied decode --aws/)
  t.match(r.stderr, /sts:DecodeAuthorizationMessage/)
  t.match(r.stderr, /paste the decoded JSON into `whydenied import -`/)
  t.notOk(existsSync(path.join(dir, 'data')), 'decode without --store creates nothing: no directory, no key, no database')
})

t.test('decode: a mock message minted with another --db says the key lives next to the database', async t => {
  const dir = tempDir(t)
  const minted = path.join(dir, 'a', 'w.db')
  const enc = await runCli(['mock-sts', 'encode', '--db', minted, path.join(DECODED_FIXTURES, 'kms-decrypt.json')])
  t.equal(enc.code, 0, enc.stderr)
  const token = enc.stdout.trim()
  t.match(token, /^whyDeniedMock-v2/, 'the documented marker')
  const other = path.join(dir, 'b', 'w.db')
  mkdirSync(path.dirname(other))
  writeFileSync(path.join(dir, 'b', 'mock-sts.key'), randomBytes(32).toString('base64url') + '\n')
  const r = await runCli(['decode', '--db', other, token])
  t.equal(r.code, 1)
  t.match(r.stderr, /A whydenied mock minted it, but not with its secret, .*b\/mock-sts\.key: the mock's secret lives next to the database/)
  t.match(r.stderr, /decode with the --db it was minted with/)
  const none = await runCli(['decode', '--db', path.join(dir, 'c', 'w.db'), token])
  t.match(none.stderr, /c\/mock-sts\.key, which does not exist \(nothing was minted with this --db\)/)
  const ok = await runCli(['decode', '--db', minted, token])
  t.equal(ok.code, 0, ok.stderr)
})

t.test('read-only commands create nothing: "no database at PATH", exit 1; a non-database file is named', async t => {
  const dir = tempDir(t)
  const typo = path.join(dir, 'typo', 'x.db')
  for (const args of [['search'], ['search', '--json'], ['report', '--format', 'md']]) {
    const r = await runCli([...args, '--db', typo])
    t.equal(r.code, 1, args.join(' '))
    t.equal(r.stdout, '')
    t.equal(r.stderr, `whydenied: No database at ${typo}: check --db (or $WHYDENIED_DB); \`whydenied import\`, \`decode --store\`, \`mock-sts\` and \`serve\` create one\n`)
  }
  const viaEnv = await runCli(['search'], { env: { WHYDENIED_DB: typo } })
  t.equal(viaEnv.code, 1)
  t.match(viaEnv.stderr, /No database at /)
  t.same(readdirSync(dir), [], 'no directory, no file')

  const notDb = path.join(dir, 'notes.txt')
  writeFileSync(notDb, 'these are my notes, not a database\n'.repeat(200))
  for (const args of [['search'], ['report'], ['import', path.join(DECODED_FIXTURES, 'kms-decrypt.json')]]) {
    const r = await runCli([...args, '--db', notDb])
    t.equal(r.code, 1, args.join(' '))
    t.match(r.stderr, `whydenied: ${notDb} is not a whydenied database (file is not a database): check --db`)
  }
  const r = await runCli(['search', '--db', dir])
  t.equal(r.code, 1)
  t.match(r.stderr, `${dir} is not a whydenied database (not a regular file)`)
  const asDir = await runCli(['import', '--db', dir, path.join(DECODED_FIXTURES, 'kms-decrypt.json')])
  t.equal(asDir.code, 1)
  t.match(asDir.stderr, `whydenied: Cannot open the database ${dir} (unable to open database file): check that --db`)

  // The commands that write still create it.
  const fresh = path.join(dir, 'new', 'w.db')
  const imp = await runCli(['import', '--db', fresh, path.join(DECODED_FIXTURES, 'kms-decrypt.json')])
  t.equal(imp.code, 0, imp.stderr)
  const found = await runCli(['search', '--db', fresh])
  t.equal(found.code, 0, found.stderr)
  t.match(found.stdout, /1 of 1 denial\n$/)
})

t.test('search piped: nothing is cut; --format tsv, csv, json', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'w.db')
  const session = 'arn:aws:sts::111122223333:assumed-role/ci-runner-for-the-platform-team/gitlab-session-0ab51ed10'
  const resource = 'arn:aws:iam::111122223333:role/platform/ci/build-agents/ci-runner-instance-profile-role'
  const message = { allowed: false, explicitDeny: false, matchedStatements: { items: [] }, failures: { items: [] }, context: { principal: { id: 'AROAEXAMPLE:gitlab-session-0ab51ed10', arn: session }, action: 'iam:PassRole', resource, conditions: { items: [] } } }
  const imp = await runCli(['import', '--db', db, '-'], { input: JSON.stringify({ DecodedMessage: JSON.stringify(message) }) })
  t.equal(imp.code, 0, imp.stderr)

  const piped = await runCli(['search', '--db', db])
  t.equal(piped.code, 0, piped.stderr)
  t.match(piped.stdout, session, 'the whole principal ARN, as grep needs it')
  t.match(piped.stdout, resource, 'the whole resource ARN')
  t.notMatch(piped.stdout, '…')

  const tsv = await runCli(['search', '--db', db, '--format', 'tsv'])
  const [head, row] = tsv.stdout.trimEnd().split('\n')
  t.equal(head, 'id\tdecision\taction\tprincipalArn\tresource\tregion\toccurrences\tfirstSeen\tlastSeen')
  t.match(row!.split('\t'), ['1', 'implicit-deny', 'iam:PassRole', session, resource])

  const csv = await runCli(['search', '--db', db, '--format', 'csv'])
  t.match(csv.stdout, /^id,decision,action,principalArn,resource,region,occurrences,firstSeen,lastSeen\r\n1,implicit-deny,iam:PassRole,arn:aws:sts::/)

  const json = await runCli(['search', '--db', db, '--format', 'json'])
  t.same(JSON.parse(json.stdout), JSON.parse((await runCli(['search', '--db', db, '--json'])).stdout), '--format json is --json')
  t.equal(JSON.parse(json.stdout).items[0].principalArn, session)

  const bad = await runCli(['search', '--db', db, '--format', 'xml'])
  t.equal(bad.code, 1)
  t.match(bad.stderr, /Allowed choices are table, tsv, csv, json/)
})

t.test('search on a terminal (a real pty, 120 columns): the role and resource names survive the cut', { skip: process.platform !== 'linux' && 'needs util-linux script(1)' }, async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'w.db')
  const session = 'arn:aws:sts::111122223333:assumed-role/ci-runner/session-0ab51ed10aa0ab51ed10'
  const message = { allowed: false, explicitDeny: false, context: { principal: { id: 'AROAEXAMPLE:s', arn: session }, action: 'ec2:AuthorizeSecurityGroupIngress', resource: 'arn:aws:ec2:us-east-1:111122223333:security-group/sg-0123456789abcdef0-production-web', conditions: { items: [] } } }
  await runCli(['import', '--db', db, '-'], { input: JSON.stringify({ DecodedMessage: JSON.stringify(message) }) })
  // script(1) gives the command a terminal; stty sets its width.
  const cmd = `stty cols 120; ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(ROOT, 'dist/server/cli.js'))} search --db ${JSON.stringify(db)}`
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, WHYDENIED_DB: '' } })
  if (r.error) {
    // Without script(1) there is no terminal to test; the in-process test (search-table) still covers the cut.
    if (process.env.WHYDENIED_REQUIRE_ALL === '1') t.fail(`script(1) unavailable: ${r.error.message}`)
    else t.comment(`skipped: script(1) unavailable: ${r.error.message}`)
    return
  }
  t.equal(r.status, 0, r.stderr)
  const lines = r.stdout.replace(/\r/g, '').split('\n').filter(l => l !== '')
  t.ok(lines.every(l => l.length <= 120), 'every line fits 120 columns')
  const row = lines[1]!
  t.match(row, /ci-runner\//, 'the role name is kept')
  t.match(row, /ab51ed10/, 'the end of the session name is kept')
  t.match(row, /production-web/, 'the resource name is kept')
  t.match(row, '…')
})

t.test('search --cursor bogus: worded for the command line', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'w.db')
  await runCli(['import', '--db', db, path.join(DECODED_FIXTURES, 'kms-decrypt.json')])
  const r = await runCli(['search', '--db', db, '--cursor', 'bogus'])
  t.equal(r.code, 1)
  t.equal(r.stderr, 'whydenied: --cursor "bogus" is not a cursor this search printed: give the "next page: --cursor ..." value of the previous page, with the same filters and --sort (or leave --cursor out for the first page)\n')
  t.notMatch(r.stderr, /server/)
})

t.test('node dist/fixtures/generate.js --help prints help, not NDJSON; N and --seed still work', async t => {
  const gen = path.join(ROOT, 'dist', 'fixtures', 'generate.js')
  const help = spawnSync(process.execPath, [gen, '--help'], { encoding: 'utf8' })
  t.equal(help.status, 0)
  t.match(help.stdout, /^Usage: node dist\/fixtures\/generate\.js \[options\] \[n\]/)
  t.match(help.stdout, /--seed <s>/)
  t.notMatch(help.stdout, /DecodedMessage/)
  const out = spawnSync(process.execPath, [gen, '3', '--seed', '7'], { encoding: 'utf8' })
  t.equal(out.status, 0, out.stderr)
  const lines = out.stdout.trimEnd().split('\n')
  t.equal(lines.length, 3)
  t.ok(lines.every(l => typeof JSON.parse(l).DecodedMessage === 'string'))
  t.equal(spawnSync(process.execPath, [gen, '3', '--seed', '7'], { encoding: 'utf8' }).stdout, out.stdout, 'deterministic')
  const bad = spawnSync(process.execPath, [gen, '--bogus'], { encoding: 'utf8' })
  t.equal(bad.status, 1)
  t.equal(bad.stdout, '')
  t.match(bad.stderr, /unknown option '--bogus'/)
})
