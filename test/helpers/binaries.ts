/** External programs the integration tests drive (Chromium, AWS CLI v2, python3 with AWS CLI v1 / boto3), found on PATH or through WHYDENIED_* variables. */
import { spawnSync } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import path from 'node:path'

export type Env = Record<string, string | undefined>

/** A program found (with what `args` to put before the rest), or why it was not. */
export type Found = { ok: true, path: string, args: string[], version: string } | { ok: false, reason: string }

/** Set by CI (.ci/run): a missing program fails the tests that need it instead of skipping them. */
export const REQUIRE_ALL = 'WHYDENIED_REQUIRE_ALL'

function isExecutable (file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return statSync(file).isFile()
  } catch {
    return false
  }
}

/** Every executable named `name` on PATH, in PATH order, without duplicates (`which -a`). */
export function allOnPath (name: string, env: Env = process.env): string[] {
  const seen = new Set<string>()
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue
    const file = path.join(dir, name)
    if (!seen.has(file) && isExecutable(file)) seen.add(file)
  }
  return [...seen]
}

/** Run a probe: the first line it prints (old AWS CLIs print --version on stderr), '' when it cannot start or fails. */
function probe (cmd: string, args: string[], env: Env): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, env: { PATH: env.PATH, HOME: env.HOME, LANG: 'C.UTF-8' } })
  return r.status === 0 ? (`${r.stdout}\n${r.stderr}`.trim().split('\n')[0] ?? '').trim() : ''
}

/**
 * The first candidate (the variable's value if set, else each of `names` on PATH) that `accept`s
 * its probe output; a set variable that does not pass is an error, not a reason to look elsewhere.
 */
function find (what: string, variable: string, names: string[], env: Env, check: (file: string) => { version: string, args?: string[] } | string): Found {
  const given = env[variable]
  const candidates = given !== undefined && given !== '' ? [given] : names.flatMap(n => allOnPath(n, env))
  const refused: string[] = []
  for (const file of candidates) {
    if (!isExecutable(file)) { refused.push(`${file} is not an executable file`); continue }
    const r = check(file)
    if (typeof r === 'string') { refused.push(`${file}: ${r}`); continue }
    return { ok: true, path: file, args: r.args ?? [], version: r.version }
  }
  const where = given !== undefined && given !== '' ? `${variable}=${given}` : `PATH (${names.join(', ')}; or set ${variable})`
  return { ok: false, reason: `${what} not found in ${where}${refused.length > 0 ? `: ${refused.join('; ')}` : ''}` }
}

/** Chromium or Chrome for playwright-core: $WHYDENIED_CHROMIUM, else chromium / chromium-browser / google-chrome on PATH. */
export function findChromium (env: Env = process.env): Found {
  return find('Chromium', 'WHYDENIED_CHROMIUM', ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'], env, file => {
    const out = probe(file, ['--version'], env)
    return /(chromium|chrome)\s+\d+/i.test(out) ? { version: out } : `--version says ${JSON.stringify(out)}, not Chromium or Chrome`
  })
}

/** The AWS CLI v2: $WHYDENIED_AWS_CLI_V2, else the first `aws` on PATH whose --version says aws-cli/2 (an earlier one may be v1). */
export function findAwsCliV2 (env: Env = process.env): Found {
  return find('AWS CLI v2', 'WHYDENIED_AWS_CLI_V2', ['aws'], env, file => {
    const out = probe(file, ['--version'], env)
    return /^aws-cli\/2\./.test(out) ? { version: out } : `--version says ${JSON.stringify(out)}, not aws-cli/2`
  })
}

/** A python3 (run as `python3 -m awscli`) whose awscli module is v1: $WHYDENIED_PYTHON, else each python3 on PATH (Debian's ships awscli v2). */
export function findAwsCliV1 (env: Env = process.env): Found {
  return find('python3 with AWS CLI v1', 'WHYDENIED_PYTHON', ['python3'], env, file => {
    const out = probe(file, ['-c', 'import awscli; print(awscli.__version__)'], env)
    return /^1\./.test(out) ? { version: `aws-cli/${out}`, args: ['-m', 'awscli'] } : out === '' ? 'no awscli module' : `awscli is ${out}, not 1.x`
  })
}

/** A python3 that imports boto3: $WHYDENIED_PYTHON, else each python3 on PATH. */
export function findBoto3 (env: Env = process.env): Found {
  return find('python3 with boto3', 'WHYDENIED_PYTHON', ['python3'], env, file => {
    const out = probe(file, ['-c', 'import boto3; print(boto3.__version__)'], env)
    return out !== '' ? { version: `boto3/${out}` } : 'no boto3 module'
  })
}

type Log = (line: string) => void
// Also on stderr: tap's terse reporter shows a test's stderr but not its skip reasons.
const stderr: Log = line => { process.stderr.write(`${line}\n`) }

/**
 * What to pass as a test's `skip` option: false when found; the reason when missing; false again
 * under WHYDENIED_REQUIRE_ALL=1, so that the test runs and fails on the missing program.
 */
export function skipUnless (found: Found, env: Env = process.env, log: Log = stderr): string | false {
  if (found.ok || env[REQUIRE_ALL] === '1') return false
  log(`skipped: ${found.reason}`)
  return found.reason
}

/** The failure message for a program a test needs but that is missing (under WHYDENIED_REQUIRE_ALL=1). */
export function missing (found: Found): string {
  return found.ok ? '' : `${found.reason} (${REQUIRE_ALL}=1: every external program is required)`
}

interface FileTap { plan: (n: number, reason: string) => void, fail: (message: string) => void }

/**
 * For a test file that cannot run at all without `found`: the program's path. When missing, the
 * whole file is skipped with the reason before any of its other top-level code runs (a plan of 0
 * tests, then exit), or fails under WHYDENIED_REQUIRE_ALL=1.
 */
export function requireForFile (t: FileTap, found: Found, env: Env = process.env, exit: (code: number) => never = process.exit, log: Log = stderr): string {
  if (found.ok) return found.path
  if (env[REQUIRE_ALL] === '1') {
    t.fail(missing(found))
    return exit(1)
  }
  log(`skipped: ${found.reason}`)
  t.plan(0, `skip: ${found.reason}`)
  return exit(0)
}
