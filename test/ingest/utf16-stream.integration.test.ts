/**
 * UTF-16 input is transcoded as it streams: a 300 MB UTF-16 NDJSON file imports through the built CLI
 * with memory bounded by the largest line, not the file (it used to be decoded whole: 1.1 GB peak).
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs'
import path from 'node:path'
import { DECODED_FIXTURES, ROOT, tempDir } from '../helpers/files.js'
import { CLI } from '../helpers/cli.js'
import { nodeChild } from '../helpers/node-child.js'

const LINES = 150
const LINE_CHARS = 1_000_000 // 2 MB of UTF-16 per line, 1 MB as UTF-8: just under the record limit

/** Runs the CLI in a child that reports its own peak RSS (kB) on exit. */
const RUNNER = `
import { pathToFileURL } from 'node:url'
process.on('exit', () => { process.stderr.write('maxRSS ' + process.resourceUsage().maxRSS + '\\n') })
const [cli, ...args] = process.argv.slice(1)
process.argv = [process.argv[0], cli, ...args]
await import(pathToFileURL(cli).href)
`

t.test('a 300 MB UTF-16LE NDJSON file imports with peak RSS far below its size', async t => {
  const dir = tempDir(t)
  const file = path.join(dir, 'powershell.ndjson')
  const record = JSON.stringify(JSON.parse(readFileSync(path.join(DECODED_FIXTURES, 'seed-passrole.json'), 'utf8')))
  // Each line: a record padded with spaces (JSON allows trailing white space), in UTF-16LE with a BOM,
  // as Windows PowerShell's `>` writes it.
  const line = Buffer.from(record + ' '.repeat(LINE_CHARS - record.length - 2) + '\r\n', 'utf16le')
  const fd = openSync(file, 'w')
  writeSync(fd, Buffer.from([0xff, 0xfe]))
  for (let i = 0; i < LINES; i++) writeSync(fd, line)
  closeSync(fd)

  const { code, stdout, stderr } = await new Promise<{ code: number | null, stdout: string, stderr: string }>((resolve, reject) => {
    const run = nodeChild(['--input-type=module', '-e', RUNNER, CLI, 'import', '--json', '--no-progress', '--db', path.join(dir, 'w.db'), file], { ...process.env, WHYDENIED_DB: '' })
    const child = spawn(run.command, run.args, { cwd: ROOT, env: run.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', d => { out += d })
    child.stderr.setEncoding('utf8').on('data', d => { err += d })
    child.on('error', reject)
    child.on('close', c => resolve({ code: c, stdout: out, stderr: err }))
  })
  t.equal(code, 0, stderr)
  t.same(JSON.parse(stdout), { imported: LINES, duplicates: 0, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} }, 'every line stored')
  const peakMb = Number(/maxRSS (\d+)/.exec(stderr)![1]) / 1024
  t.comment(`peak RSS ${peakMb.toFixed(0)} MB for a ${(LINES * line.length / 1e6).toFixed(0)} MB file`)
  // Measured: ~180 MB now; 1,090 MB when the whole input was decoded at once.
  t.ok(peakMb < 400, `peak RSS ${peakMb.toFixed(0)} MB < 400 MB`)
})
