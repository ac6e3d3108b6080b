/** `whydenied import` refuses what is not a regular file (it used to read /dev/zero forever) and follows symbolic links in directories. */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { DECODED_FIXTURES, tempDir } from '../helpers/files.js'
import { runCli } from '../helpers/cli.js'

t.test('a device or FIFO given as an argument is refused at once, with the path and what it is', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'w.db')
  const fifo = path.join(dir, 'pipe.json')
  execFileSync('mkfifo', [fifo])
  const started = Date.now()
  const r = await runCli(['import', '--db', db, '/dev/zero', fifo], { timeoutMs: 20_000 })
  t.ok(Date.now() - started < 15_000, 'it ends (no reading forever, no waiting for a writer)')
  t.equal(r.code, 1, r.stderr)
  t.equal(r.stdout.replace(/\(\d+\.\d s\)/, '(T)'), [
    'imported 0, duplicates 0, rejected 2 (T)',
    '  rejected /dev/zero: a character device, not a regular file or directory: not read',
    `  rejected ${fifo}: a FIFO (named pipe), not a regular file or directory: not read`,
    ''
  ].join('\n'))
})

t.test('in a directory: a FIFO is refused, the other files imported; linked files are followed, loops refused', async t => {
  const root = tempDir(t)
  const dir = path.join(root, 'denials')
  const archive = path.join(root, 'archive')
  mkdirSync(dir)
  mkdirSync(archive)
  copyFileSync(path.join(DECODED_FIXTURES, 'seed-passrole.json'), path.join(dir, 'seed.json'))
  copyFileSync(path.join(DECODED_FIXTURES, 'kms-decrypt.json'), path.join(archive, 'kms.json'))
  symlinkSync(path.join(archive, 'kms.json'), path.join(dir, 'kms.json'))
  symlinkSync('.', path.join(dir, 'self'))
  execFileSync('mkfifo', [path.join(dir, 'live.ndjson')])
  const r = await runCli(['import', '--db', path.join(root, 'w.db'), '--json', dir], { timeoutMs: 20_000 })
  t.equal(r.code, 2, r.stderr)
  const s = JSON.parse(r.stdout)
  t.equal(s.imported, 2, 'seed.json and the linked kms.json')
  t.same(s.rejected.map((x: { source: string, reason: string }) => [path.relative(dir, x.source), x.reason]), [
    ['live.ndjson', 'a FIFO (named pipe), not a regular file: not read'],
    ['self', `a symbolic link loop (it leads back to ${execFileSync('realpath', [dir]).toString().trim()}): not followed`]
  ])
})
