/**
 * Report benchmark (wired into `npm run bench` by the lead): the all-teams and the one-team report
 * on an already-populated database (1M messages from fixtures/generate.ts). Not a *.test.ts file.
 * Targets (issue 5): all teams < 2 s, one team < 1 s, memory < 400 MB.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { openDatabase } from '../../server/db/connection.js'
import { ReportsRepository } from '../../server/db/repositories/reports.js'
import { buildReport, loadTeamsFile, render, resolvePeriod } from '../../server/reports/index.js'

export interface BenchResult { name: string, ms: number, rssMb: number }

/** fixtures/teams.yaml from the sources (test/bench) or from the build (dist/test/bench). */
function teamsFixture (): string {
  const candidates = [path.resolve(import.meta.dirname, '../../fixtures/teams.yaml'), path.resolve(import.meta.dirname, '../../../fixtures/teams.yaml')]
  return candidates.find(f => existsSync(f)) ?? candidates[0]!
}

/** The generator's default history ends 2026-11-28: report its last 30 days against the 30 before. */
export async function benchReports (dbPath: string): Promise<BenchResult[]> {
  const db = openDatabase(dbPath)
  const out: BenchResult[] = []
  try {
    const repo = new ReportsRepository(db)
    const teams = loadTeamsFile(teamsFixture())
    const period = resolvePeriod('30d', '2026-11-27')
    const run = (name: string, fn: () => unknown): void => {
      const gc = (globalThis as { gc?: () => void }).gc
      gc?.()
      const start = performance.now()
      let peak = process.memoryUsage().rss
      const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 5)
      fn()
      clearInterval(timer)
      peak = Math.max(peak, process.memoryUsage().rss)
      out.push({ name, ms: Math.round(performance.now() - start), rssMb: Math.round(peak / 1048576) })
    }
    run('report: all teams (html)', () => render(buildReport(repo, { period, teams }), 'html'))
    run('report: one team (html)', () => render(buildReport(repo, { period, teams, team: 'platform' }), 'html'))
    run('report: all teams (json, redacted)', () => render(buildReport(repo, { period, teams, redact: true }), 'json'))
  } finally {
    db.close()
  }
  return out
}
