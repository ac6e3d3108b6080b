/** Benchmark child: import one NDJSON file the way `whydenied import` does (same options), then report time and peak RSS. */
import { readFileRecords } from '../../server/authz/ingest.js'
import { openDatabase } from '../../server/db/connection.js'
import { makeRepositories } from '../../server/plugins/db.js'

const [dbPath, file] = process.argv.slice(2)
if (!dbPath || !file) throw new Error('usage: import-worker DB FILE')
const db = openDatabase(dbPath)
const { importer } = makeRepositories(db)
const started = process.hrtime.bigint()
const s = await importer.run(readFileRecords(file), { collectGarbage: true })
const ms = Number(process.hrtime.bigint() - started) / 1e6
db.close()
process.stdout.write(JSON.stringify({ imported: s.imported, duplicates: s.duplicates, rejected: s.rejected.length, ms, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n')
