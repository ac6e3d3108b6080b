/** The unit/integration split holds: no file that `npm run test:unit` runs starts whydenied, node, a browser or an AWS CLI. */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { isUnitTest } from './helpers/kinds.js'
import { ROOT } from './helpers/build.js'

// What starting another process looks like in this suite: the CLI and server helpers (the built CLI),
// the browser helper, node itself (directly or through helpers/node-child.ts), the AWS CLIs (found by
// helpers/binaries.ts's find* functions).
const STARTS_A_PROCESS = /helpers\/(cli|server|node-child)\.js'|\/browser\.js'|playwright-cor[e]|spawn\(process\.execPath|find(AwsCliV[12]|Boto3|Chromium)\(\)/

const files = (dir: string): string[] => readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap(e =>
  e.isDirectory() ? files(`${dir}/${e.name}`) : e.name.endsWith('.test.ts') ? [`${dir}/${e.name}`] : [])

t.test('unit test files start no other process', async t => {
  const all = files('test')
  const unit = all.filter(isUnitTest)
  t.ok(unit.length > 40 && unit.length < all.length, `${unit.length} of ${all.length} files are unit tests`)
  for (const f of unit) t.notMatch(readFileSync(path.join(ROOT, f), 'utf8'), STARTS_A_PROCESS, `${f} runs in process`)
})

t.test('the rule', async t => {
  t.ok(isUnitTest('test/db/migrate.test.ts'))
  t.notOk(isUnitTest('test/cli/search-filters.test.ts'), 'test/cli/')
  t.notOk(isUnitTest('test/browser/pages.test.ts'), 'test/browser/')
  t.notOk(isUnitTest('test/ingest/utf16-stream.integration.test.ts'), '*.integration.test.ts')
  t.notOk(isUnitTest('test/sts/clients.test.ts'), 'named before the rule')
  t.notOk(isUnitTest('test/helpers/cli.ts'), 'not a test file')
})
