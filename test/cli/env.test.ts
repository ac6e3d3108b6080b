/** The environment: one schema, checked before any command runs; its values are the CLI's defaults, and options win. */
import t from 'tap'
import { createServer } from 'node:net'
import path from 'node:path'
import { loadConfig, readEnv } from '../../server/config.js'
import { tempDir, type TapLike } from '../helpers/files.js'
import { CLI, runCli } from '../helpers/cli.js'
import { serveUrl } from '../helpers/server.js'

t.test('readEnv: typed values, empty counts as unset, a bad value is named', async t => {
  t.same(readEnv({ WHYDENIED_PORT: '4000', WHYDENIED_STS_TTL: '600', WHYDENIED_TOKEN: '', PATH: '/bin' }), { WHYDENIED_PORT: 4000, WHYDENIED_STS_TTL: 600 })
  const c = loadConfig({}, { WHYDENIED_HOST: 'localhost', WHYDENIED_PORT: '4000', WHYDENIED_STS_TTL: '0' })
  t.equal(c.host, 'localhost')
  t.equal(c.port, 4000)
  t.equal(c.stsTtlSeconds, null, 'a ttl of 0 never expires, as --ttl 0')
  t.equal(loadConfig({}, { WHYDENIED_STS_TTL: '600' }).stsTtlSeconds, 600)
  for (const [name, value, hint] of [
    ['WHYDENIED_STS_TTL', 'abc', /give whole seconds from 0/],
    ['WHYDENIED_STS_TTL', '1.5', /give whole seconds/],
    ['WHYDENIED_STS_TTL', '-3', /give whole seconds/],
    ['WHYDENIED_PORT', '70000', /give a port number from 0/],
    ['WHYDENIED_PORT', '0x10', /give a port number/],
    ['WHYDENIED_LOG_LEVEL', 'loud', /give one of fatal, error, warn, info/],
    ['WHYDENIED_STS_ENDPOINT', 'ftp://x', /give an http:\/\/ or https:\/\/ URL/]
  ] as const) {
    t.throws(() => loadConfig({}, { [name]: value }), { code: 'WHYDENIED_BAD_ENV', message: new RegExp(`^Environment variable ${name}=${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid: ${hint.source}`) }, `${name}=${value}`)
  }
})

t.test('a bad variable stops the CLI before anything runs, naming it (not the input record)', async t => {
  const dir = tempDir(t)
  const r = await runCli(['mock-sts', 'encode', '--db', path.join(dir, 'a.db'), '-'], { input: '{}', env: { WHYDENIED_STS_TTL: 'abc' } })
  t.equal(r.code, 1)
  t.equal(r.stdout, '')
  t.equal(r.stderr, 'whydenied: Environment variable WHYDENIED_STS_TTL="abc" is not valid: give whole seconds from 0 (never expire) to 315360000\n')
  const s = await runCli(['serve', '--db', path.join(dir, 'b.db')], { env: { WHYDENIED_PORT: 'http' } })
  t.equal(s.code, 1)
  t.match(s.stderr, /^whydenied: Environment variable WHYDENIED_PORT="http" is not valid/)
})

async function freePort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as { port: number }).port
  await new Promise(resolve => srv.close(resolve))
  return port
}

/** Start the built `serve` with this environment and these options; the URL it prints. */
function serve (t: TapLike, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return serveUrl(t, [CLI, 'serve', '--db', path.join(tempDir(t), 's.db'), '--quiet', ...args], { env })
}

t.test('WHYDENIED_PORT and WHYDENIED_HOST are serve\'s defaults; --port and --host win', async t => {
  const port = await freePort()
  const url = await serve(t, [], { WHYDENIED_PORT: String(port), WHYDENIED_HOST: 'localhost' })
  t.equal(url, `http://localhost:${port}/`)
  t.equal((await fetch(new URL('api/denials', url.replace('localhost', '127.0.0.1')))).status, 200)
  const other = await serve(t, ['--port', '0', '--host', '127.0.0.1'], { WHYDENIED_PORT: String(port), WHYDENIED_HOST: 'localhost' })
  t.match(other, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  t.not(other, `http://127.0.0.1:${port}/`)
})

t.test('option checks come from commander: a bad --port or --limit is refused with the reason', async t => {
  const r = await runCli(['serve', '--port', '1e3'])
  t.equal(r.code, 1)
  t.match(r.stderr, /option '--port <port>' argument '1e3' is invalid\. Give a port number from 0/)
  const s = await runCli(['search', '--limit', '501'])
  t.equal(s.code, 1)
  t.match(s.stderr, /option '--limit <n>' argument '501' is invalid\. Give a whole number from 1 to 500/)
  const q = await runCli(['search', '--sort', 'random'])
  t.equal(q.code, 1)
  t.match(q.stderr, /option '--sort <order>' argument 'random' is invalid\. Allowed choices are lastSeen, occurrences/)
  const l = await runCli(['report', '--limit', '-1'])
  t.equal(l.code, 1)
  t.match(l.stderr, /option '--limit <n>' argument '-1' is invalid\. Give a whole number from 0 to 100000/)
})
