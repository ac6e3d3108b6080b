/** Run the built `whydenied` binary as a child process, as a user would; refuse a build older than the sources. */
import { spawn } from 'node:child_process'
import path from 'node:path'
import t from 'tap'
import { ROOT } from './files.js'
import { staleMessage } from './dist.js'
import { nodeChild } from './node-child.js'

export const CLI = path.join(ROOT, 'dist', 'server', 'cli.js')

// The built binary rather than the sources through tsx: tsx adds about 0.7 s of CPU to each of the
// ~70 CLI starts in the suite, and on Node 20 its hooks do not reach the importer's worker thread
// (CLI imports above 2,000 records fail). So a stale build fails every test file that spawns it.
const stale = staleMessage(ROOT)
if (stale !== null) {
  t.fail(stale)
  process.exit(1)
}

export interface CliResult { code: number | null, stdout: string, stderr: string }

export function runCli (args: string[], opts: { input?: string | Buffer, env?: NodeJS.ProcessEnv, cwd?: string, timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const run = nodeChild([CLI, ...args], { ...process.env, WHYDENIED_DB: '', ...opts.env })
    const child = spawn(run.command, run.args, { cwd: opts.cwd ?? ROOT, env: run.env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', d => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', d => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
    child.stdin.end(opts.input ?? '')
  })
}
