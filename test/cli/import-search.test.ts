import t from 'tap'
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { DECODED_FIXTURES, tempDir } from '../helpers/files.js'
import { CLI, runCli } from '../helpers/cli.js'
import { nodeChild } from '../helpers/node-child.js'
import { spawn } from 'node:child_process'
import { generate } from '../../fixtures/generate.js'

t.test('import a directory, then again: all duplicates; --json shape; exit codes', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'w.db')
  let r = await runCli(['import', '--db', db, '--json', DECODED_FIXTURES])
  t.equal(r.code, 0, r.stderr)
  t.same(JSON.parse(r.stdout), { imported: 9, duplicates: 0, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} })
  r = await runCli(['import', '--db', db, '--json', DECODED_FIXTURES])
  t.same(JSON.parse(r.stdout), { imported: 0, duplicates: 9, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} })
  t.equal(r.code, 0)

  const mixed = path.join(dir, 'mixed.ndjson')
  const bare = JSON.parse(readFileSync(path.join(DECODED_FIXTURES, 'kms-decrypt.json'), 'utf8')).DecodedMessage
  writeFileSync(mixed, `${bare}\n{"DecodedMessage": "{\\"allowed\\": (...)"}\n`)
  r = await runCli(['import', '--db', db, '--json', mixed])
  t.equal(r.code, 2, 'some rejected: exit 2')
  const s = JSON.parse(r.stdout)
  t.same(Object.keys(s), ['imported', 'duplicates', 'skipped', 'rejected', 'rejectedCount', 'rejectedReasons'])
  t.equal(s.rejectedCount, 1)
  t.same(s.rejected, [{ source: mixed, line: 2, reason: 'DecodedMessage has been elided ("..." or "(...)"): copy the complete message, not a shortened one from a web page (field DecodedMessage)' }])

  r = await runCli(['import', '--db', db, path.join(dir, 'missing.json')])
  t.equal(r.code, 1, 'nothing could be done: exit 1')
  t.match(r.stdout, /rejected .*missing\.json: no such file or directory/)
  const empty = path.join(dir, 'empty.json')
  writeFileSync(empty, '')
  r = await runCli(['import', '--db', db, '--json', empty])
  t.equal(r.code, 1)
  t.same(JSON.parse(r.stdout).rejected, [{ source: empty, line: 1, reason: 'the input is empty' }])
  r = await runCli(['import', '--db', db, '--batch-size', '0', mixed])
  t.equal(r.code, 1)
  t.match(r.stderr, /option '--batch-size <n>' argument '0' is invalid\. Give a whole number of records, at least 1/)
  r = await runCli(['import', '--db', db])
  t.equal(r.code, 1, 'no path: usage error')
  t.match(r.stderr, /missing required argument/)
})

t.test('stdin with --source, and a readable summary', async t => {
  const db = path.join(tempDir(t), 'w.db')
  const input = readFileSync(path.join(DECODED_FIXTURES, 'seed-passrole.json'))
  let r = await runCli(['import', '--db', db, '--source', 'ticket-1', '-'], { input })
  t.equal(r.code, 0)
  t.match(r.stdout, /^imported 1, duplicates 0, rejected 0/)
  r = await runCli(['import', '--db', db, '--source', 'ticket-1', '-'], { input })
  t.match(r.stdout, /^imported 0, duplicates 1, rejected 0/)
  r = await runCli(['search', '--db', db, '--json', '--action', 'iam:PassRole'])
  const id = JSON.parse(r.stdout).items[0].id
  t.ok(id)
})

t.test('search: filters, the same JSON as the API, a table, errors', async t => {
  const db = path.join(tempDir(t), 'w.db')
  await runCli(['import', '--db', db, DECODED_FIXTURES])
  let r = await runCli(['search', '--db', db, '--json', '--condition', 'aws:Region=us-east-2', '--action', 'iam:PassRole'])
  t.equal(r.code, 0)
  const j = JSON.parse(r.stdout)
  t.equal(j.total, 1)
  t.same(Object.keys(j).sort(), ['facets', 'items', 'nextCursor', 'total'])
  t.equal(j.items[0].principalArn, 'arn:aws:iam::111122223333:user/test-user')
  r = await runCli(['search', '--db', db, '--principal', 'arn:aws:iam::*:role/platform-*', '--condition', 'aws:Service'])
  t.equal(r.code, 0)
  const lines = r.stdout.trim().split('\n')
  t.match(lines[0], /^ID\s+DECISION\s+ACTION\s+PRINCIPAL\s+RESOURCE\s+OCC\s+LAST SEEN$/)
  t.equal(lines.length, 4)
  t.match(lines[3], /^2 of 2 denials$/)
  r = await runCli(['search', '--db', db, '--json', '--limit', '3', '--decision', 'implicit-deny', '--q', 'ARN:AWS', '--since', '1d', '--service', 'ec2', '--account', '111122223333', '--resource', 'arn:aws:ec2:*'])
  t.equal(JSON.parse(r.stdout).total, 2)
  r = await runCli(['search', '--db', db, '--limit', '2'])
  t.match(r.stdout, /2 of 9 denials \(next page: --cursor \S+\)/)
  r = await runCli(['search', '--db', db, '--decision', 'nope'])
  t.equal(r.code, 1)
  t.match(r.stderr, /option '--decision <decision>' argument 'nope' is invalid\. Allowed choices are explicit-deny, implicit-deny, allowed/)
  r = await runCli(['search', '--db', db, '--since', 'whenever'])
  t.equal(r.code, 1)
  t.match(r.stderr, /since: "whenever" is not a date/)
})

t.test('--db defaults: $WHYDENIED_DB, else ./data/whydenied.db created on first use', async t => {
  const dir = tempDir(t)
  const fixture = path.join(dir, 'f.json')
  copyFileSync(path.join(DECODED_FIXTURES, 'kms-decrypt.json'), fixture)
  let r = await runCli(['import', fixture], { cwd: dir })
  t.equal(r.code, 0, r.stderr)
  t.ok(existsSync(path.join(dir, 'data', 'whydenied.db')))
  mkdirSync(path.join(dir, 'other'))
  r = await runCli(['import', '--json', fixture], { cwd: dir, env: { WHYDENIED_DB: path.join(dir, 'other', 'env.db') } })
  t.same(JSON.parse(r.stdout), { imported: 1, duplicates: 0, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} }, 'a fresh database from the environment')
  t.ok(existsSync(path.join(dir, 'other', 'env.db')))
})

t.test('every command has --help that names --db (a command group: each of its commands)', async t => {
  const commandsIn = (help: string): string[] => {
    const list = help.split(/^Commands:$/m)[1] ?? ''
    return [...list.matchAll(/^ {2}([a-z-]+) /gm)].map(m => m[1]!).filter(n => n !== 'help')
  }
  const names = commandsIn((await runCli(['--help'])).stdout)
  t.ok(names.includes('serve') && names.includes('import') && names.includes('search') && names.includes('policies'))
  for (const name of names) {
    const h = await runCli([name, '--help'])
    t.equal(h.code, 0, `${name} --help`)
    const sub = commandsIn(h.stdout)
    if (!h.stdout.includes('--db <file>') && sub.length > 0) {
      for (const s of sub) {
        const hs = await runCli([name, s, '--help'])
        t.match(hs.stdout, /--db <file>/, `${name} ${s} takes --db`)
      }
    } else {
      t.match(h.stdout, /--db <file>/, `${name} takes --db`)
    }
  }
})

t.test('a newer database is refused with a clear message', async t => {
  const db = path.join(tempDir(t), 'w.db')
  await runCli(['import', '--db', db, path.join(DECODED_FIXTURES, 'kms-decrypt.json')])
  const Database = (await import('better-sqlite3')).default
  const h = new Database(db)
  h.pragma('user_version = 999')
  h.close()
  const r = await runCli(['search', '--db', db])
  t.equal(r.code, 1)
  t.match(r.stderr, /schema version 999, newer than this whydenied understands/)
  t.equal(readdirSync(path.dirname(db)).filter(f => f.endsWith('.db')).length, 1)
})

t.test('search piped into a reader that stops early (search | head) exits quietly', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'w.db')
  const input = path.join(dir, 'many.ndjson')
  writeFileSync(input, [...generate(1500, { seed: 71, mode: 'distinct', end: '2026-11-20T00:00:00Z', days: 10 })].join('\n'))
  t.equal((await runCli(['import', '--db', db, input])).code, 0)
  const args = ['search', '--db', db, '--format', 'tsv', '--limit', '500']
  const whole = await runCli(args)
  t.ok(whole.stdout.length > 64 * 1024, `a page of output to write (${whole.stdout.length} bytes)`)
  const run = nodeChild([CLI, ...args], { ...process.env, WHYDENIED_DB: '' })
  const child = spawn(run.command, run.args, { env: run.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', d => { stderr += d })
  // The reader goes away before the output is written, as head does once it has its lines.
  child.stdout.destroy()
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  t.equal(code, 0, 'exit 0')
  t.equal(stderr, '', 'no EPIPE stack trace')
})
