/** The unit/integration split holds: no file that `npm run test:unit` runs starts whydenied, node, a browser or an AWS CLI. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { BATCH_KINDS, batchedFiles, isCliTest, isUnitTest, share, testFiles } from './helpers/kinds.js'
import { ROOT } from './helpers/files.js'

// What starting another process looks like in this suite: the CLI and server helpers (the built CLI),
// the browser helper, node itself (directly or through helpers/node-child.ts), the AWS CLIs (found by
// helpers/binaries.ts's find* functions).
const STARTS_A_PROCESS = /helpers\/(cli|server|node-child)\.js'|\/browser\.js'|playwright-cor[e]|spawn\(process\.execPath|find(AwsCliV[12]|Boto3|Chromium)\(\)/

t.test('unit test files start no other process', async t => {
  const all = testFiles()
  const unit = all.filter(isUnitTest)
  t.ok(unit.length > 40 && unit.length < all.length, `${unit.length} of ${all.length} files are unit tests`)
  for (const f of unit) t.notMatch(readFileSync(path.join(ROOT, f), 'utf8'), STARTS_A_PROCESS, `${f} runs in process`)
})

t.test('the rule', async t => {
  t.ok(isUnitTest('test/db/migrate.test.ts'))
  t.notOk(isUnitTest('test/cli/search-filters.test.ts'), 'test/cli/')
  t.notOk(isUnitTest('test/browser/pages.test.ts'), 'test/browser/')
  t.notOk(isUnitTest('test/ingest/utf16-stream.integration.test.ts'), '*.integration.test.ts')
  t.notOk(isUnitTest('test/batches/unit-1.test.ts'), 'a batch of unit files')
  t.notOk(isUnitTest('test/helpers/cli.ts'), 'not a test file')
})

// tap's include globs in their simple form (`**/` any directories, `*` within one name): the glob
// packages are tap's own dependencies, not ours, and these patterns need no more.
const globRegex = (g: string): RegExp => new RegExp(`^${g.split('**/').map(p => p.split('*').map(s => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')).join('(?:.*/)?')}$`)

t.test('npm test runs every test file exactly once', async t => {
  const taprc = readFileSync(path.join(ROOT, '.taprc'), 'utf8')
  const include = [...taprc.matchAll(/^ {2}- "([^"]+)"$/gm)].map(m => globRegex(m[1]!))
  t.ok(include.length >= 2, 'the include globs are read')
  const all = testFiles()
  const ran = all.filter(f => include.some(r => r.test(f)))
  // The other integration files by the globs, the unit and CLI files through the batches, none of these by a glob.
  const batched = (f: string): boolean => isUnitTest(f) || isCliTest(f)
  t.same(ran.filter(f => !f.startsWith('test/batches/')), all.filter(f => !batched(f) && !f.startsWith('test/batches/')), 'the other integration files, by the globs')
  const batches = ran.filter(f => f.startsWith('test/batches/'))
  t.same(batches, all.filter(f => f.startsWith('test/batches/')), 'every batch file, by a glob')
  const shares = batches.map(f => {
    const m = /await runShare\('(\w+)', (\d+), (\d+)\)/.exec(readFileSync(path.join(ROOT, f), 'utf8'))
    t.ok(m, `${f} runs a share`)
    t.ok(BATCH_KINDS.includes(m?.[1] as 'unit'), `${f}: a kind of batch`)
    return { kind: m?.[1] as 'unit' | 'cli', k: Number(m?.[2]), n: Number(m?.[3]), file: f }
  })
  for (const kind of BATCH_KINDS) {
    const mine = shares.filter(s => s.kind === kind)
    const n = mine.length
    t.ok(n > 0, `${kind}: batches`)
    t.same(mine.map(s => s.file), mine.map(s => `test/batches/${kind}-${s.k}.test.ts`), `${kind}: each batch named for its share`)
    t.same(mine.map(s => s.n), mine.map(() => n), `${kind}: each batch is one of n shares, n = the number of its batch files`)
    t.same(mine.map(s => s.k).sort((a, b) => a - b), mine.map((_, i) => i + 1), `${kind}: shares 1 to n, each once`)
    const fromShares = mine.flatMap(s => share(kind, s.k, n))
    t.equal(new Set(fromShares).size, fromShares.length, `${kind}: no file in two shares`)
    t.same(fromShares.sort(), batchedFiles(kind).sort(), `${kind}: every file in a share`)
  }
  t.ok(batchedFiles('cli').length > 5 && batchedFiles('cli').every(f => f.startsWith('test/cli/')), 'the CLI files are test/cli/\'s')
})

t.test('the glob reading above', async t => {
  t.ok(globRegex('test/**/*.integration.test.ts').test('test/db/crash.integration.test.ts'))
  t.ok(globRegex('test/**/*.integration.test.ts').test('test/a/b/x.integration.test.ts'))
  t.notOk(globRegex('test/**/*.integration.test.ts').test('test/db/crash.test.ts'))
  t.notOk(globRegex('test/batches/*.test.ts').test('test/batches/x/unit-1.test.ts'))
  t.notOk(globRegex('test/browser/**/*.test.ts').test('test/browserX/a.test.ts'))
})
