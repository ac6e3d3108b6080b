/** The report a query asks for: its period resolved, the teams file read, the options applied. */
import type { ReportsRepository } from '../db/repositories/reports.js'
import type { ReportQuery } from '../schemas/reports.js'
import { buildReport, type Report, type ResolvedFix } from './build.js'
import { resolvePeriod } from './period.js'
import { EMPTY_TEAMS, loadTeamsFile, type TeamsConfig } from './teams.js'

/** A checkbox or flag that is on: "1", "on" or "true". */
export const isOn = (v: string | undefined): boolean => v === '1' || v === 'on' || v === 'true'

/** Read the teams file on every request: editing it re-attributes history without a restart. */
export function teamsFor (file: string | null): TeamsConfig {
  return file ? loadTeamsFile(file) : EMPTY_TEAMS
}

/** Build the report a query asks for (errors carry statusCode 400 with a message a person can act on). */
export function reportFor (repo: ReportsRepository, teamsFile: string | null, q: ReportQuery, resolveFix: ((id: number) => ResolvedFix | null) | null = null): Report {
  const period = resolvePeriod(q.since || undefined, q.until || undefined)
  return buildReport(repo, { period, teams: teamsFor(teamsFile), team: q.team || null, redact: isOn(q.redact), limit: q.limit, resolveFix, kind: q.kind || null })
}
