/** Finding external programs: fake executables on a fake PATH stand in for Chromium, the AWS CLIs and python3. */
import t from 'tap'
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { allOnPath, findAwsCliV1, findAwsCliV2, findBoto3, findChromium, requireForFile, skipUnless, type Found } from './binaries.js'
import { tempDir } from './files.js'

/** A shell script that prints `out` (for python3: only when its -c code imports `module`). */
function fake (dir: string, name: string, out: string, opts: { module?: string, mode?: number } = {}): string {
  mkdirSync(dir, { recursive: true })
  const file = path.join(dir, name)
  const body = opts.module === undefined
    ? `echo '${out}'`
    : `case "$2" in *'import ${opts.module}'*) echo '${out}' ;; *) echo 'ModuleNotFoundError' >&2; exit 1 ;; esac`
  writeFileSync(file, `#!/bin/sh\n${body}\n`)
  chmodSync(file, opts.mode ?? 0o755)
  return file
}

const root = tempDir(t)
const pyenv = path.join(root, 'pyenv-shims')
const usr = path.join(root, 'usr-bin')
const empty = path.join(root, 'empty')
mkdirSync(empty)
// As on this machine: pyenv's shims come first, with awscli v1 and boto3; Debian's aws is v2 and
// Debian's python3 has the v2 awscli module and an older boto3.
const v1Aws = fake(pyenv, 'aws', 'aws-cli/1.45.11 Python/3.11.7 Linux/6.1 botocore/1.43.11')
const v2Aws = fake(usr, 'aws', 'aws-cli/2.9.19 Python/3.11.2 Linux/6.1 source/x86_64.debian.12 prompt/off')
const pyenvPython = fake(pyenv, 'python3', '1.45.11', { module: 'awscli' })
fake(usr, 'python3', '2.9.19', { module: 'awscli' })
const chromium = fake(usr, 'chromium', 'Chromium 120.0.6099.224 built on Debian 12.4')
fake(pyenv, 'chromium', 'not really', { mode: 0o644 })
const PATH = [pyenv, '', usr, usr].join(path.delimiter)

t.test('allOnPath lists executables in PATH order, once each, skipping non-executable files', async t => {
  t.same(allOnPath('aws', { PATH }), [v1Aws, v2Aws])
  t.same(allOnPath('chromium', { PATH }), [chromium], 'the mode 644 file is not a candidate')
  t.same(allOnPath('aws', {}), [], 'no PATH, nothing found')
})

t.test('AWS CLI v2: the first aws whose --version says aws-cli/2, not merely the first aws', async t => {
  t.match(findAwsCliV2({ PATH }), { ok: true, path: v2Aws, args: [], version: /^aws-cli\/2\.9\.19/ })
  const onlyV1 = findAwsCliV2({ PATH: pyenv })
  t.equal(onlyV1.ok, false)
  t.match(onlyV1, { reason: /AWS CLI v2 not found in PATH.*WHYDENIED_AWS_CLI_V2.*aws-cli\/1\.45\.11.*not aws-cli\/2/ }, 'the reason names the v1 it refused')
  t.match(findAwsCliV2({ PATH: pyenv, WHYDENIED_AWS_CLI_V2: v2Aws }), { ok: true, path: v2Aws }, 'the variable wins over PATH')
  t.match(findAwsCliV2({ PATH, WHYDENIED_AWS_CLI_V2: v1Aws }), { ok: false, reason: /WHYDENIED_AWS_CLI_V2=.*not aws-cli\/2/ }, 'a variable naming a v1 is an error, not a reason to look on PATH')
  t.match(findAwsCliV2({ PATH, WHYDENIED_AWS_CLI_V2: path.join(root, 'nope') }), { ok: false, reason: /not an executable file/ })
})

t.test('AWS CLI v1: a python3 whose awscli module is 1.x, run as python3 -m awscli', async t => {
  t.match(findAwsCliV1({ PATH }), { ok: true, path: pyenvPython, args: ['-m', 'awscli'], version: 'aws-cli/1.45.11' })
  t.match(findAwsCliV1({ PATH: usr }), { ok: false, reason: /awscli is 2\.9\.19, not 1\.x/ }, "Debian's python3 has the v2 module")
  t.match(findAwsCliV1({ PATH: empty }), { ok: false, reason: /python3 with AWS CLI v1 not found in PATH \(python3; or set WHYDENIED_PYTHON\)$/ })
  t.match(findAwsCliV1({ PATH: usr, WHYDENIED_PYTHON: pyenvPython }), { ok: true, path: pyenvPython })
})

t.test('boto3: a python3 that imports it', async t => {
  const boto = fake(path.join(root, 'boto'), 'python3', '1.26.27', { module: 'boto3' })
  t.match(findBoto3({ PATH: [pyenv, path.dirname(boto)].join(path.delimiter) }), { ok: true, path: boto, version: 'boto3/1.26.27' }, 'the first python3 lacks boto3')
  t.match(findBoto3({ PATH: pyenv }), { ok: false, reason: /no boto3 module/ })
})

t.test('Chromium: found on PATH or through WHYDENIED_CHROMIUM', async t => {
  t.match(findChromium({ PATH }), { ok: true, path: chromium, version: /^Chromium 120/ })
  t.match(findChromium({ PATH: empty }), { ok: false, reason: /Chromium not found in PATH \(chromium, chromium-browser, google-chrome-stable, google-chrome; or set WHYDENIED_CHROMIUM\)/ })
  const notChrome = fake(path.join(root, 'other'), 'browser', 'Firefox 115')
  t.match(findChromium({ PATH, WHYDENIED_CHROMIUM: notChrome }), { ok: false, reason: /not Chromium or Chrome/ })
})

t.test('a missing program skips with its reason, or fails under WHYDENIED_REQUIRE_ALL=1', async t => {
  const missing: Found = { ok: false, reason: 'Chromium not found' }
  const found: Found = { ok: true, path: chromium, args: [], version: 'Chromium 120' }
  const logged: string[] = []
  const log = (line: string): void => { logged.push(line) }
  t.equal(skipUnless(missing, {}, log), 'Chromium not found')
  t.equal(skipUnless(found, {}, log), false)
  t.equal(skipUnless(missing, { WHYDENIED_REQUIRE_ALL: '1' }, log), false, 'required: the test runs (and fails)')
  t.same(logged, ['skipped: Chromium not found'], 'the reason also goes to stderr, which the terse reporter shows')

  const calls: string[] = []
  const fileTap = { plan: (n: number, reason: string) => { calls.push(`plan ${n} ${reason}`) }, fail: (m: string) => { calls.push(`fail ${m}`) } }
  const exit = (code: number): never => { throw new Error(`exit ${code}`) }
  t.equal(requireForFile(fileTap, found, {}, exit, log), chromium)
  t.throws(() => requireForFile(fileTap, missing, {}, exit, log), /exit 0/)
  t.throws(() => requireForFile(fileTap, missing, { WHYDENIED_REQUIRE_ALL: '1' }, exit, log), /exit 1/)
  t.same(calls, ['plan 0 skip: Chromium not found', 'fail Chromium not found (WHYDENIED_REQUIRE_ALL=1: every external program is required)'])
  t.equal(logged.length, 2, 'the file skip is on stderr too')
})
