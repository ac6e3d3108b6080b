/**
 * Benchmark child: import one NDJSON file the way `whydenied import` does (same options), then report
 * time, peak RSS and the database's size. With WHYDENIED_BENCH_CURVE=N it also writes to stderr, every
 * N records, the rate over those N, the rate so far, RSS and the database's size: where a long import
 * slows down (README, the 10M run).
 */
import { statSync } from 'node:fs'
import { readFileRecords } from '../../server/ingest/index.js'
import { openDatabase } from '../../server/db/connection.js'
import { openStore } from '../../server/db/index.js'
import { CLI_IMPORT_OPTIONS, Importer } from '../../server/services/importer.js'
import { threadCpuMs } from './thread-cpu.js'

const [dbPath, file] = process.argv.slice(2)
if (!dbPath || !file) throw new Error('usage: import-worker DB FILE')
const store = openStore(dbPath)
const importer = new Importer(store.repos.writer, store.repos.imports)
const started = process.hrtime.bigint()
const curveEvery = Number(process.env.WHYDENIED_BENCH_CURVE ?? 0)
let nextPoint = curveEvery
let last = { records: 0, at: started }
const curve = (done: { records: number }): void => {
  if (curveEvery <= 0 || done.records < nextPoint) return
  nextPoint += curveEvery
  const now = process.hrtime.bigint()
  const rate = (n: number, since: bigint): number => Math.round(n / (Number(now - since) / 1e9))
  const mb = (b: number): number => Math.round(b / 1e6)
  process.stderr.write(`curve: ${done.records} records, ${(Number(now - started) / 1e9).toFixed(0)} s, ${rate(done.records - last.records, last.at)} msg/s over the last ${done.records - last.records}, ${rate(done.records, started)} msg/s so far, RSS ${mb(process.memoryUsage.rss())} MB, database ${mb(statSync(dbPath).size)} MB\n`)
  last = { records: done.records, at: now }
}
const s = await importer.run(readFileRecords(file), { ...CLI_IMPORT_OPTIONS, onProgress: curve })
// The main thread's CPU (it writes SQLite: the bottleneck) before the parse worker ends and its thread goes.
const threads = threadCpuMs()
store.close()
// Closing the last connection checkpoints the WAL into the file: that is part of the import.
const ms = Number(process.hrtime.bigint() - started) / 1e6
const usage = process.resourceUsage()
const maxRssMb = usage.maxRSS / 1024
// CPU time (both threads) varies far less than elapsed time on a shared machine.
const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000
const db = openDatabase(dbPath, { readonly: true })
const denials = db.prepare('SELECT count(*) FROM denials').pluck().get() as number
db.close()
process.stdout.write(JSON.stringify({ imported: s.imported, duplicates: s.duplicates, rejected: s.rejectedCount, ms, cpuMs, maxRssMb, mainCpuMs: threads.main, threads, denials, dbBytes: statSync(dbPath).size }) + '\n')
