/**
 * Run by `npm install` (prepare) and `npm test` (pretest): makes tap's built Test class match the
 * plugin list in .taprc.
 *
 * .taprc removes tap's TypeScript plugin (ts-node; ts-hooks.mjs says why) and its mock plugin (a
 * module hook on every import, unused here), but tap applies a plugin list only when it rebuilds its
 * Test class (`tap build`); a fresh install ships the default build, which would still load both.
 * This rebuilds when the installed build still imports one of them, and does nothing otherwise.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

const require = createRequire(import.meta.url)
const built = readFileSync(require.resolve('@tapjs/test/test-built').replace(`${path.sep}commonjs${path.sep}`, `${path.sep}esm${path.sep}`), 'utf8')
const removed = ['@tapjs/typescript', '@tapjs/mock'].filter(p => built.includes(`from "${p}"`))
if (removed.length > 0) {
  console.error(`tap's Test class still loads ${removed.join(' and ')}: tap build`)
  // tap's own bin, with this node (not whatever `tap` PATH finds).
  const main = require.resolve('tap')
  const root = main.slice(0, main.lastIndexOf(`${path.sep}dist${path.sep}`))
  const bin = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).bin.tap
  execFileSync(process.execPath, [path.join(root, bin), 'build'], { stdio: 'inherit', cwd: new URL('../../', import.meta.url) })
}
