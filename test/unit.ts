/** `npm run test:unit`: the in-process test files, run from the sources by Node's own test runner through tsx. */
// Why not tap's runner, as `npm test` does: measured on this 2-core machine, tap's runner and its
// TypeScript loader cost 2–3 s of CPU per test file before the first assertion (a file holding one
// `t.pass()` takes 2.5 s of CPU under `tap`, 0.3 s under plain node), and unit tests are ~60 short
// files. Node's `--test` runner reads the TAP that tap prints and reports failures with their diff;
// tsx (esbuild, with its on-disk cache) loads the TypeScript, in worker threads too
// (test/helpers/tsx-everywhere.mjs). It runs two processes, and each takes files from one list until
// none is left (test/helpers/unit-batch.ts: a file's start-up cost is paid once per process, not once
// per file). Coverage is `npm test`'s job: it runs every file in a process of its own.
//
//   npm run test:unit                   every unit test file
//   npm run test:unit -- test/db ...    only the files under these paths
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { unitTestFiles } from './helpers/kinds.js'
import { packageRoot } from '../server/paths.js'

const ROOT = packageRoot()

const only = process.argv.slice(2).map(a => path.relative(ROOT, path.resolve(a)))
const files = unitTestFiles().filter(f => only.length === 0 || only.some(o => f === o || f.startsWith(`${o}/`)))
if (files.length === 0) {
  console.error(`no unit test file under ${only.join(', ')}`)
  process.exit(1)
}

const dir = mkdtempSync(path.join(tmpdir(), 'whydenied-unit-'))
const batch = pathToFileURL(path.join(ROOT, 'test/helpers/unit-batch.ts')).href
// tap's per-file timeout when a file runs on its own is 30 s; .taprc gives files 300 s.
const entries = [1, 2].map(n => {
  const entry = path.join(dir, `unit-${n}.mjs`)
  writeFileSync(entry, `import { runBatch } from ${JSON.stringify(batch)}\nawait runBatch(${JSON.stringify(files)}, ${JSON.stringify(path.join(dir, 'claimed'))}, 300_000)\n`)
  return entry
})
mkdirSync(path.join(dir, 'claimed'))

// dot: a dot per test, then each failure with its diff (spec would print ~6,000 lines); then the totals.
const reporters = ['--test-reporter=dot', '--test-reporter-destination=stdout', `--test-reporter=${path.join(ROOT, 'test/helpers/summary-reporter.mjs')}`, '--test-reporter-destination=stdout']
const run = spawnSync(process.execPath, ['--import', pathToFileURL(path.join(ROOT, 'test/helpers/tsx-everywhere.mjs')).href, '--test', '--test-concurrency=2', ...reporters, ...entries], {
  cwd: ROOT,
  stdio: 'inherit',
  // Each file has its own timeout (above); the process as a whole none.
  env: { ...process.env, TAP_TIMEOUT: '0' }
})
rmSync(dir, { recursive: true, force: true })
process.exit(run.status ?? 1)
