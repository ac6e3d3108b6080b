/**
 * The teams file: which team owns a denial (first match wins, else "unassigned") and which known
 * noise to suppress. YAML or JSON; validated with errors that name the file and the field.
 */
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { actionMatches, globMatch } from '../authz/policy-match.js'

export const UNASSIGNED = 'unassigned'

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

export class TeamsFileError extends Error {
  readonly code = 'WHYDENIED_TEAMS_FILE'
  readonly statusCode = 400
  constructor (readonly file: string, readonly field: string | null, reason: string) {
    super(`${file}${field ? `: ${field}` : ''}: ${reason}`)
    this.name = 'TeamsFileError'
  }
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Read and validate a teams file (.json is JSON; anything else is YAML, a superset of JSON). */
export function loadTeamsFile (file: string): TeamsConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new TeamsFileError(file, null, code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (err as Error).message})`)
  }
  return parseTeams(text, file)
}

export function parseTeams (text: string, file = 'teams file'): TeamsConfig {
  if (text.length > 1024 * 1024) throw new TeamsFileError(file, null, 'is larger than 1 MiB')
  let doc: unknown
  try {
    doc = file.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 })
  } catch (err) {
    throw new TeamsFileError(file, null, `is not valid ${file.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`)
  }
  return validateTeams(doc, file)
}

export function validateTeams (doc: unknown, file: string): TeamsConfig {
  const fail = (field: string | null, reason: string): never => { throw new TeamsFileError(file, field, reason) }
  if (!isObj(doc)) fail(null, 'must be a mapping with a "teams" list (and optionally "suppress")')
  const root = doc as Obj
  unknownKeys(root, ['teams', 'suppress'], '', fail)
  if (root.teams === undefined) fail('teams', 'is missing: list the teams, e.g. teams: [{name: platform, accounts: ["111122223333"]}]')
  if (!Array.isArray(root.teams)) fail('teams', 'must be a list')
  const names = new Set<string>()
  const teams = (root.teams as unknown[]).map((t, i): Team => {
    const at = `teams[${i}]`
    if (!isObj(t)) fail(at, 'must be a mapping with name, accounts and/or principals')
    const o = t as Obj
    unknownKeys(o, ['name', 'accounts', 'principals'], at, fail)
    if (typeof o.name !== 'string' || o.name.trim() === '') fail(`${at}.name`, 'must be a non-empty string')
    const name = (o.name as string).trim()
    if (name.length > 100) fail(`${at}.name`, 'is longer than 100 characters')
    if (name === UNASSIGNED) fail(`${at}.name`, `"${UNASSIGNED}" is reserved for denials no team matches`)
    if (names.has(name)) fail(`${at}.name`, `"${name}" is used by an earlier team`)
    names.add(name)
    const accounts = stringList(o.accounts, `${at}.accounts`, fail).map((a, j) => {
      if (!/^\d{12}$/.test(a)) fail(`${at}.accounts[${j}]`, `"${a}" is not a 12-digit AWS account ID (quote it in YAML so leading zeros survive)`)
      return a
    })
    const principals = stringList(o.principals, `${at}.principals`, fail).map((p, j) => {
      if (!p.startsWith('arn:') && p !== '*') fail(`${at}.principals[${j}]`, `"${p}" is not an ARN glob (arn:aws:iam::*:role/name-*)`)
      return p
    })
    if (accounts.length === 0 && principals.length === 0) fail(at, `team "${name}" needs accounts or principals to match anything`)
    return { name, accounts, principals }
  })
  const suppress = root.suppress === undefined || root.suppress === null
    ? []
    : !Array.isArray(root.suppress)
        ? fail('suppress', 'must be a list')
        : (root.suppress as unknown[]).map((r, i): SuppressRule => {
            const at = `suppress[${i}]`
            if (!isObj(r)) fail(at, 'must be a mapping with action, principal and/or resource')
            const o = r as Obj
            unknownKeys(o, ['action', 'principal', 'resource', 'reason', 'until'], at, fail)
            const rule: SuppressRule = { reason: null, until: null }
            for (const k of ['action', 'principal', 'resource'] as const) {
              if (o[k] === undefined) continue
              if (typeof o[k] !== 'string' || o[k] === '') fail(`${at}.${k}`, 'must be a non-empty string (a glob)')
              rule[k] = o[k] as string
            }
            if (!rule.action && !rule.principal && !rule.resource) fail(at, 'needs at least one of action, principal, resource')
            if (o.reason !== undefined) {
              if (typeof o.reason !== 'string') fail(`${at}.reason`, 'must be a string')
              rule.reason = (o.reason as string).slice(0, 500)
            }
            if (o.until !== undefined) {
              const u = o.until instanceof Date ? o.until.toISOString().slice(0, 10) : o.until
              if (typeof u !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(u) || Number.isNaN(Date.parse(`${u}T00:00:00Z`))) {
                fail(`${at}.until`, `must be a date YYYY-MM-DD, got ${JSON.stringify(o.until)}`)
              }
              rule.until = u as string
            }
            return rule
          })
  return { teams, suppress, file }
}

function unknownKeys (o: Obj, allowed: string[], at: string, fail: (f: string | null, r: string) => never): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(at ? `${at}.${k}` : k, `is not a known field (expected ${allowed.join(', ')})`)
  }
}

function stringList (v: unknown, at: string, fail: (f: string | null, r: string) => never): string[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) fail(at, 'must be a list')
  return (v as unknown[]).map((x, j) => {
    // YAML reads an unquoted 111122223333 as a number: accept it when it is still 12 digits.
    if (typeof x === 'number' && Number.isInteger(x)) return String(x)
    if (typeof x !== 'string' || x === '') fail(`${at}[${j}]`, 'must be a non-empty string')
    return x as string
  })
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

/** Every given glob must match: action case-insensitively, principal as for teams, resource as an ARN glob. */
export function ruleMatches (rule: SuppressRule, g: { principal: string | null, action: string | null, resource: string | null }): boolean {
  if (rule.action !== undefined && !(g.action !== null && actionMatches(rule.action, g.action))) return false
  if (rule.principal !== undefined && !principalMatches(rule.principal, g.principal)) return false
  if (rule.resource !== undefined && !(rule.resource === '*' || (g.resource !== null && globMatch(rule.resource, g.resource)))) return false
  return true
}
