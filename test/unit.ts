/** `npm run test:unit`: the in-process test files, run from the sources by Node's own test runner through tsx. */
// Why not tap's runner, as `npm test` does: measured on this 2-core machine, tap's runner and its
// TypeScript loader cost 2–3 s of CPU per test file before the first assertion (a file holding one
// `t.pass()` takes 2.5 s of CPU under `tap`, 0.3 s under plain node), and unit tests are ~60 short
// files. Node's `--test` runner reads the TAP each tap file prints, runs files two at a time and
// reports failures with their diff; tsx (esbuild, with its on-disk cache) loads the TypeScript, and
// worker threads inherit it through execArgv. Coverage is `npm test`'s job: it runs every file.
//
//   npm run test:unit                   every unit test file
//   npm run test:unit -- test/db ...    only the files under these paths
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { isUnitTest } from './helpers/kinds.js'
import { packageRoot } from '../server/paths.js'

const ROOT = packageRoot()

function walk (dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap(e => {
    const rel = `${dir}/${e.name}`
    if (e.isDirectory()) return e.name === 'fixtures' || e.name === 'artifacts' ? [] : walk(rel)
    return e.name.endsWith('.test.ts') ? [rel] : []
  })
}

const only = process.argv.slice(2).map(a => path.relative(ROOT, path.resolve(a)))
const files = walk('test').filter(isUnitTest).filter(f => only.length === 0 || only.some(o => f === o || f.startsWith(`${o}/`))).sort()
if (files.length === 0) {
  console.error(`no unit test file under ${only.join(', ')}`)
  process.exit(1)
}

// dot: a dot per test, then each failure with its diff (spec would print ~6,000 lines); then the totals.
const reporters = ['--test-reporter=dot', '--test-reporter-destination=stdout', `--test-reporter=${path.join(ROOT, 'test/helpers/summary-reporter.mjs')}`, '--test-reporter-destination=stdout']
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...reporters, ...files], {
  cwd: ROOT,
  stdio: 'inherit',
  // tap's per-file timeout when a file runs on its own is 30 s; .taprc gives files 300 s.
  env: { ...process.env, TAP_TIMEOUT: '300' }
})
process.exit(run.status ?? 1)
