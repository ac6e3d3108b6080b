import t from 'tap'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { generate } from '../../fixtures/generate.js'
import { tempDir } from '../helpers/files.js'
import { CLI } from '../helpers/cli.js'
import { spawnServe } from '../helpers/server.js'
import { nodeChild } from '../helpers/node-child.js'

t.test('serve binds 127.0.0.1 by default, prints its URL, and answers there', async t => {
  const { url, child } = await spawnServe(t, [CLI, 'serve', '--db', path.join(tempDir(t), 's.db'), '--port', '0', '--quiet'])
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  const res = await fetch(new URL('api/denials', url))
  t.equal(res.status, 200)
  t.equal(((await res.json()) as { total: number }).total, 0)
  child.kill('SIGTERM')
  const code = await new Promise(resolve => child.on('exit', (c, s) => resolve(c ?? s)))
  t.equal(code, 0, 'SIGTERM closes cleanly')
})

t.test('on a terminal, a long import shows a progress bar with records/s; not when piped', async t => {
  const dir = tempDir(t)
  const file = path.join(dir, 'p.ndjson')
  // 6,000 records in batches of 500: the bar is redrawn as batches are stored, so a line with a
  // count and a rate above zero shows it moving (30,000 records in the default batches took 13 s).
  writeFileSync(file, [...generate(6000, { seed: 5 })].join('\n') + '\n')
  // script(1) gives the child a pseudo-terminal, as an interactive shell would.
  const tty = spawnSync('script', ['-qec', `${process.execPath} ${CLI} import --batch-size 500 --db ${path.join(dir, 'a.db')} ${file}`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '120' } })
  t.equal(tty.status, 0, tty.stderr)
  t.match(tty.stdout, /importing \|.*\| \d+% \| [1-9]\d* records \| [1-9]\d* records\/s/, 'the bar moves: records and a rate above zero')
  t.match(tty.stdout, /imported 6000, duplicates 0, rejected 0/)
  const run = nodeChild([CLI, 'import', '--batch-size', '500', '--db', path.join(dir, 'b.db'), file])
  const piped = spawnSync(run.command, run.args, { env: run.env, encoding: 'utf8' })
  t.notMatch(piped.stderr + piped.stdout, /records\/s/, 'no bar when not on a terminal')
})
