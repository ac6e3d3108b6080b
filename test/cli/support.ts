/** `whydenied serve` as a child process with any command line and environment: the URL it prints. */
import { spawn } from 'node:child_process'
import type { TapLike } from '../helpers/build.js'

/** Spawn `node ...argv` (a serve command line); resolves with the URL it prints, rejects with its stderr if it exits. Killed when the test ends. */
export function serveUrl (t: TapLike, argv: string[], opts: { env?: NodeJS.ProcessEnv, cwd?: string } = {}): Promise<string> {
  const child = spawn(process.execPath, argv, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WHYDENIED_DB: '', WHYDENIED_HOST: '', WHYDENIED_PORT: '', ...opts.env } })
  t.teardown(() => { child.kill('SIGKILL') })
  let err = ''
  child.stderr.setEncoding('utf8').on('data', d => { err += d })
  return new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.setEncoding('utf8').on('data', d => {
      out += d
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) resolve(m[1]!)
    })
    child.on('exit', code => reject(new Error(`serve exited with ${code}: ${err}`)))
  })
}
