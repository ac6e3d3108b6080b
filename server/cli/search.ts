/** `whydenied search`: the filters of GET /api/denials, as a table or as the same JSON. */
import { Option, type Command } from 'commander'
import { Compile } from 'typebox/compile'
import { openStore } from '../db/index.js'
import { toFilters } from '../services/filters.js'
import { Decisions, DenialKinds, PolicyTypes, type DenialSummary } from '../authz/types.js'
import { DenialFiltersSchema, type DenialFilters, type SortOrder } from '../schemas/denials.js'
import { schemaProblem } from '../util/schema-errors.js'
import { collect, dbPath, fail, wholeNumber, withDb, type DbOption } from './common.js'

type SearchOptions = DbOption & DenialFilters & {
  json?: boolean
  limit: number
  cursor?: string
  sort?: SortOrder
}

/** The API's filter schema, so an option gets the same bounds as the query parameter. */
const filtersValidator = Compile(DenialFiltersSchema)

/** The filters among the options, checked by the schema (the message names the option). */
function filtersOf (opts: SearchOptions): DenialFilters {
  const { action, service, principal, account, resource, condition, decision, kind, policyType, policyArn, since, until, q } = opts
  const filters: DenialFilters = { action, service, principal, account, resource, condition, decision, kind, policyType, policyArn, since, until, q }
  for (const k of Object.keys(filters) as Array<keyof DenialFilters>) if (filters[k] === undefined) delete filters[k]
  const problem = schemaProblem(filtersValidator, filters)
  if (problem) fail(`--${problem.field?.replace(/\[\d+\]$/, '') ?? 'filters'}: ${problem.reason}`)
  return filters
}

export function register (program: Command): void {
  withDb(program.command('search'))
    .description('Search stored denials; all filters combine (AND)')
    .option('--json', 'print the same JSON as GET /api/denials')
    .option('--action <action>', 'normalised action, exact or glob (ec2:*)')
    .option('--service <service>', 'service prefix (iam, ec2, ...)')
    .option('--principal <arn>', 'principal ARN, exact or glob; matches the role of assumed-role sessions')
    .option('--account <id>', 'principal account ID')
    .option('--resource <arn>', 'resource ARN, exact or glob')
    .option('--condition <k[=v]>', 'condition KEY=VALUE, or KEY for "key present"; repeatable', collect, [])
    .addOption(new Option('--decision <decision>', 'only this decision').choices(Decisions))
    .addOption(new Option('--kind <kind>', 'decoded (from an encoded message) or text (an access-denied sentence: plain text, CloudTrail)').choices(DenialKinds))
    .addOption(new Option('--policy-type <type>', 'the policy type a text denial names').choices(PolicyTypes))
    .option('--policy-arn <arn>', 'ARN of the denying policy, exact or glob (arn:aws:organizations::*:policy/*)')
    .option('--since <when>', 'occurrences since a date, an ISO instant, or a span (30d, 12h)')
    .option('--until <when>', 'occurrences before (a date is inclusive)')
    .option('--q <text>', 'case-insensitive substring over ARNs, action and condition values')
    .option('--limit <n>', 'results per page (1-500)', wholeNumber(1, 500, 'Give a whole number from 1 to 500.'), 50)
    .option('--cursor <cursor>', 'nextCursor of a previous page')
    .addOption(new Option('--sort <order>', 'order of the results (default: lastSeen)').choices(['lastSeen', 'occurrences']))
    .action((opts: SearchOptions) => {
      const filters = filtersOf(opts)
      let result
      try {
        const store = openStore(dbPath(opts))
        result = store.repos.search.search(toFilters(filters), { limit: opts.limit, cursor: opts.cursor, sort: opts.sort, facets: Boolean(opts.json) })
        store.close()
      } catch (err) {
        fail(err)
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify(result) + '\n')
        return
      }
      process.stdout.write(table(result.items))
      process.stdout.write(`${result.items.length} of ${result.total} denial${result.total === 1 ? '' : 's'}${result.nextCursor ? ` (next page: --cursor ${result.nextCursor})` : ''}\n`)
    })
}

/** A plain-text table that fits the terminal; long ARNs are cut in the middle, where they differ least. */
export function table (items: DenialSummary[], width = process.stdout.columns || 160): string {
  const head = ['ID', 'DECISION', 'ACTION', 'PRINCIPAL', 'RESOURCE', 'OCC', 'LAST SEEN']
  const rows = items.map(d => [String(d.id), d.decision, d.action ?? '-', d.principalArn ?? '-', d.resource ?? '-', String(d.occurrences), d.lastSeen.slice(0, 19).replace('T', ' ')])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i]!.length)))
  const flexible = [3, 4]
  let over = widths.reduce((a, b) => a + b + 2, 0) - width
  for (const i of flexible) {
    if (over <= 0) break
    const cut = Math.min(over, widths[i]! - 20)
    if (cut > 0) { widths[i]! -= cut; over -= cut }
  }
  const fit = (s: string, w: number): string => s.length <= w ? s.padEnd(w) : `${s.slice(0, Math.ceil((w - 1) / 2))}…${s.slice(s.length - Math.floor((w - 1) / 2))}`
  return [head, ...rows].map(r => r.map((c, i) => fit(c, widths[i]!)).join('  ').trimEnd()).join('\n') + '\n'
}
