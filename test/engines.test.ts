/**
 * Node versions: package.json's engines admits Node 20, 22 and 24, and every package the lock file
 * installs admits the lowest version of each of those ranges, so `npm install` prints no EBADENGINE and
 * `npm ci --engine-strict` passes (issue 13 §12, §13).
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import semver from 'semver'
import { ROOT } from './helpers/files.js'

interface LockEntry { version?: string, engines?: Record<string, string> | string[], dev?: boolean }
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }, overrides?: Record<string, string> }
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }
const range = pkg.engines.node

/** The lowest version of each range of engines.node ("^20.19 || ^22.13 || >=24" → 20.19.0, 22.13.0, 24.0.0). */
const lowest = range.split('||').map(r => semver.minVersion(r.trim())!.version)

t.test('engines.node admits Node 20, 22 and 24 (and this Node), and not 18, 21 or 23', async t => {
  t.same(lowest.map(v => semver.major(v)), [20, 22, 24])
  for (const v of ['20.20.2', '22.22.0', '24.22.3', '25.0.0', process.versions.node]) t.ok(semver.satisfies(v, range), `${v} is admitted`)
  for (const v of ['18.20.0', '20.10.0', '21.7.0', '23.11.0']) t.notOk(semver.satisfies(v, range), `${v} is not`)
})

t.test('every package the lock installs admits the lowest Node of each range', async t => {
  let checked = 0
  for (const [where, entry] of Object.entries(lock.packages)) {
    const node = Array.isArray(entry.engines) ? undefined : entry.engines?.node
    if (where === '' || node === undefined) continue
    checked++
    for (const v of lowest) t.ok(semver.satisfies(v, node), `${where.replace(/^.*node_modules\//, '')}@${entry.version} engines.node "${node}" admits ${v}`)
  }
  t.ok(checked > 50, `${checked} packages declare engines.node`)
})

t.test('cookie: Fastify\'s cookie@2 needs Node 22; the override pins cookie 1.1.1, whose API (parseCookie, stringifySetCookie) @fastify/cookie and light-my-request use', async t => {
  t.equal(pkg.overrides?.cookie, '1.1.1')
  const cookies = Object.entries(lock.packages).filter(([where]) => /(^|\/)node_modules\/cookie$/.test(where))
  t.ok(cookies.length > 0)
  for (const [where, entry] of cookies) t.equal(entry.version, '1.1.1', where)
  // What is installed is what the lock says, and it works for both users.
  const installed = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', '@fastify', 'cookie', 'node_modules', 'cookie', 'package.json'), 'utf8')) as { version: string }
  t.equal(installed.version, '1.1.1')
  const { parseCookie, stringifySetCookie } = createRequire(path.join(ROOT, 'node_modules', '@fastify', 'cookie', 'index.js'))('cookie') as { parseCookie: (s: string) => Record<string, string>, stringifySetCookie: (c: { name: string, value: string }) => string }
  t.same({ ...parseCookie('a=1; b=x%20y') }, { a: '1', b: 'x y' })
  t.equal(stringifySetCookie({ name: 'a', value: 'x y' }), 'a=x%20y')
})
