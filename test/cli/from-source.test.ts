/** `npm run dev` runs the CLI from server/*.ts through tsx: it must find package.json, views/ and fixtures/ from there too. */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fixturesDir, packageRoot, packageVersion, viewsDir } from '../../server/paths.js'
import { ROOT, tempDir } from '../helpers/files.js'
import { serveUrl } from '../helpers/server.js'

const SOURCE_CLI = path.join(ROOT, 'server', 'cli.ts')
// tap records the coverage of child processes (@tapjs/processinfo). Code transpiled by tsx (esbuild)
// maps its functions differently from tsc's, so counting these children would list every function
// twice, once never called: they run with coverage off (the in-process tests cover this code).
const NO_COVERAGE = { _TAPJS_PROCESSINFO_COVERAGE_: '0' }
const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version

t.test('paths: the package root and its folders, from the sources', async t => {
  t.equal(packageRoot(), ROOT)
  t.equal(packageVersion(), version)
  t.ok(existsSync(path.join(viewsDir(), 'layouts', 'main.hbs')))
  t.ok(existsSync(path.join(fixturesDir(), 'sts', 'identities.json')))
})

t.test('the CLI runs from source through tsx (--version)', async t => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SOURCE_CLI, '--version'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...NO_COVERAGE } })
  t.equal(r.stderr, '')
  t.equal(r.status, 0)
  t.equal(r.stdout.trim(), version)
})

t.test('serve from source renders pages (views/ found from server/)', async t => {
  const url = await serveUrl(t, ['--import', 'tsx', SOURCE_CLI, 'serve', '--db', path.join(tempDir(t), 's.db'), '--port', '0', '--quiet'], { cwd: ROOT, env: NO_COVERAGE })
  const res = await fetch(url)
  t.equal(res.status, 200)
  t.match(await res.text(), /<html/i)
})
