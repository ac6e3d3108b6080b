/** Benchmark child: import one NDJSON file the way `whydenied import` does (same options), then report time and peak RSS. */
import { readFileRecords } from '../../server/ingest/index.js'
import { openStore } from '../../server/db/index.js'
import { Importer } from '../../server/services/importer.js'

const [dbPath, file] = process.argv.slice(2)
if (!dbPath || !file) throw new Error('usage: import-worker DB FILE')
const store = openStore(dbPath)
const importer = new Importer(store.repos.writer, store.repos.imports)
const started = process.hrtime.bigint()
const s = await importer.run(readFileRecords(file), { collectGarbage: true })
const ms = Number(process.hrtime.bigint() - started) / 1e6
store.close()
process.stdout.write(JSON.stringify({ imported: s.imported, duplicates: s.duplicates, rejected: s.rejected.length, ms, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n')
