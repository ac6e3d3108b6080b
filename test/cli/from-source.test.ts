/** `npm run dev` runs the CLI from server/*.ts through tsx: it must find package.json, views/ and fixtures/ from there too. */
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fixturesDir, packageRoot, packageVersion, viewsDir } from '../../server/paths.js'
import { ROOT, tempDir } from '../helpers/build.js'

const SOURCE_CLI = path.join(ROOT, 'server', 'cli.ts')
const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version

t.test('paths: the package root and its folders, from the sources', async t => {
  t.equal(packageRoot(), ROOT)
  t.equal(packageVersion(), version)
  t.ok(existsSync(path.join(viewsDir(), 'layouts', 'main.hbs')))
  t.ok(existsSync(path.join(fixturesDir(), 'sts', 'identities.json')))
})

t.test('the CLI runs from source through tsx (--version)', async t => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SOURCE_CLI, '--version'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  t.equal(r.stderr, '')
  t.equal(r.status, 0)
  t.equal(r.stdout.trim(), version)
})

t.test('serve from source renders pages (views/ found from server/)', async t => {
  const db = path.join(tempDir(t), 's.db')
  const child = spawn(process.execPath, ['--import', 'tsx', SOURCE_CLI, 'serve', '--db', db, '--port', '0', '--quiet'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WHYDENIED_DB: '', WHYDENIED_PORT: '', WHYDENIED_HOST: '' } })
  t.teardown(() => { child.kill('SIGKILL') })
  let err = ''
  child.stderr.setEncoding('utf8').on('data', d => { err += d })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.setEncoding('utf8').on('data', d => {
      out += d
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) resolve(m[1]!)
    })
    child.on('exit', code => reject(new Error(`serve exited with ${code}: ${err}`)))
  })
  const res = await fetch(url)
  t.equal(res.status, 200)
  t.match(await res.text(), /<html/i)
  child.kill('SIGTERM')
})
