/** Benchmark child: import one NDJSON file the way `whydenied import` does (same options), then report time, peak RSS and the database's size. */
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
const s = await importer.run(readFileRecords(file), { ...CLI_IMPORT_OPTIONS })
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
