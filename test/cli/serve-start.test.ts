/** Starting a server as a person does: quiet by default (its URL, no JSON per request), more on request, and a busy port explained. */
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { createServer, type AddressInfo, type Server } from 'node:net'
import path from 'node:path'
import { tempDir } from '../helpers/files.js'
import { CLI, runCli } from '../helpers/cli.js'
import { nodeChild } from '../helpers/node-child.js'

/** A port held by another program for the length of the test. */
async function busyPort (t: Test): Promise<number> {
  const server: Server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  return (server.address() as AddressInfo).port
}

/** Everything a started server printed, from its first line, after a few requests, once it is stopped. */
async function outputOf (t: Test, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ url: string, stdout: string, stderr: string }> {
  const run = nodeChild([CLI, 'serve', '--port', '0', '--db', path.join(tempDir(t), 's.db'), ...args], { ...process.env, WHYDENIED_DB: '', WHYDENIED_HOST: '', WHYDENIED_PORT: '', WHYDENIED_LOG_LEVEL: '', ...env })
  const child = spawn(run.command, run.args, { stdio: ['ignore', 'pipe', 'pipe'], env: run.env })
  t.teardown(() => { child.kill('SIGKILL') })
  let stdout = ''
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', d => { stderr += d })
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', d => {
      stdout += d
      const m = /listening on (http:\/\/\S+)/.exec(stdout)
      if (m) resolve(m[1]!)
    })
    child.once('exit', code => reject(new Error(`serve exited with ${code}: ${stderr}`)))
  })
  for (const p of ['', 'denials', 'api/denials', 'nope']) await (await fetch(url + p)).arrayBuffer()
  await new Promise(resolve => setTimeout(resolve, 300))
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
  return { url, stdout, stderr }
}

t.test('a busy port says it is taken and how to choose another', async t => {
  const port = await busyPort(t)
  const db = path.join(tempDir(t), 's.db')
  const hint = `whydenied: port ${port} on 127.0.0.1 is taken: another whydenied, or another program, is listening there. Choose another port with --port N (or WHYDENIED_PORT), or --port 0 to pick a free one\n`
  const flag = await runCli(['serve', '--db', db, '--port', String(port)])
  t.equal(flag.code, 1)
  t.equal(flag.stderr, hint)
  t.equal(flag.stdout, '')
  const env = await runCli(['serve', '--db', db], { env: { WHYDENIED_PORT: String(port) } })
  t.equal(env.code, 1)
  t.equal(env.stderr, hint, 'the same through WHYDENIED_PORT')
  const mock = await runCli(['mock-sts', '--db', db, '--port', String(port)])
  t.equal(mock.code, 1)
  t.equal(mock.stderr, `whydenied: port ${port} on 127.0.0.1 is taken: another whydenied, or another program, is listening there. Choose another port with --port N, or --port 0 to pick a free one\n`)
})

t.test('serve is quiet by default: its URL and the mock STS endpoint, no log line per request', async t => {
  const { url, stdout, stderr } = await outputOf(t, [])
  t.equal(stdout, `whydenied listening on ${url}\nmock STS endpoint: ${url}sts\n`)
  t.equal(stderr, '')
})

t.test('--log-level info, or WHYDENIED_LOG_LEVEL=info, logs every request as before', async t => {
  for (const [args, env] of [[['--log-level', 'info'], {}], [[], { WHYDENIED_LOG_LEVEL: 'info' }]] as Array<[string[], NodeJS.ProcessEnv]>) {
    const { stdout } = await outputOf(t, args, env)
    const logs = stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as { msg?: string, req?: { url?: string } })
    t.ok(logs.some(l => l.req?.url === '/api/denials'), `${args.join(' ')}${JSON.stringify(env)}: a request is logged`)
  }
  const flagWins = await outputOf(t, ['--log-level', 'warn'], { WHYDENIED_LOG_LEVEL: 'info' })
  t.notMatch(flagWins.stdout, /"req"/, 'the option wins over the environment')
  const bad = await runCli(['serve', '--log-level', 'loud'])
  t.equal(bad.code, 1)
  t.match(bad.stderr, /Allowed choices are fatal, error, warn, info, debug, trace, silent/)
})
