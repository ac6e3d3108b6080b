/** Several processes opening one brand-new database file at the same moment: all succeed, schema complete. */
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { openDatabase } from '../../server/db/connection.js'
import { SCHEMA_VERSION } from '../../server/db/migrate.js'
import { tempDir } from '../helpers/files.js'

const CHILD = path.join(import.meta.dirname, 'open-child.ts')
const ROUNDS = 10
const PROCESSES = 5

interface Started { child: ChildProcess, ready: Promise<void>, result: Promise<{ code: number | null, out: string, err: string }> }

function start (file: string): Started {
  // Really separate processes, each with its own better-sqlite3 connection (not threads of one process).
  // Coverage off in the child (@tapjs/processinfo): tsx's transpiled functions would be counted twice.
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' } })
  let out = ''
  let err = ''
  let signalReady: () => void
  const ready = new Promise<void>(resolve => { signalReady = resolve })
  child.stdout!.setEncoding('utf8').on('data', d => {
    out += d
    if (out.startsWith('ready\n')) signalReady()
  })
  child.stderr!.setEncoding('utf8').on('data', d => { err += d })
  const result = new Promise<{ code: number | null, out: string, err: string }>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('error', reject)
    child.on('close', code => { clearTimeout(timer); signalReady(); resolve({ code, out, err }) })
  })
  return { child, ready, result }
}

t.test(`${ROUNDS} rounds of ${PROCESSES} processes opening the same new database at once`, async t => {
  const dir = tempDir(t)
  const failures: string[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const file = path.join(dir, `round-${round}.db`)
    const children = Array.from({ length: PROCESSES }, () => start(file))
    await Promise.all(children.map(c => c.ready))
    for (const c of children) c.child.stdin!.end('go\n')
    const results = await Promise.all(children.map(c => c.result))
    results.forEach((r, i) => {
      if (r.code !== 0) failures.push(`round ${round} process ${i}: exit ${r.code} ${r.out.split('\n')[1] ?? ''} ${r.err.trim()}`)
    })
    const db = new Database(file, { readonly: true })
    t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION, `round ${round}: schema at the latest version`)
    t.equal(db.pragma('journal_mode', { simple: true }), 'wal', `round ${round}: WAL mode`)
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()
    for (const name of ['denials', 'messages', 'occurrences', 'imports', 'strings_fts']) {
      if (!tables.includes(name)) failures.push(`round ${round}: table ${name} missing`)
    }
    db.close()
  }
  t.same(failures, [], 'every process opened and migrated the database, every round')
})

t.test('switching a new file to WAL waits while another connection holds the write lock', async t => {
  // Deterministic form of the race above: SQLite refuses the WAL switch at once with SQLITE_BUSY (no busy
  // handler on a read-to-write upgrade), so openDatabase must retry rather than fail.
  const file = path.join(tempDir(t), 'locked.db')
  const holder = new Worker(`
    const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))})
    const { parentPort, workerData } = require('node:worker_threads')
    const db = new Database(workerData)
    db.exec('BEGIN IMMEDIATE')
    parentPort.postMessage('locked')
    setTimeout(() => { db.exec('COMMIT'); db.close(); parentPort.postMessage('released') }, 500)
  `, { eval: true, workerData: file })
  t.teardown(() => holder.terminate())
  await new Promise(resolve => holder.once('message', resolve))
  const started = Date.now()
  const db = openDatabase(file)
  t.teardown(() => db.close())
  t.ok(Date.now() - started >= 300, 'waited for the lock to be released')
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION)
})
