/** `whydenied search`: the filters of GET /api/denials, as a table (fit to a terminal, whole when piped), TSV, CSV or the same JSON. */
import { Option, type Command } from 'commander'
import { Compile } from '../util/typebox.js'
import { openStore } from '../db/index.js'
import { toFilters } from '../services/filters.js'
import { Decisions, DenialKinds, PolicyTypes, type DenialSummary } from '../authz/types.js'
import { DenialFiltersSchema, type DenialFilters, type SortOrder } from '../schemas/denials.js'
import { schemaProblem } from '../util/schema-errors.js'
import { showBidiControls } from '../util/bidi.js'
import { excerpt } from '../decode/extract.js'
import { csvCell } from '../reports/render/text.js'
import { collect, dbPath, fail, wholeNumber, withDb, type DbOption } from './common.js'

type SearchOptions = DbOption & DenialFilters & {
  json?: boolean
  format: SearchFormat
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
    .addOption(new Option('--format <format>', 'table (cut to fit a terminal; in full when piped), tsv, csv, or json (the JSON of GET /api/denials)').choices(SearchFormats).default('table'))
    .option('--json', 'the same as --format json')
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
    .addHelpText('after', '\nOn a terminal the table is cut to its width, keeping the end of each ARN (role, session, user or\nresource name); piped or redirected, nothing is cut. Reads the database only: a missing --db is an error.')
    .action((opts: SearchOptions) => {
      const format: SearchFormat = opts.json ? 'json' : opts.format
      const filters = filtersOf(opts)
      let result
      try {
        const store = openStore(dbPath(opts), { mustExist: true })
        try {
          result = store.repos.search.search(toFilters(filters), { limit: opts.limit, cursor: opts.cursor, sort: opts.sort, facets: format === 'json' })
        } finally {
          store.close()
        }
      } catch (err) {
        // The API's wording speaks of "this server"; here the user typed --cursor.
        if ((err as { code?: string }).code === 'WHYDENIED_BAD_CURSOR') {
          fail(`--cursor ${JSON.stringify(excerpt(opts.cursor ?? '', 40))} is not a cursor this search printed: give the "next page: --cursor ..." value of the previous page, with the same filters and --sort (or leave --cursor out for the first page)`)
        }
        fail(err)
      }
      if (format === 'json') {
        process.stdout.write(JSON.stringify(result) + '\n')
        return
      }
      if (format === 'csv') { process.stdout.write(csv(result.items)); return }
      if (format === 'tsv') { process.stdout.write(tsv(result.items)); return }
      // Only a terminal has a width to fit; piped into grep or a file, every value is kept whole.
      process.stdout.write(table(result.items, process.stdout.isTTY ? (process.stdout.columns || 80) : null))
      process.stdout.write(`${result.items.length} of ${result.total} denial${result.total === 1 ? '' : 's'}${result.nextCursor ? ` (next page: --cursor ${result.nextCursor})` : ''}\n`)
    })
}

export const SearchFormats = ['table', 'tsv', 'csv', 'json'] as const
export type SearchFormat = typeof SearchFormats[number]

const HEAD = ['ID', 'DECISION', 'ACTION', 'PRINCIPAL', 'RESOURCE', 'OCC', 'LAST SEEN']
const COLUMNS = ['id', 'decision', 'action', 'principalArn', 'resource', 'region', 'occurrences', 'firstSeen', 'lastSeen'] as const

/**
 * A value for a terminal or a TSV line: control characters (an ESC could drive the terminal, a tab or
 * line break would shift the columns) and bidi controls (they reorder what people read) become `\uXXXX`.
 */
export function printable (s: string): string {
  // eslint-disable-next-line no-control-regex
  return showBidiControls(s).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, c => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`)
}

/** One line per denial, tab-separated, with a header; values hold no tab or line break (escaped). */
export function tsv (items: DenialSummary[]): string {
  return [COLUMNS.join('\t'), ...items.map(d => COLUMNS.map(c => printable(String(d[c] ?? ''))).join('\t'))].join('\n') + '\n'
}

/** RFC 4180 with a header (the reports' cells: quoted, formulas neutralised); CRLF line ends. */
export function csv (items: DenialSummary[]): string {
  return [COLUMNS.join(','), ...items.map(d => COLUMNS.map(c => csvCell(showBidiControls(String(d[c] ?? '')))).join(','))].join('\r\n') + '\r\n'
}

/**
 * A plain-text table. `width` null (not a terminal): every value whole. Else the ACTION, PRINCIPAL and
 * RESOURCE columns give up room, the widest first, and an ARN keeps its end (see fitArn).
 */
export function table (items: DenialSummary[], width: number | null): string {
  const rows = items.map(d => [String(d.id), d.decision, d.action ?? '-', d.principalArn ?? '-', d.resource ?? '-', String(d.occurrences), d.lastSeen.slice(0, 19).replace('T', ' ')].map(printable))
  const widths = HEAD.map((h, i) => Math.max(h.length, ...rows.map(r => r[i]!.length)))
  if (width !== null) {
    const flexible = [2, 3, 4]
    const min = [0, 0, 16, 20, 20]
    let over = widths.reduce((a, b) => a + b + 2, 0) - 2 - width
    // Water-filling: always shrink the widest flexible column, so the columns end up evenly cut.
    while (over > 0) {
      const i = flexible.reduce((a, b) => widths[b]! - min[b]! > widths[a]! - min[a]! ? b : a)
      if (widths[i]! <= min[i]!) break
      widths[i]!--
      over--
    }
  }
  const fit = (s: string, w: number): string => (s.length <= w ? s : fitArn(s, w)).padEnd(w)
  return [HEAD, ...rows].map(r => r.map((c, i) => fit(c, widths[i]!)).join('  ').trimEnd()).join('\n') + '\n'
}

const ARN = /^(arn:[^:]*:[^:]*:[^:]*:[^:]*:)(.*)$/s
/** The resource-type word of a principal ARN: the name after it is what a person looks for. */
const PRINCIPAL_TYPE = /^(?:assumed-role|role|user|federated-user|group)\//

/**
 * `s` in at most `w` characters, cutting the middle and keeping the meaningful end: the resource part of
 * an ARN whole if it fits (`arn:aws:iam::1111…role/ci-runner`), else its name cut in the middle
 * (`ci-runner/…0ab51ed10`, the role kept whole when it leaves room). Anything else keeps its start and, mostly, its end.
 */
export function fitArn (s: string, w: number): string {
  if (s.length <= w) return s
  if (w < 2) return s.slice(0, w)
  const m = ARN.exec(s)
  const tail = m?.[2] ?? ''
  if (m && tail.length + 1 < w) return `${s.slice(0, w - 1 - tail.length)}…${tail}`
  const name = m ? tail.replace(PRINCIPAL_TYPE, '') : s
  if (name.length <= w) return name
  // An assumed role's `role/session`: the role name whole if it leaves room for the session's end.
  // Anything else ends in its name (a user, a key, an object): a short start, a long end.
  const slash = tail.startsWith('assumed-role/') ? name.indexOf('/') : -1
  const head = slash > 0 && slash + 1 <= (w - 1) * 2 / 3 ? slash + 1 : Math.max(1, Math.floor((w - 1) / 4))
  return `${name.slice(0, head)}…${name.slice(name.length - (w - 1 - head))}`
}
