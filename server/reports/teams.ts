/**
 * The teams file: which team owns a denial (first match wins, else "unassigned") and which known
 * noise to suppress. YAML or JSON, validated against a TypeBox schema with errors that name the file and the field.
 */
import { readFileSync } from 'node:fs'
import { Compile, Type, type Static } from '../util/typebox.js'
import { parse as parseYaml } from 'yaml'
import { schemaProblem } from '../util/schema-errors.js'
import { TeamsFileError } from '../errors.js'
import { actionMatches, globMatch } from '../authz/policy-match.js'

export const UNASSIGNED = 'unassigned'

const Glob = Type.String({ minLength: 1, maxLength: 2048, description: 'a glob (* and ?)' })

export const TeamEntrySchema = Type.Object({
  name: Type.Refine(Type.String({ maxLength: 100 }), v => v.trim() !== '', () => 'must be a non-empty string'),
  accounts: Type.Optional(Type.Union([Type.Array(Type.Refine(Type.Union([Type.String(), Type.Integer()]), v => /^\d{12}$/.test(String(v)),
    v => `"${String(v)}" is not a 12-digit AWS account ID (quote it in YAML so leading zeros survive)`)), Type.Null()], { description: 'AWS account IDs' })),
  principals: Type.Optional(Type.Union([Type.Array(Type.Refine(Type.String(), v => v.startsWith('arn:') || v === '*',
    v => `"${v}" is not an ARN glob (arn:aws:iam::*:role/name-*)`)), Type.Null()], { description: 'ARN globs' }))
}, { additionalProperties: false })

export const SuppressEntrySchema = Type.Refine(Type.Object({
  action: Type.Optional(Glob),
  principal: Type.Optional(Glob),
  resource: Type.Optional(Glob),
  reason: Type.Optional(Type.String()),
  until: Type.Optional(Type.Refine(Type.String(), v => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)),
    v => `must be a date YYYY-MM-DD, got ${JSON.stringify(v)}`))
}, { additionalProperties: false }), r => r.action !== undefined || r.principal !== undefined || r.resource !== undefined,
() => 'needs at least one of action, principal, resource')

/** The teams file as written (YAML or JSON). */
export const TeamsFileSchema = Type.Object({
  teams: Type.Array(TeamEntrySchema, { description: 'list the teams, e.g. teams: [{name: platform, accounts: ["111122223333"]}]' }),
  suppress: Type.Optional(Type.Union([Type.Array(SuppressEntrySchema), Type.Null()], { description: 'known noise to leave out of reports' }))
}, { additionalProperties: false })
export type TeamsFile = Static<typeof TeamsFileSchema>

const teamsFileValidator = Compile(TeamsFileSchema)

export interface Team {
  name: string
  accounts: string[]
  /** ARN globs; a role glob also covers the role's assumed-role sessions (reports group them under the role). */
  principals: string[]
}

export interface SuppressRule {
  action?: string
  principal?: string
  resource?: string
  reason: string | null
  /** YYYY-MM-DD: the rule applies to reports whose period ends on or before the end of this day. */
  until: string | null
}

export interface TeamsConfig {
  teams: Team[]
  suppress: SuppressRule[]
  /** Where it came from, for messages. */
  file: string | null
}

export const EMPTY_TEAMS: TeamsConfig = { teams: [], suppress: [], file: null }

/** The error for a problem in `file`, at `field` (null: the file as a whole). */
function teamsFileError (file: string, field: string | null, reason: string): Error {
  return new TeamsFileError(`${file}${field ? `: ${field}` : ''}: ${reason}`)
}

/** Read and validate a teams file (.json is JSON; anything else is YAML, a superset of JSON). */
export function loadTeamsFile (file: string): TeamsConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw teamsFileError(file, null, code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (err as Error).message})`)
  }
  return parseTeams(text, file)
}

export function parseTeams (text: string, file = 'teams file'): TeamsConfig {
  if (text.length > 1024 * 1024) throw teamsFileError(file, null, 'is larger than 1 MiB')
  let doc: unknown
  try {
    doc = file.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 })
  } catch (err) {
    throw teamsFileError(file, null, `is not valid ${file.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`)
  }
  return validateTeams(doc, file)
}

export function validateTeams (doc: unknown, file: string): TeamsConfig {
  const fail = (field: string | null, reason: string): never => { throw teamsFileError(file, field, reason) }
  const problem = schemaProblem(teamsFileValidator, doc)
  if (problem) fail(problem.field, problem.reason)
  const valid = doc as TeamsFile
  const names = new Set<string>()
  const teams = valid.teams.map((t, i): Team => {
    const name = t.name.trim()
    if (name === UNASSIGNED) fail(`teams[${i}].name`, `"${UNASSIGNED}" is reserved for denials no team matches`)
    if (names.has(name)) fail(`teams[${i}].name`, `"${name}" is used by an earlier team`)
    names.add(name)
    // YAML reads an unquoted 111122223333 as a number: the schema let it through only when it is 12 digits.
    const accounts = (t.accounts ?? []).map(a => String(a))
    const principals = t.principals ?? []
    if (accounts.length === 0 && principals.length === 0) fail(`teams[${i}]`, `team "${name}" needs accounts or principals to match anything`)
    return { name, accounts, principals }
  })
  const suppress = (valid.suppress ?? []).map((r): SuppressRule => ({
    ...(r.action !== undefined ? { action: r.action } : {}),
    ...(r.principal !== undefined ? { principal: r.principal } : {}),
    ...(r.resource !== undefined ? { resource: r.resource } : {}),
    reason: r.reason === undefined ? null : r.reason.slice(0, 500),
    until: r.until ?? null
  }))
  return { teams, suppress, file }
}

/**
 * Does an ARN glob cover a (normalised) principal? Reports group sessions under their role ARN,
 * so a role glob covers its sessions; an assumed-role glob is read as the glob of its role.
 */
export function principalMatches (glob: string, principal: string | null): boolean {
  if (principal === null) return glob === '*'
  if (globMatch(glob, principal)) return true
  const m = /^arn:([^:]*):sts::([^:]*):assumed-role\/([^/]+)(?:\/.*)?$/.exec(glob)
  return m !== null && globMatch(`arn:${m[1]}:iam::${m[2]}:role/${m[3]}`, principal)
}

/**
 * A superset of what `teamOf(...) === name` keeps, as accounts and principal globs (for a SQL
 * pre-filter), or null when it cannot be narrowed ("unassigned", or a glob that also matches no principal).
 */
export function teamPrefilter (config: TeamsConfig, name: string): { accounts: string[], globs: string[] } | null {
  const team = config.teams.find(t => t.name === name)
  if (!team || team.principals.includes('*')) return null
  const globs = team.principals.map(g => {
    const m = /^arn:([^:]*):sts::([^:]*):assumed-role\/([^/]+)(?:\/.*)?$/.exec(g)
    return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : g
  })
  return { accounts: team.accounts, globs: [...team.principals, ...globs.filter(g => !team.principals.includes(g))] }
}

/** The first team whose accounts or principal globs match, else "unassigned". */
export function teamOf (config: TeamsConfig, principal: string | null, account: string | null): string {
  for (const t of config.teams) {
    if (account !== null && t.accounts.includes(account)) return t.name
    if (t.principals.some(g => principalMatches(g, principal))) return t.name
  }
  return UNASSIGNED
}

/** Is the rule in force for a report whose period ends at `periodEnd` (ISO instant)? */
export function ruleActive (rule: SuppressRule, periodEnd: string): boolean {
  if (rule.until === null) return true
  return periodEnd <= new Date(Date.parse(`${rule.until}T00:00:00Z`) + 86_400_000).toISOString()
}

/**
 * The principals and actions of many groups as small codes into value lists (code 0: null; entry 0
 * of a list is not read): db/repositories/reports.ts ScanCodes.
 */
export interface CodedNames {
  principal: ArrayLike<number>
  action: ArrayLike<number>
  principals: ReadonlyArray<string | null>
  actions: ReadonlyArray<string | null>
}

/**
 * ruleMatches for the groups of one scan (hundreds of thousands in a report at 1M denials), group g
 * named by its codes: the action and principal globs are decided once per distinct value (a typed
 * array per code, no string looked up per group); the resource, mostly distinct, is read only when
 * the rule names one.
 */
export function ruleMatcher (rule: SuppressRule, names: CodedNames, resourceOf: (g: number) => string | null): (g: number) => boolean {
  // Per code: 0 not decided yet, 1 matches, 2 does not.
  const actions = new Uint8Array(rule.action === undefined ? 0 : names.actions.length)
  const principals = new Uint8Array(rule.principal === undefined ? 0 : names.principals.length)
  const resourceGlob = rule.resource === undefined || rule.resource === '*' ? null : rule.resource
  return g => {
    if (rule.action !== undefined) {
      const c = names.action[g]!
      let m = actions[c]!
      if (m === 0) { m = c !== 0 && actionMatches(rule.action, names.actions[c]!) ? 1 : 2; actions[c] = m }
      if (m === 2) return false
    }
    if (rule.principal !== undefined) {
      const c = names.principal[g]!
      let m = principals[c]!
      if (m === 0) { m = principalMatches(rule.principal, c === 0 ? null : names.principals[c]!) ? 1 : 2; principals[c] = m }
      if (m === 2) return false
    }
    if (resourceGlob === null) return true
    const resource = resourceOf(g)
    return resource !== null && globMatch(resourceGlob, resource)
  }
}

/** Every given glob must match: action case-insensitively, principal as for teams, resource as an ARN glob. */
export function ruleMatches (rule: SuppressRule, g: { principal: string | null, action: string | null, resource: string | null }): boolean {
  if (rule.action !== undefined && !(g.action !== null && actionMatches(rule.action, g.action))) return false
  if (rule.principal !== undefined && !principalMatches(rule.principal, g.principal)) return false
  if (rule.resource !== undefined && !(rule.resource === '*' || (g.resource !== null && globMatch(rule.resource, g.resource)))) return false
  return true
}
