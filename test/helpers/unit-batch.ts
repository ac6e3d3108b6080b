/** One process of unit tests (`npm run test:unit`, and test/batches/ under `npm test`): files one after another, each a tap subtest of its own. */
// Why several files in one process: starting a test file costs ~2 s of CPU before its first assertion
// on this machine (Node 20's off-thread module hooks, which tsx needs, make every one of the ~1,500
// modules an app-building test loads a round trip: importing the app takes 1.7 s of CPU through tsx
// and 0.65 s without hooks; tap itself 0.6 s more), and most unit files take 1-2 s after that. Two
// processes pay it once each and take the files from one shared list, the longest first.
//
// Each file still runs on its own: its `import t from 'tap'` is a subtest made for it (the loader
// hook in unit-tap-hooks.mjs), so its teardowns (an STS client mock restored, a database closed) and
// its beforeEach/afterEach run at its own end and for its own tests, and the next file starts after
// its last test ended. What files do share is the module cache (the app's modules are loaded once)
// and process.env; `npx tap FILE` runs a file in a process of its own, and the shares differ from
// `npm run test:unit`'s order, so an order dependence would show.
import { mkdirSync } from 'node:fs'
import { register } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { packageRoot } from '../../server/paths.js'
import { share, type BatchKind } from './kinds.js'

register('./unit-tap-hooks.mjs', import.meta.url)

const KEY = Symbol.for('whydenied.unit-batch.t')

/** Run the `files` (relative to the package root) that this process claims first in `claimDir`. */
export async function runBatch (files: readonly string[], claimDir: string, timeoutMs: number): Promise<void> {
  for (const [i, file] of files.entries()) {
    if (claim(claimDir, i)) await runFile(file, timeoutMs)
  }
}

/**
 * `npm test`'s share `k` (1…n) of a kind's files (kinds.ts share: the unit files, or the CLI's). Why a fixed share rather than claims from one list, as runBatch does: tap starts the n batch files
 * as it pleases (with the integration files, two at a time), and nothing tells them apart from an
 * earlier run's processes.
 */
export async function runShare (kind: BatchKind, k: number, n: number): Promise<void> {
  // Each file keeps its own 300 s timeout (below); the batch as a whole gets the sum.
  const files = share(kind, k, n)
  t.setTimeout(files.length * FILE_TIMEOUT_MS)
  for (const file of files) await runFile(file, FILE_TIMEOUT_MS)
}

/** .taprc's per-file timeout. */
const FILE_TIMEOUT_MS = 300_000

async function runFile (file: string, timeoutMs: number): Promise<void> {
  await t.test(file, { timeout: timeoutMs }, async st => {
    (globalThis as Record<symbol, unknown>)[KEY] = st
    await import(pathToFileURL(path.join(packageRoot(), file)).href)
  })
}

/** mkdir is atomic: the one process whose mkdir succeeds runs file `i`. */
function claim (dir: string, i: number): boolean {
  try {
    mkdirSync(path.join(dir, String(i)))
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
}
