/** `whydenied report`: the team report on recurring denials, in html, md, json or csv, to stdout or a file. */
import { Option, type Command } from 'commander'
import { writeFileSync } from 'node:fs'
import { loadConfig } from '../config.js'
import { openStore } from '../db/index.js'
import { buildReport, DEFAULT_LIMIT, EMPTY_TEAMS, Formats, loadTeamsFile, render, resolvePeriod, type Format } from '../reports/index.js'
import { DenialKinds, type DenialKind } from '../authz/types.js'
import { dbPath, fail, wholeNumber, withDb, type DbOption } from './common.js'
import { fixResolver } from '../services/policies.js'

/**
 * The report reads two indexes once each, in order: SQLite's page cache would only fill up to its
 * size (96 MiB by default) and stay at the peak. 8 MiB: all teams at 1M denials peaked at 388 MB with
 * the default and ~300 MB with this, in the same time (README, Performance).
 */
export const REPORT_CACHE_KIB = 8192

interface ReportOptions extends DbOption {
  teams?: string
  team?: string
  since?: string
  until?: string
  format: Format
  redact?: boolean
  out?: string
  limit: number
  kind?: DenialKind
}

export function register (program: Command): void {
  withDb(program.command('report'))
    .description('Report recurring denials per team: trends, new and gone-quiet problems, and the policy change that ends them')
    .option('--teams <file>', 'teams file (YAML or JSON): team accounts and principal globs, suppress rules (env WHYDENIED_TEAMS)')
    .option('--team <name>', 'only this team ("unassigned" for denials no team matches)')
    .option('--since <when>', 'start of the period: a span back from --until (30d, 2w, 12h), a date or an instant', '30d')
    .option('--until <when>', 'end of the period: a date (inclusive) or an instant (default: now)')
    .addOption(new Option('--format <format>', 'output format').choices(Formats).default('html'))
    .option('--redact', 'replace account IDs, names and identifiers with stable pseudonyms, to share outside the team')
    .option('--out <file>', 'write to FILE instead of stdout')
    .addOption(new Option('--kind <kind>', 'only decoded messages or only access-denied text (default: both, counted together)').choices(DenialKinds))
    .option('--limit <n>', 'groups listed per team and list (0: all)', wholeNumber(0, 100_000, 'Give a whole number from 0 to 100000.'), DEFAULT_LIMIT)
    .addHelpText('after', '\nThe period is compared with the one of the same length before it: groups are new, ongoing,\ngrowing (at least 1.5x and at least 3 more occurrences) or gone quiet.')
    .action((opts: ReportOptions) => {
      let output: string
      try {
        const period = resolvePeriod(opts.since, opts.until)
        const teamsFile = opts.teams ?? loadConfig().teamsFile
        const teams = teamsFile ? loadTeamsFile(teamsFile) : EMPTY_TEAMS
        const store = openStore(dbPath(opts), { mustExist: true, cacheKiB: REPORT_CACHE_KIB })
        try {
          const report = buildReport(store.repos.reports, { period, teams, team: opts.team ?? null, redact: Boolean(opts.redact), limit: opts.limit, resolveFix: fixResolver(store.repos), kind: opts.kind ?? null })
          output = render(report, opts.format)
        } finally {
          store.close()
        }
      } catch (err) {
        fail(err)
      }
      if (opts.out) {
        try {
          writeFileSync(opts.out, output)
        } catch (err) {
          fail(`cannot write ${opts.out}: ${(err as Error).message}`)
        }
        process.stderr.write(`whydenied: report written to ${opts.out}\n`)
      } else {
        process.stdout.write(output)
      }
    })
}
