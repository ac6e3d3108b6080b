/** kill -9 in the middle of an import leaves a consistent database; running it again completes it. */
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { generate } from '../../fixtures/generate.js'
import { unpackText } from '../../server/util/packed-text.js'
import { tempDir } from '../helpers/files.js'
import { CLI, runCli } from '../helpers/cli.js'
import { nodeChild } from '../helpers/node-child.js'

const N = 40_000

function consistent (t: Test, dbFile: string): number {
  const db = new Database(dbFile, { readonly: true })
  try {
    t.equal(db.pragma('integrity_check', { simple: true }), 'ok', 'integrity_check')
    t.same(db.pragma('foreign_key_check'), [], 'foreign keys hold')
    const drift = db.prepare(`SELECT count(*) FROM denials d WHERE d.occurrences != (SELECT count(*) FROM occurrences o WHERE o.denial_id = d.id)
      OR d.first_seen != (SELECT min(observed_at) FROM occurrences o WHERE o.denial_id = d.id)`).pluck().get()
    t.equal(drift, 0, 'denial counters agree with their occurrences')
    // No half-stored record: each denial has exactly the condition rows its raw JSON holds.
    let half = 0
    for (const r of db.prepare('SELECT m.packed, (SELECT count(*) FROM conditions c WHERE c.denial_id = d.id) AS n FROM denials d JOIN messages m ON m.denial_id = d.id').iterate() as Iterable<{ packed: Buffer, n: number }>) {
      const m = JSON.parse(unpackText(r.packed)) as { context: { conditions?: { items: Array<{ values: { items: unknown[] } }> } } }
      const expected = (m.context.conditions?.items ?? []).reduce((a, c) => a + c.values.items.length, 0)
      if (expected !== r.n) half++
    }
    t.equal(half, 0, 'every denial has all its conditions')
    t.equal(db.prepare('SELECT count(*) FROM denials d WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.denial_id = d.id)').pluck().get(), 0, 'every denial has its raw JSON')
    const totals = db.prepare('SELECT coalesce(sum(imported), 0) FROM imports').pluck().get()
    const occ = db.prepare('SELECT count(*) FROM occurrences').pluck().get() as number
    t.equal(totals, occ, 'import totals agree with what was stored')
    return occ
  } finally {
    db.close()
  }
}

function stored (dbFile: string): number {
  try {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true })
    try { return db.prepare('SELECT count(*) FROM occurrences').pluck().get() as number } finally { db.close() }
  } catch {
    return 0
  }
}

t.test('kill -9 twice mid-import, then complete it', async t => {
  const dir = tempDir(t)
  const file = path.join(dir, 'big.ndjson')
  writeFileSync(file, [...generate(N, { seed: 7 })].join('\n') + '\n')
  const db = path.join(dir, 'crash.db')
  let before = 0
  for (const round of [1, 2]) {
    const run = nodeChild([CLI, 'import', '--db', db, '--no-progress', '--batch-size', '2000', file])
    const child = spawn(run.command, run.args, { env: run.env, stdio: 'ignore' })
    // Kill it once it has committed something beyond the last round, i.e. truly mid-import.
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline && stored(db) <= before) await sleep(20)
    await sleep(round * 50)
    child.kill('SIGKILL')
    await new Promise(resolve => child.on('close', resolve))
    const occ = consistent(t, db)
    t.ok(occ > before, `after kill ${round}: ${occ} occurrences stored`)
    t.ok(occ < N, 'the kill really interrupted the import')
    before = occ
  }
  const r = await runCli(['import', '--db', db, '--json', file], { timeoutMs: 120_000 })
  t.equal(r.code, 0, r.stderr)
  const s = JSON.parse(r.stdout)
  t.equal(s.duplicates, before, 'what was committed before the kill counts as duplicates')
  t.equal(s.imported + s.duplicates, N, 'every record accounted for')
  t.equal(consistent(t, db), N, 'complete after the re-run')
})
