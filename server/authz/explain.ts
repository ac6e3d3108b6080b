/**
 * "Why" and "how to fix" for one stored denial: the decision in words, what each matched statement
 * matched on, honest hints (each labelled as a hint), and the least-privilege fix, checked by our
 * own matcher against the stored request. Pure: data in, data out.
 */
import type { Decision, DenialDetail } from './types.js'
import { actionMatches, globMatch, lookup, resourceMatches, statementMatches, type MatchRequest, type PolicyStatement } from './policy-match.js'

export type { PolicyStatement, MatchRequest, MatchResult } from './policy-match.js'
export { statementMatches } from './policy-match.js'

export interface StatementExplanation {
  sid: string | null
  effect: string | null
  actions: string[]
  resources: string[]
  conditions: Array<{ key: string, values: string[] }>
  /** What in the request made this statement match, one sentence each, as far as the message shows it. */
  why: string[]
}

export interface Hint { id: string, text: string }

export type Fix =
  | null
  | { kind: 'allow', statement: PolicyStatement, policyJson: string, check: { matches: boolean, mismatches: string[] } }
  | { kind: 'change-deny', text: string, statements: string[] }

export interface Explanation {
  decision: Decision
  summary: string
  detail: string[]
  statements: StatementExplanation[]
  hints: Hint[]
  fix: Fix
}

/** The principal `SCOPE_POLICY_ISSUER` names the issuer of a scoping policy (boundary, SCP, RCP), not a person. */
export const SCOPE_POLICY_ISSUER = 'SCOPE_POLICY_ISSUER'

/** What explainDenial reads: the stored denial (occurrence fields are optional, for callers such as reports). */
export type ExplainInput = Pick<DenialDetail, 'decision' | 'action' | 'resource' | 'principal' | 'conditions' | 'statements'> &
  Partial<Pick<DenialDetail, 'actionRaw' | 'service' | 'occurrences' | 'firstSeen' | 'lastSeen' | 'failures'>>

const q = (s: string): string => `"${s}"`
const list = (vs: string[]): string => vs.map(q).join(', ')

/**
 * The request context as the matcher sees it: the message's condition keys, plus the global keys
 * IAM derives from the principal when the message leaves them out (they are marked as derived).
 */
export function requestOf (d: ExplainInput): { request: MatchRequest, derived: Set<string> } {
  const conditions = new Map<string, string[]>()
  for (const c of d.conditions) {
    const prev = conditions.get(c.key)
    conditions.set(c.key, prev ? [...prev, ...c.values] : [...c.values])
  }
  const derived = new Set<string>()
  const derive = (key: string, value: string | null | undefined): void => {
    if (value === null || value === undefined || value === '' || lookup(conditions, key) !== undefined) return
    conditions.set(key, [value])
    derived.add(key.toLowerCase())
  }
  const p = d.principal
  // For an assumed-role session, aws:PrincipalArn is the role's ARN, not the session's.
  derive('aws:PrincipalArn', p.roleArn ?? p.arn)
  derive('aws:PrincipalAccount', p.account)
  derive('aws:userid', p.id)
  if (p.type === 'user') derive('aws:username', p.arn?.split('/').pop())
  return { request: { action: d.action, resource: d.resource, conditions }, derived }
}

function who (d: ExplainInput): string {
  const p = d.principal
  if (p.roleArn) return `Role ${p.roleArn}${p.sessionName ? ` (session ${q(p.sessionName)})` : ''}`
  if (p.arn) return p.arn
  if (p.id) return `Principal ${p.id}`
  return 'An unknown principal'
}

function what (d: ExplainInput): string {
  const action = d.action ?? d.actionRaw ?? '(no action)'
  const resource = d.resource === null || d.resource === '' ? 'no named resource' : d.resource === '*' ? 'any resource (*)' : d.resource
  return `${action} on ${resource}`
}

/** Decide what a condition of a matched statement says about the request, honestly. */
function conditionWhy (key: string, values: string[], request: MatchRequest, derived: Set<string>): string {
  const got = lookup(request.conditions, key)
  const from = derived.has(key.toLowerCase()) ? ' (derived from the principal)' : ''
  if (got === undefined) {
    return `Condition ${key} ${list(values)}: the message does not show ${key} for this request, so what matched cannot be seen here.`
  }
  const hits = got.filter(g => values.some(v => v === g || globMatch(v, g)))
  if (hits.length > 0) {
    return `Condition ${key}: the request's ${key}${from} is ${list(got)}, which the statement's values ${list(values)} include, so a positive operator (StringEquals, StringLike, ArnLike…) matched.`
  }
  return `Condition ${key}: the request's ${key}${from} is ${list(got)}, none of the statement's values ${list(values)}, so the operator is most likely a negated one (StringNotEquals, ArnNotLike…): the statement denies requests whose ${key} is not one of those values.`
}

function explainStatement (s: DenialDetail['statements'][number], d: ExplainInput, request: MatchRequest, derived: Set<string>): StatementExplanation {
  const why: string[] = []
  const action = d.action
  if (action) {
    const a = s.actions.find(p => actionMatches(p, action)) ?? (d.actionRaw ? s.actions.find(p => actionMatches(p, d.actionRaw!)) : undefined)
    why.push(a !== undefined
      ? `Action ${q(a)} covers the request's ${action}.`
      : s.actions.length === 0 ? 'The message lists no actions for this statement (NotAction, or omitted).' : `None of the statement's actions (${list(s.actions)}) names ${action} as written; it may use NotAction.`)
  }
  const r = s.resources.find(p => resourceMatches(p, d.resource))
  if (r !== undefined) why.push(r === '*' ? 'Resource "*" covers every resource.' : `Resource ${q(r)} covers ${d.resource}.`)
  else if (s.resources.length > 0) why.push(`None of the statement's resources (${list(s.resources)}) covers ${d.resource ?? 'the request'} as written; it may use NotResource or a policy variable.`)
  if (s.principals.includes(SCOPE_POLICY_ISSUER)) {
    why.push(`The principal is ${SCOPE_POLICY_ISSUER}: the statement belongs to a policy that limits the caller from above (a permissions boundary, SCP or RCP), not to one attached to it.`)
  } else if (d.principal.arn && s.principals.some(p => p === d.principal.arn || p === d.principal.roleArn || globMatch(p, d.principal.arn!))) {
    why.push('The statement names this principal.')
  }
  for (const c of s.conditions) why.push(conditionWhy(c.key, c.values, request, derived))
  return { sid: s.statementId, effect: s.effect, actions: s.actions, resources: s.resources, conditions: s.conditions, why }
}

function hintsFor (d: ExplainInput, request: MatchRequest): Hint[] {
  const hints: Hint[] = []
  const action = (d.action ?? '').toLowerCase()
  const scoped = d.statements.filter(s => s.statementId === null || s.statementId === '' || s.principals.includes(SCOPE_POLICY_ISSUER))
  if (scoped.length > 0) {
    const boundary = d.statements.some(s => s.conditions.some(c => c.key.toLowerCase() === 'iam:permissionsboundary'))
    hints.push({
      id: 'boundary-or-org-policy',
      text: `Hint: a matched statement has ${scoped.some(s => !s.statementId) ? 'no Sid' : 'a Sid'}${scoped.some(s => s.principals.includes(SCOPE_POLICY_ISSUER)) ? ` and the principal ${SCOPE_POLICY_ISSUER}` : ''}. ` +
        'That usually points at a permissions boundary or an organization policy (SCP or RCP) rather than the identity policy: ' +
        `look there, and ask whoever owns it${boundary ? ' (this statement tests iam:PermissionsBoundary, so a boundary is the likely place)' : ''}. Editing the user's or role's own policy will not change it.`
    })
  }
  if (action === 'iam:passrole') {
    const svc = (lookup(request.conditions, 'iam:PassedToService')?.[0] ?? lookup(request.conditions, 'aws:Service')?.[0] ?? '').toLowerCase()
    const service = svc.replace(/\.amazonaws\.com(\.cn)?$/, '')
    if (service !== '' && service !== 'iam') {
      hints.push({
        id: 'passrole-dependent-action',
        text: service === 'ec2'
          ? 'Hint: iam:PassRole was checked while EC2 was being asked to use the role, as when RunInstances launches an instance with an instance profile. This is the classic dependent action: the launch fails ("not authorized to perform this operation") although ec2:RunInstances itself may be allowed. Allow iam:PassRole on this role for the caller, ideally limited to iam:PassedToService ec2.amazonaws.com.'
          : `Hint: iam:PassRole was checked while ${service} was being given the role: a dependent action of the call you made to ${service}. That call fails until the caller may pass this role; allow iam:PassRole on it, ideally limited to iam:PassedToService ${service}.amazonaws.com.`
      })
    }
  }
  const kmsKey = kmsKeyIn(d)
  if (kmsKey !== null) {
    const via = lookup(request.conditions, 'kms:ViaService')?.[0]
    hints.push({
      id: 'kms-key-policy',
      text: `Hint: this request involves the KMS key ${kmsKey}. A KMS key has its own key policy: unless that policy lets the account's IAM policies grant access (the default "Enable IAM User Permissions" statement), it must allow this principal too, and an identity-policy change alone will not be enough.` +
        (via ? ` The call came through ${via}, so a key policy condition on kms:ViaService may also be involved.` : '')
    })
  }
  const resourceAccount = arnAccount(d.resource)
  if (resourceAccount && d.principal.account && resourceAccount !== d.principal.account) {
    hints.push({
      id: 'cross-account',
      text: `Hint: the resource belongs to account ${resourceAccount}, the caller to ${d.principal.account}. Across accounts both sides must allow: the caller's identity policy and the resource's own policy (bucket policy, key policy, role trust policy…).`
    })
  }
  if (d.actionRaw && !d.actionRaw.includes(':') && d.action && d.action.includes(':')) {
    hints.push({ id: 'unprefixed-action', text: `Hint: the message gave the action as ${q(d.actionRaw)} without a service prefix; whydenied reads it as ${d.action} (from aws:Service or the resource ARN).` })
  }
  if (d.decision === 'implicit-deny') {
    hints.push({
      id: 'other-policy-types',
      text: 'Hint: if the identity policy already allows this, the implicit deny can also come from a permissions boundary, a session policy or an SCP that does not allow it: each of them must allow the request.'
    })
  }
  return hints
}

function arnAccount (arn: string | null): string | null {
  if (!arn?.startsWith('arn:')) return null
  const a = arn.split(':')[4]
  return a && /^\d{12}$/.test(a) ? a : null
}

function kmsKeyIn (d: ExplainInput): string | null {
  const isKey = (v: string): boolean => /^arn:[^:]+:kms:[^:]*:[^:]*:(key|alias)\//.test(v)
  if (d.resource && isKey(d.resource)) return d.resource
  for (const c of d.conditions) for (const v of c.values) if (isKey(v)) return v
  return null
}

/** A Sid from the action: letters and digits only, as IAM requires. */
function sidFor (action: string): string {
  const words = action.split(/[^A-Za-z0-9]+/).filter(Boolean).map(w => w[0]!.toUpperCase() + w.slice(1))
  return `Allow${words.join('')}`.slice(0, 100)
}

/**
 * The minimal identity-policy statement that would allow this request: Allow, the normalized
 * action, the exact resource, plus narrowing conditions only where the request shows the value.
 * `notes` says which values were inferred rather than read from the message.
 */
export function suggestStatementWithNotes (d: ExplainInput): { statement: PolicyStatement, notes: string[], request: MatchRequest } {
  const notes: string[] = []
  const { request } = requestOf(d)
  const action = d.action ?? d.actionRaw ?? ''
  const resource = d.resource === null || d.resource === '' ? '*' : d.resource
  if (resource === '*' && (d.resource === null || d.resource === '')) notes.push('The message names no resource, so the statement uses "*".')
  const statement: PolicyStatement = { Sid: sidFor(action || 'Action'), Effect: 'Allow', Action: action, Resource: resource }
  const condition: NonNullable<PolicyStatement['Condition']> = {}
  if (action.toLowerCase() === 'iam:passrole') {
    const passed = lookup(request.conditions, 'iam:PassedToService')
    const svc = lookup(request.conditions, 'aws:Service')?.[0]
    if (passed && passed.length === 1) {
      condition.StringEquals = { 'iam:PassedToService': passed[0]! }
    } else if (svc && /^[a-z0-9-]+$/i.test(svc) && svc.toLowerCase() !== 'iam') {
      const value = `${svc.toLowerCase()}.amazonaws.com`
      condition.StringEquals = { 'iam:PassedToService': value }
      // The message shows aws:Service, not iam:PassedToService: IAM sets the latter to the service's principal.
      if (request.conditions instanceof Map) request.conditions.set('iam:PassedToService', [value])
      notes.push(`The message shows aws:Service "${svc}" rather than iam:PassedToService; for PassRole, IAM sets iam:PassedToService to the service principal "${value}", which the check assumes.`)
    }
  }
  const via = lookup(request.conditions, 'kms:ViaService')
  if (action.toLowerCase().startsWith('kms:') && via && via.length === 1) {
    condition.StringEquals = { ...(condition.StringEquals ?? {}), 'kms:ViaService': via[0]! }
  }
  if (Object.keys(condition).length > 0) statement.Condition = condition
  return { statement, notes, request }
}

/** The suggested statement alone (see suggestStatementWithNotes). */
export function suggestStatement (d: ExplainInput): PolicyStatement {
  return suggestStatementWithNotes(d).statement
}

/** A full policy document, pretty-printed, ready to paste into the IAM console. */
export function policyDocument (statements: PolicyStatement[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, 2)
}

export function statementLabel (s: { statementId: string | null }, i: number): string {
  return s.statementId ? `Sid "${s.statementId}"` : `statement ${i + 1} (no Sid)`
}

/** Explain one denial: decision in words, matched statements, hints, and the fix. Never throws on odd input. */
export function explainDenial (d: ExplainInput): Explanation {
  const { request, derived } = requestOf(d)
  const detail: string[] = []
  let summary: string
  const subject = `${who(d)} was denied ${what(d)}`
  if (d.decision === 'explicit-deny') {
    summary = `${subject}. Explicit deny: a Deny statement matched: adding an Allow will not help.`
    detail.push('An explicit Deny overrides every Allow in every policy, so the fix is to change the Deny statement (or its conditions), or to make the request fall outside it.')
  } else if (d.decision === 'implicit-deny') {
    summary = `${subject}. Implicit deny: no policy allowed this request.`
    detail.push('Nothing denied this request outright: it was refused because no statement in the policies that apply allowed it. An Allow for this action on this resource (below) ends it.')
  } else {
    summary = `${who(d)} was allowed ${what(d)}: the message records an allowed request.`
    detail.push('This message records an allowed request; there is nothing to fix.')
  }
  if (d.principal.roleArn) {
    detail.push(`The caller is a session of the role ${d.principal.roleArn}: the role's policies are the ones to change, and every session of the role gets the change.`)
  }
  if (d.occurrences !== undefined && d.firstSeen && d.lastSeen) {
    detail.push(`Seen ${d.occurrences} time${d.occurrences === 1 ? '' : 's'}, first ${d.firstSeen}, last ${d.lastSeen}.`)
  }
  if (d.failures && d.failures.length > 0) detail.push(`The message also lists ${d.failures.length} evaluation failure${d.failures.length === 1 ? '' : 's'}.`)
  if (d.decision === 'explicit-deny' && d.statements.length === 0) {
    detail.push('The message does not list the Deny statement that matched (AWS omits it for some policy types).')
  }

  const statements = d.statements.map(s => explainStatement(s, d, request, derived))
  const hints = hintsFor(d, request)

  let fix: Fix = null
  if (d.decision === 'implicit-deny') {
    if (!d.action && !d.actionRaw) {
      detail.push('The message names no action, so no statement can be suggested.')
    } else {
      const s = suggestStatementWithNotes(d)
      detail.push(...s.notes)
      fix = { kind: 'allow', statement: s.statement, policyJson: policyDocument([s.statement]), check: statementMatches(s.statement, s.request) }
    }
  } else if (d.decision === 'explicit-deny') {
    const denies = d.statements.filter(s => (s.effect ?? '').toLowerCase() !== 'allow')
    const labels = denies.map((s, i) => statementLabel(s, i))
    const where = denies.some(s => !s.statementId || s.principals.includes(SCOPE_POLICY_ISSUER))
      ? ' It looks like a permissions boundary or an organization policy (SCP/RCP), so its owner must change it.'
      : ''
    fix = {
      kind: 'change-deny',
      text: labels.length > 0
        ? `No Allow is suggested: an Allow cannot override a Deny. Change ${labels.join(' and ')} (its actions, resources or conditions) so that it no longer covers this request, or change the request so that it falls outside the statement.${where}`
        : 'No Allow is suggested: an Allow cannot override a Deny. The message does not say which Deny statement matched; look for a Deny covering this action in the identity policies, permissions boundary, session policy and organization policies (SCP/RCP).',
      statements: labels
    }
  }
  return { decision: d.decision, summary, detail, statements, hints, fix }
}
