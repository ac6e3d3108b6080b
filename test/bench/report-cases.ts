/**
 * The report cases alone, on a populated database (a copy: opening it migrates it), before and after
 * in one process: each case built from memory (the server's path) and from SQL (the CLI's), back to
 * back, several rounds; medians and p95. Also checks that both paths give the same report.
 *
 *   npm run build && node dist/test/bench/report-cases.js DB [UNTIL=YYYY-MM-DD] [ROUNDS=7]
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { buildApp } from '../../server/app.js'
import { loadConfig } from '../../server/config.js'
import { openDatabase } from '../../server/db/connection.js'
import { openStore } from '../../server/db/index.js'
import { ReportsRepository } from '../../server/db/repositories/reports.js'
import { buildReport, loadTeamsFile, render, resolvePeriod } from '../../server/reports/index.js'

const [dbPath, until = '2026-11-30', roundsArg = '7'] = process.argv.slice(2)
if (!dbPath) throw new Error('usage: report-cases DB [UNTIL] [ROUNDS]')
const rounds = Number(roundsArg)
const teamsFile = [path.resolve(import.meta.dirname, '../../fixtures/teams.yaml'), path.resolve(import.meta.dirname, '../../../fixtures/teams.yaml')].find(f => existsSync(f))!
const teams = loadTeamsFile(teamsFile)
const period = resolvePeriod('30d', until)
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const p95 = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]! }
const time = (f: () => unknown): number => { const t = performance.now(); f(); return performance.now() - t }
const say = (s: string): void => { process.stderr.write(s + '\n') }
const NOW = new Date('2026-12-01T00:00:00Z')

let t = performance.now()
const store = openStore(dbPath, { facetColumns: true })
say(`open (and migrate): ${(performance.now() - t).toFixed(0)} ms`)
const memoryRepo = store.repos.reports
t = performance.now()
await store.repos.search.warm()
say(`warm facet columns (with signatures): ${(performance.now() - t).toFixed(0)} ms, RSS ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`)
t = performance.now()
await memoryRepo.warm()
say(`warm occurrence times: ${(performance.now() - t).toFixed(0)} ms, RSS ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`)
// The CLI's repository: no memory, the SQL path (a second connection to the same file).
const sqlDb = openDatabase(dbPath, { readonly: true })
const sqlRepo = new ReportsRepository(sqlDb)

const cases = [
  { name: 'one team (platform), json', team: 'platform', format: 'json' as const },
  { name: 'one team (platform), html', team: 'platform', format: 'html' as const },
  { name: 'all teams, html', team: null, format: 'html' as const }
]
const results: Record<string, { memory: number[], sql: number[] }> = {}
for (const c of cases) {
  const build = (repo: ReportsRepository): string => render(buildReport(repo, { period, teams, team: c.team, now: NOW }), c.format)
  const a = build(memoryRepo)
  const b = build(sqlRepo)
  say(`${c.name}: memory and SQL give ${a === b ? 'the same report' : 'DIFFERENT REPORTS'} (${a.length} chars)`)
  if (a !== b) process.exitCode = 1
  const r = results[c.name] = { memory: [] as number[], sql: [] as number[] }
  for (let i = 0; i < rounds; i++) {
    r.memory.push(time(() => build(memoryRepo)))
    r.sql.push(time(() => build(sqlRepo)))
  }
  say(`${c.name}: memory median ${median(r.memory).toFixed(0)} ms (p95 ${p95(r.memory).toFixed(0)}), SQL median ${median(r.sql).toFixed(0)} ms (p95 ${p95(r.sql).toFixed(0)})`)
}
store.close()
sqlDb.close()

// Through the app, as the pages bench measures them (warm: one request first).
const app = await buildApp(loadConfig({ dbPath, teamsFile, logLevel: 'silent' }, {}))
await app.ready()
await app.repos.search.warm()
await app.repos.reports.warm()
const q = `team=platform&since=30d&until=${until}`
for (const [name, url] of [['reports page, one team', `/reports?${q}`], ['API report, one team', `/api/reports?${q}`], ['full team report (HTML download)', `/reports/download?${q}&format=html`]] as const) {
  const times: number[] = []
  for (let i = 0; i <= Math.max(rounds, 20); i++) {
    const t0 = performance.now()
    const res = await app.inject({ url })
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode}`)
    if (i > 0) times.push(performance.now() - t0)
  }
  say(`${name}: median ${median(times).toFixed(0)} ms, p95 ${p95(times).toFixed(0)} ms`)
}
await app.close()
