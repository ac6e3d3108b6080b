/** One filter schema: `whydenied search` options get the bounds of GET /api/denials, with the option named. */
import t from 'tap'
import path from 'node:path'
import { buildTestApp, DECODED_FIXTURES, tempDir } from '../helpers/build.js'
import { runCli } from '../helpers/cli.js'

t.test('a filter over the API\'s bounds is refused by the CLI and by the API alike', async t => {
  const db = path.join(tempDir(t), 'f.db')
  const long = 'a'.repeat(513)
  const cli = await runCli(['search', '--db', db, '--action', long])
  t.equal(cli.code, 1)
  t.match(cli.stderr, /^whydenied: --action: is longer than 512 characters/)
  const many = await runCli(['search', '--db', db, ...Array.from({ length: 21 }, (_, i) => ['--condition', `k${i}`]).flat()])
  t.equal(many.code, 1)
  t.match(many.stderr, /^whydenied: --condition: lists more than 20 entries/)
  // search reads an existing database only: import creates it.
  t.equal((await runCli(['import', '--db', db, path.join(DECODED_FIXTURES, 'kms-decrypt.json')])).code, 0)
  const ok = await runCli(['search', '--db', db, '--action', 'a'.repeat(512), '--json'])
  t.equal(ok.code, 0, ok.stderr)
  t.equal(JSON.parse(ok.stdout).total, 0)

  const app = await buildTestApp(t)
  t.equal((await app.inject({ url: `/api/denials?action=${long}` })).statusCode, 400)
  t.equal((await app.inject({ url: `/api/denials?action=${'a'.repeat(512)}` })).statusCode, 200)
})
