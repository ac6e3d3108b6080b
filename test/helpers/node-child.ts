/** How a test starts a `node` child (the built CLI): under tap, without tap's per-child module hooks, its coverage still recorded. */
import path from 'node:path'
import { packageRoot } from '../../server/paths.js'

// Why: under `tap`, @tapjs/processinfo puts `--import @tapjs/processinfo/import` into every child's
// NODE_OPTIONS (it patches ChildProcess.spawn, so even an env without NODE_OPTIONS gets it back). On
// Node 20 that import registers off-thread module hooks, and each of the child's ~700 (`search`) to
// ~1,500 (`serve`) module loads makes a round trip through them: measured on this 2-core machine,
// `whydenied search` took 0.42 s of CPU on its own and 1.0-1.3 s with the hooks, for ~150 CLI starts
// in the suite. What processinfo was there for is the child's coverage, and Node records that itself
// when NODE_V8_COVERAGE names a directory: one JSON per process and worker thread, with the source
// maps (dist/ back to server/*.ts) that tap's report (c8) reads from .tap/coverage, where processinfo
// writes too.
// `env NODE_OPTIONS=...` is the one way past the spawn patch: it resets what the patch put back.
const PROCESSINFO = /"?--import=[^"\s]*@tapjs[\\/]processinfo[\\/][^"\s]*"?/g

export interface NodeChild { command: string, args: string[], env: NodeJS.ProcessEnv }

/** `node <args>` with `env` (default: this process's): what to pass to spawn(). */
export function nodeChild (args: readonly string[], env: NodeJS.ProcessEnv = process.env): NodeChild {
  const options = env.NODE_OPTIONS ?? ''
  const own = options.replace(PROCESSINFO, '').trim()
  if (own === options) return { command: process.execPath, args: [...args], env }
  const childEnv: NodeJS.ProcessEnv = { ...env, NODE_OPTIONS: own }
  // tap sets _TAPJS_PROCESSINFO_COVERAGE_ to 1 when it collects coverage, to 0 with --disable-coverage.
  if (env._TAPJS_PROCESSINFO_COVERAGE_ === '1') childEnv.NODE_V8_COVERAGE = path.join(packageRoot(), '.tap', 'coverage')
  return { command: 'env', args: [`NODE_OPTIONS=${own}`, process.execPath, ...args], env: childEnv }
}
