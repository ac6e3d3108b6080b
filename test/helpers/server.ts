/** Test helpers: `whydenied serve` as a child process on 127.0.0.1, its peak memory, and timed requests. */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { tempDir, type TapLike } from './files.js'
import { CLI } from './cli.js'
import { nodeChild } from './node-child.js'

import type { ChildProcess } from 'node:child_process'

export interface Served { url: string, pid: number }

/**
 * Spawn `node ...argv` (a serve command line, the built CLI or the sources through tsx) with the
 * WHYDENIED_* defaults cleared; resolves with the URL it prints and the child, rejects with its stderr
 * if it exits first. Killed when the test ends.
 */
export function spawnServe (t: TapLike, argv: string[], opts: { env?: NodeJS.ProcessEnv, cwd?: string } = {}): Promise<{ url: string, child: ChildProcess }> {
  const run = nodeChild(argv, { ...process.env, WHYDENIED_DB: '', WHYDENIED_HOST: '', WHYDENIED_PORT: '', ...opts.env })
  const child = spawn(run.command, run.args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: run.env })
  t.teardown(() => { child.kill('SIGKILL') })
  let err = ''
  child.stderr.setEncoding('utf8').on('data', d => { err += d })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.setEncoding('utf8').on('data', d => {
      out += d
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) resolve({ url: m[1]!, child })
    })
    child.on('exit', code => reject(new Error(`serve exited with ${code}: ${err}`)))
  })
}

/** The URL a serve command line prints (see spawnServe). */
export async function serveUrl (t: TapLike, argv: string[], opts: { env?: NodeJS.ProcessEnv, cwd?: string } = {}): Promise<string> {
  return (await spawnServe(t, argv, opts)).url
}

/** Start the built server on a free port with a fresh database; killed when the test ends. */
export async function startServer (t: TapLike): Promise<Served> {
  const { url, child } = await spawnServe(t, [CLI, 'serve', '--db', path.join(tempDir(t), 's.db'), '--port', '0', '--quiet'])
  return { url, pid: child.pid! }
}

/** Peak resident memory of a running process so far, in MiB (Linux: VmHWM). */
export function peakRssMb (pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!m) throw new Error('no VmHWM in /proc status')
  return Number(m[1]) / 1024
}

/** GET `url` again and again (one at a time) until `done` settles; the latency of each, in ms. */
export async function probeWhile (url: string, done: Promise<unknown>, pauseMs = 100): Promise<number[]> {
  let finished = false
  done.then(() => { finished = true }, () => { finished = true })
  const latencies: number[] = []
  // eslint-disable-next-line no-unmodified-loop-condition -- set by a promise callback
  while (!finished) {
    const started = performance.now()
    const res = await fetch(url)
    await res.arrayBuffer()
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`)
    latencies.push(performance.now() - started)
    await new Promise(resolve => setTimeout(resolve, pauseMs))
  }
  return latencies
}

export function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)] ?? 0
}
