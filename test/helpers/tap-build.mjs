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

const require = createRequire(import.meta.url)
const built = readFileSync(require.resolve('@tapjs/test/test-built').replace(`${'/'}commonjs${'/'}`, '/esm/'), 'utf8')
const removed = ['@tapjs/typescript', '@tapjs/mock'].filter(p => built.includes(`from "${p}"`))
if (removed.length > 0) {
  console.error(`tap's Test class still loads ${removed.join(' and ')}: tap build`)
  // Run from npm scripts, whose PATH has node_modules/.bin.
  execFileSync('tap', ['build'], { stdio: 'inherit' })
}
