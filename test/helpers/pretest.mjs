/**
 * `npm test`'s first step: `npm run build` and `npm run lint` side by side, then tap's Test class
 * rebuilt if its plugin list changed (tap-build.mjs). Each prints its output whole once it ends (the
 * build's first), and the step fails if either failed.
 *
 * Why side by side: tsc and ESLint each keep one core busy (~9–20 s, or a few seconds when tsc's
 * incremental build finds little changed; and, without its cache as on a fresh clone, ~8 s on this
 * 2-core machine), and neither reads what the other writes (ESLint reads the
 * sources, tsc writes dist/).
 */
import { spawn } from 'node:child_process'

const npm = process.env.npm_execpath
/** `npm run SCRIPT`, its stdout and stderr in one buffer; resolves to its exit code and output. */
function run (script) {
  // npm_execpath is npm's own CLI when npm runs this script; `npm` from PATH otherwise.
  const [command, args] = npm ? [process.execPath, [npm, 'run', '--silent', script]] : ['npm', ['run', '--silent', script]]
  return new Promise(resolve => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const out = []
    child.stdout.on('data', d => out.push(d))
    child.stderr.on('data', d => out.push(d))
    child.on('error', err => resolve({ script, code: 1, output: `${err.message}\n` }))
    child.on('close', (code, signal) => resolve({ script, code: code ?? 1, signal, output: Buffer.concat(out).toString() }))
  })
}

const results = await Promise.all([run('build'), run('lint')])
let failed = false
for (const r of results) {
  process.stdout.write(r.output)
  if (r.code !== 0) {
    failed = true
    process.stderr.write(`npm run ${r.script} failed (${r.signal ?? `exit code ${r.code}`})\n`)
  }
}
if (failed) process.exit(1)
await import('./tap-build.mjs')
