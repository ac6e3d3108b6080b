/**
 * Report benchmark (part of `npm run bench`): the all-teams and the one-team report on an
 * already-populated database (the pages database of run.ts). Not a *.test.ts file.
 * Targets (issue 5): all teams < 2 s, one team < 1 s, memory < 400 MB.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { openDatabase } from '../../server/db/connection.js'
import { ReportsRepository } from '../../server/db/repositories/reports.js'
import { REPORT_CACHE_KIB } from '../../server/cli/report.js'
import { buildReport, loadTeamsFile, render, resolvePeriod } from '../../server/reports/index.js'

export interface BenchResult { name: string, ms: number, rssMb: number }

/** fixtures/teams.yaml from the sources (test/bench) or from the build (dist/test/bench). */
function teamsFixture (): string {
  const candidates = [path.resolve(import.meta.dirname, '../../fixtures/teams.yaml'), path.resolve(import.meta.dirname, '../../../fixtures/teams.yaml')]
  return candidates.find(f => existsSync(f)) ?? candidates[0]!
}

const VARIANTS = {
  'report: all teams (html)': { team: undefined, redact: false, format: 'html' },
  'report: one team (html)': { team: 'platform', redact: false, format: 'html' },
  'report: all teams (json, redacted)': { team: undefined, redact: true, format: 'json' }
} as const
type Variant = keyof typeof VARIANTS

/**
 * Each report is built in a fresh process, as `whydenied report` is, so its time and peak RSS
 * (getrusage maxRSS, sampled by the kernel, not by a timer) are its own.
 */
export async function benchReports (dbPath: string, until = '2026-11-27'): Promise<BenchResult[]> {
  const out: BenchResult[] = []
  for (const name of Object.keys(VARIANTS) as Variant[]) {
    const r = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), dbPath, name, until], { encoding: 'utf8' })) as { ms: number, rssMb: number }
    out.push({ name, ...r })
  }
  return out
}

/** Report the last 30 days up to `until` (the end of the generated history) against the 30 before. */
function runOne (dbPath: string, name: Variant, until: string): { ms: number, rssMb: number } {
  const v = VARIANTS[name]
  const start = performance.now()
  // As `whydenied report` opens it.
  const db = openDatabase(dbPath, { cacheKiB: REPORT_CACHE_KIB })
  try {
    const repo = new ReportsRepository(db)
    const teams = loadTeamsFile(teamsFixture())
    const period = resolvePeriod('30d', until)
    render(buildReport(repo, { period, teams, team: v.team, redact: v.redact }), v.format)
  } finally {
    db.close()
  }
  return { ms: Math.round(performance.now() - start), rssMb: Math.round(process.resourceUsage().maxRSS / 1024) }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dbPath, name, until] = process.argv.slice(2)
  process.stdout.write(JSON.stringify(runOne(dbPath!, name as Variant, until ?? '2026-11-27')) + '\n')
}
