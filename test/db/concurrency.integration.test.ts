/** Imports and searches at the same time: one writer at a time, many readers, no errors (WAL). */
import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { generate } from '../../fixtures/generate.js'
import { buildTestApp, DECODED_FIXTURES, sqlOf, tempDir } from '../helpers/build.js'
import { CLI } from '../helpers/cli.js'
import { nodeChild } from '../helpers/node-child.js'

t.test('a CLI import runs while the server searches and imports', async t => {
  const dir = tempDir(t)
  const file = path.join(dir, 'load.ndjson')
  const N = 20_000
  writeFileSync(file, [...generate(N, { seed: 3 })].join('\n') + '\n')
  const dbPath = path.join(dir, 'shared.db')
  const app = await buildTestApp(t, { dbPath })
  const run = nodeChild([CLI, 'import', '--db', dbPath, '--json', file])
  const child = spawn(run.command, run.args, { env: run.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', d => { out += d })
  const done = new Promise<number | null>(resolve => child.on('close', resolve))
  let finished = false
  void done.then(() => { finished = true })

  const queries = ['', 'condition=aws:Service%3Dec2&action=ec2:*', 'principal=arn:aws:iam::*:role/data-*', 'q=platform', 'sort=occurrences&limit=5']
  const totals: number[] = []
  let requests = 0
  let failures = 0
  const fixture = readFileSync(path.join(DECODED_FIXTURES, 'kms-decrypt.json'), 'utf8')
  let posted = 0
  // eslint-disable-next-line no-unmodified-loop-condition -- set by a promise callback
  while (!finished || requests < 10) {
    const qs = queries[requests % queries.length]!
    const res = await app.inject({ url: `/api/denials?${qs}` })
    requests++
    if (res.statusCode !== 200) failures++
    else if (qs === '') totals.push(res.json().total)
    if (requests % 7 === 0) {
      const imp = await app.inject({ method: 'POST', url: `/api/imports?source=concurrent-${posted++}`, headers: { 'content-type': 'application/json' }, payload: fixture })
      if (imp.statusCode !== 200 || imp.json().imported !== 1) failures++
    }
  }
  t.equal(await done, 0, 'the CLI import succeeded')
  t.same(JSON.parse(out).rejected, [])
  t.equal(JSON.parse(out).imported, N)
  t.equal(failures, 0, `${requests} searches and ${posted} imports, none failed`)
  t.ok(requests > 10)
  t.same(totals, [...totals].sort((a, b) => a - b), 'readers see a growing, consistent total')
  const occ = sqlOf(t, app).prepare('SELECT count(*) FROM occurrences').pluck().get()
  t.equal(occ, N + posted, 'everything from both writers is stored')
})
