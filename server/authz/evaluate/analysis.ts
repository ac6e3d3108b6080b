/**
 * What a policy snapshot says about one stored denial: which policies hold the statements the
 * message names, our own verdict on the request, the near misses, and the smallest fix, verified
 * against the principal's other stored denials. Pure: data in, data out; the work is bounded.
 */
import { lookup, statementVerdict, type MatchRequest, type PolicyStatement } from '../policy-match.js'
import type { Decision, DenialDetail } from '../types.js'
import { suggestStatement } from '../explain.js'
import { applicablePolicies } from './applicable.js'
import { evaluate, type EvalInput } from './engine.js'
import { requestContext } from './keys.js'
import type { SnapshotContent } from './snapshot.js'
import type { AppliedPolicy, DecidingStatement, EvalDecision, NearStatement, PolicyDocument, PolicyType } from './types.js'

/** Bounds on the fix search: candidates tried, and other denials each candidate is checked against. */
export const FixLimits = { candidates: 8, otherDenials: 200 } as const

export interface SnapshotInfo { id: number, takenAt: string, account: string, content: SnapshotContent }

export interface PolicyRefOut {
  policyArn: string | null
  policyName: string
  policyType: PolicyType
  attachedTo: string
  /** Snapshot-local ref (links to /policies/:id go through it). */
  ref: string
}

export interface StatementMatchOut {
  statementId: string | null
  /** How the statement was found: by its Sid, or (no Sid in the message) by its actions and resources. */
  matchedBy: 'sid' | 'content'
  matches: Array<PolicyRefOut & { statementIndex: number }>
}

export interface FixOut {
  /** The policy's ref in the snapshot (null: a new policy). */
  ref: string | null
  policyArn: string | null
  policyName: string
  policyType: PolicyType
  kind: 'edit-statement' | 'add-statement' | 'remove-deny' | 'outside-account'
  before: PolicyStatement | null
  after: PolicyStatement | null
  /** The whole document after the change. */
  document: PolicyDocument
  /** The document before the change (null: a new policy). */
  current: PolicyDocument | null
  verified: boolean
  /** Our verdict on the stored request with the change. */
  decisionAfter: EvalDecision
  /** Other stored denials of the same principal, correctly denied today, that the change would allow. */
  wouldAllow: number[]
  note: string
}

export interface PoliciesAnalysis {
  snapshot: { id: number, takenAt: string } | null
  /** Every policy that applies to the request (not part of the API's object: pages offer them to what-if). */
  applicable?: PolicyRefOut[]
  statements: StatementMatchOut[]
  evaluation: {
    decision: EvalDecision
    agreesWithMessage: boolean
    reasons: string[]
    deciding: DecidingStatement[]
    nearest: NearStatement[]
  } | null
  fix: FixOut | null
}

/** What evaluation needs of a stored denial. */
export type DenialFacts = Pick<DenialDetail, 'id' | 'decision' | 'principal' | 'action' | 'resource' | 'conditions' | 'statements'>

export interface Prepared {
  input: EvalInput
  missing: string[]
  assumed: string[]
  principalFound: boolean
  derived: string[]
}

/** The evaluation input of a denial against a snapshot. */
export function prepare (d: DenialFacts, content: SnapshotContent): Prepared {
  const first = requestContext({ principal: d.principal, action: d.action, resource: d.resource, conditions: d.conditions })
  const resourceAccount = lookup(first.request.conditions, 'aws:ResourceAccount')?.[0] ?? null
  const app = applicablePolicies(content, d.principal, d.resource, resourceAccount)
  const ctx = app.principal
    ? requestContext({ principal: d.principal, action: d.action, resource: d.resource, conditions: d.conditions, principalTags: app.principal.tags, snapshotArn: app.principal.arn })
    : first
  const resAcct = resourceAccount ?? (d.resource?.split(':')[4] || null)
  return {
    input: { request: ctx.request, policies: app.policies, principalAccount: d.principal.account, resourceAccount: resAcct !== null && /^\d{12}$/.test(resAcct) ? resAcct : null },
    missing: app.missing,
    assumed: app.assumed,
    principalFound: app.principal !== null,
    derived: ctx.derived
  }
}

/** Evaluate, with what the snapshot lacks turned into `unknown` rather than a wrong verdict. */
export function evaluatePrepared (p: Prepared): ReturnType<typeof evaluate> {
  const e = evaluate(p.input)
  if (p.assumed.length > 0) e.reasons.push(`Applied to this account by assumption (imported without --account): ${p.assumed.join(', ')}.`)
  if (!p.principalFound) {
    e.reasons.push('The snapshot does not hold this principal: its identity policies and boundary are not known.')
    if (e.decision !== 'explicit-deny') e.decision = 'unknown'
  }
  if (p.missing.length > 0) {
    e.reasons.push(`The snapshot does not hold the documents of ${p.missing.join(', ')}: export them too (get-account-authorization-details with --filter LocalManagedPolicy AWSManagedPolicy).`)
    if (e.decision === 'implicit-deny' || e.decision === 'allowed') e.decision = 'unknown'
  }
  return e
}

const out = (p: AppliedPolicy): PolicyRefOut => ({ policyArn: p.policyArn, policyName: p.policyName, policyType: p.policyType, attachedTo: p.attachedTo, ref: p.ref })
const lower = (xs: string[]): string => xs.map(x => x.toLowerCase()).sort().join('\u0000')
const asArr = (v: string | string[] | undefined): string[] => v === undefined ? [] : Array.isArray(v) ? v : [v]

/** Every policy statement that the message's matched statement names: by Sid, or (no Sid) by its content. */
function statementMatches (d: DenialFacts, policies: AppliedPolicy[]): StatementMatchOut[] {
  return d.statements.map(ms => {
    const sid = ms.statementId !== null && ms.statementId !== '' ? ms.statementId : null
    const matches: StatementMatchOut['matches'] = []
    for (const p of policies) {
      p.document.Statement.forEach((st, i) => {
        const hit = sid !== null
          ? st.Sid === sid
          : (ms.effect === null || ms.effect.toLowerCase() === st.Effect.toLowerCase()) &&
            ms.actions.length > 0 && lower(ms.actions) === lower(asArr(st.Action ?? st.NotAction)) && lower(ms.resources) === lower(asArr(st.Resource))
        if (hit) matches.push({ ...out(p), statementIndex: i })
      })
    }
    return { statementId: sid, matchedBy: sid !== null ? 'sid' : 'content', matches }
  })
}

function replaced (input: EvalInput, ref: string, policyType: PolicyType, doc: PolicyDocument, newPolicy?: AppliedPolicy): EvalInput {
  const policies = input.policies.map(p => p.ref === ref && p.policyType === policyType ? { ...p, document: doc } : p)
  if (newPolicy) policies.push(newPolicy)
  return { ...input, policies }
}

interface Candidate {
  target: AppliedPolicy | null
  /** For a new policy (target null). */
  newPolicy?: AppliedPolicy
  kind: FixOut['kind']
  before: PolicyStatement | null
  after: PolicyStatement | null
  document: PolicyDocument
  note: string
}

/** Make one Allow statement cover the request in what it misses; null when that cannot be done by widening it. */
function widen (st: PolicyStatement, missing: string[], request: MatchRequest): PolicyStatement | null {
  const s: PolicyStatement = JSON.parse(JSON.stringify(st))
  for (const m of missing) {
    if (m === 'action') {
      if (s.Action === undefined || request.action === null) return null
      s.Action = [...asArr(s.Action), request.action]
    } else if (m === 'resource') {
      if (s.Resource === undefined) return null
      s.Resource = [...asArr(s.Resource), request.resource ?? '*']
    } else if (m.startsWith('condition:')) {
      const key = m.slice('condition:'.length)
      const have = lookup(request.conditions, key)
      for (const [op, keys] of Object.entries(s.Condition ?? {})) {
        const k = Object.keys(keys).find(x => x.toLowerCase() === key.toLowerCase())
        if (k === undefined) continue
        const negated = /Not/.test(op.replace(/^For(All|Any)Values?:/, ''))
        const values = asArr(keys[k] as string | string[]).map(String)
        if (have === undefined || have.length === 0) {
          delete keys[k]
        } else if (negated) {
          const left = values.filter(v => !have.includes(v))
          if (left.length === 0) delete keys[k]
          else keys[k] = left
        } else {
          keys[k] = [...values, ...have.filter(v => !values.includes(v))]
        }
        if (Object.keys(keys).length === 0) delete s.Condition![op]
      }
      if (s.Condition && Object.keys(s.Condition).length === 0) delete s.Condition
    } else {
      return null
    }
  }
  return s
}

/** A Deny statement with the request's values added to its negated conditions (its exceptions); null if it has none the request shows. */
function exceptRequest (st: PolicyStatement, request: MatchRequest): { statement: PolicyStatement, what: string } | null {
  const s: PolicyStatement = JSON.parse(JSON.stringify(st))
  const what: string[] = []
  for (const [op, keys] of Object.entries(s.Condition ?? {})) {
    if (!/^(String|Arn)Not/i.test(op.replace(/^For(All|Any)Values?:/i, ''))) continue
    for (const [k, v] of Object.entries(keys)) {
      const have = lookup(request.conditions, k)
      if (have === undefined || have.length === 0) continue
      const values = asArr(v as string | string[]).map(String)
      const add = have.filter(x => !values.includes(x))
      if (add.length === 0) continue
      keys[k] = [...values, ...add]
      what.push(`${k} ${add.map(x => `"${x}"`).join(', ')}`)
    }
  }
  return what.length > 0 ? { statement: s, what: what.join(' and ') } : null
}

function withStatement (doc: PolicyDocument, index: number, st: PolicyStatement | null): PolicyDocument {
  const Statement = doc.Statement.flatMap((x, i) => i !== index ? [x] : st === null ? [] : [st])
  return { ...doc, Statement }
}

const ADMIN: Partial<Record<PolicyType, string>> = {
  scp: 'This is a service control policy: an administrator of the organization must change it.',
  rcp: 'This is a resource control policy: an administrator of the organization must change it.',
  boundary: 'This is the principal\'s permissions boundary: whoever set the boundary must change it; the principal\'s own policies cannot.'
}

function candidates (e: ReturnType<typeof evaluate>, p: Prepared, d: DenialFacts, content: SnapshotContent): Candidate[] {
  const { input } = p
  const request = input.request
  const policyOf = (ref: string, type: PolicyType): AppliedPolicy | undefined => input.policies.find(x => x.ref === ref && x.policyType === type)
  const list: Candidate[] = []
  if (e.decision === 'explicit-deny') {
    for (const dec of e.deciding) {
      const pol = input.policies.find(x => x.policyName === dec.policyName && x.policyArn === dec.policyArn && x.policyType === dec.policyType)
      if (!pol || dec.statementIndex === null) continue
      const st = pol.document.Statement[dec.statementIndex]!
      const where = dec.statementId ? `"${dec.statementId}"` : `#${dec.statementIndex + 1}`
      // A Deny with exceptions (StringNotEquals aws:RequestedRegion [...]): the narrowest change adds this request's value to them.
      const excepted = exceptRequest(st, request)
      if (excepted !== null) {
        list.push({ target: pol, kind: 'remove-deny', before: st, after: excepted.statement, document: withStatement(pol.document, dec.statementIndex, excepted.statement), note: `Narrow the Deny statement ${where} of ${pol.policyArn ?? pol.policyName}: add ${excepted.what} to its exceptions. ${ADMIN[pol.policyType] ?? ''}`.trim() })
      }
      const actions = asArr(st.Action)
      const keep = actions.filter(a => !statementVerdict({ ...st, Action: a }, request, { variables: pol.document.Version === '2012-10-17' }).action.startsWith('t'))
      const after: PolicyStatement | null = st.Action !== undefined && keep.length > 0 && keep.length < actions.length ? { ...st, Action: keep.length === 1 ? keep[0]! : keep } : null
      list.push({
        target: pol,
        kind: 'remove-deny',
        before: st,
        after,
        document: withStatement(pol.document, dec.statementIndex, after),
        note: `${after === null ? 'Remove' : 'Narrow'} the Deny statement ${where} of ${pol.policyArn ?? pol.policyName}${after ? ` (drop ${request.action} from its actions)` : ''}. ${ADMIN[pol.policyType] ?? ''}`.trim()
      })
    }
    return list
  }
  if (e.decision !== 'implicit-deny') return list
  // Near misses first: edit the statement the administrator most likely meant.
  const gates = new Set(['boundary', 'scp', 'rcp', 'session'])
  for (const n of e.nearest) {
    const pol = policyOf(n.ref, n.policyType)
    if (!pol) continue
    if (n.missing.some(m => gates.has(m))) continue
    // AWS managed policies cannot be edited: the fix goes elsewhere.
    if (pol.policyArn?.includes(':aws:policy/') === true) continue
    const st = pol.document.Statement[n.statementIndex]!
    const after = widen(st, n.missing, request)
    if (after === null) continue
    list.push({ target: pol, kind: 'edit-statement', before: st, after, document: withStatement(pol.document, n.statementIndex, after), note: `Edit ${n.statementId ? `statement "${n.statementId}"` : `statement #${n.statementIndex + 1}`} of ${pol.policyArn ?? pol.policyName}: it misses only ${n.missing.join(' and ')}. ${ADMIN[pol.policyType] ?? ''}`.trim() })
  }
  const suggested = suggestStatement({ decision: d.decision, action: d.action, resource: d.resource, principal: d.principal, conditions: d.conditions, statements: d.statements })
  // A gate (boundary, SCP) that allows nothing of the kind: add the statement to it.
  for (const g of ['boundary', 'scp', 'rcp'] as const) {
    if (!e.nearest.some(n => n.missing.includes(g)) && !e.deciding.some(x => x.policyType === g)) continue
    const pol = input.policies.find(x => x.policyType === g)
    if (!pol) continue
    list.push({ target: pol, kind: 'add-statement', before: null, after: suggested, document: { ...pol.document, Statement: [...pol.document.Statement, suggested] }, note: `Add an Allow for ${d.action} to ${pol.policyArn ?? pol.policyName}. ${ADMIN[g] ?? ''}`.trim() })
  }
  // Across accounts, the resource's own policy must allow the caller: that is another account's change.
  const cross = input.principalAccount !== null && input.resourceAccount !== null && input.principalAccount !== input.resourceAccount
  if (cross) {
    const pol = input.policies.find(x => x.policyType === 'resource')
    const who = d.principal.roleArn ?? d.principal.arn ?? input.principalAccount!
    const st: PolicyStatement = { ...suggested, Principal: { AWS: who } }
    list.push({
      target: pol ?? null,
      newPolicy: pol ? undefined : { ref: `resource:${d.resource ?? ''}`, policyArn: null, policyName: d.resource ?? 'resource policy', policyType: 'resource', attachedTo: d.resource ?? '', document: { Version: '2012-10-17', Statement: [st] }, account: input.resourceAccount },
      kind: 'outside-account',
      before: null,
      after: st,
      document: pol ? { ...pol.document, Statement: [...pol.document.Statement, st] } : { Version: '2012-10-17', Statement: [st] },
      note: `The resource belongs to account ${input.resourceAccount}: its policy must allow ${who}, a change made in that account.`
    })
  }
  // Nothing close: add the least-privilege statement to the principal's own policy.
  const principalArn = input.policies.find(x => x.policyType === 'identity' && x.ref.startsWith('inline:'))?.attachedTo
  const own = input.policies.find(x => x.policyType === 'identity' && x.policyArn === null && principalArn !== undefined && x.attachedTo === principalArn && !content.groups.some(g => g.arn === x.attachedTo)) ??
    input.policies.find(x => x.policyType === 'identity' && x.policyArn !== null && !x.policyArn.includes(':aws:policy/'))
  if (own) {
    list.push({ target: own, kind: 'add-statement', before: null, after: suggested, document: { ...own.document, Statement: [...own.document.Statement, suggested] }, note: `Add a least-privilege Allow to ${own.policyArn ?? `the inline policy ${own.policyName}`}.` })
  } else if (p.principalFound) {
    const who = input.policies[0]?.attachedTo ?? d.principal.roleArn ?? d.principal.arn ?? 'the principal'
    const doc: PolicyDocument = { Version: '2012-10-17', Statement: [suggested] }
    list.push({ target: null, newPolicy: { ref: 'inline:new:whydenied-fix', policyArn: null, policyName: 'whydenied-fix', policyType: 'identity', attachedTo: who, document: doc, account: input.principalAccount }, kind: 'add-statement', before: null, after: suggested, document: doc, note: `Attach a new inline policy "whydenied-fix" to ${who}.` })
  }
  return list.slice(0, FixLimits.candidates)
}

export interface OtherDenial { id: number, decision: Decision, prepared: Prepared }

/** Try the candidates in order; the first that allows the request wins, verified against the other denials. */
function chooseFix (e: ReturnType<typeof evaluate>, p: Prepared, d: DenialFacts, content: SnapshotContent, others: OtherDenial[]): FixOut | null {
  const tried = candidates(e, p, d, content)
  let fallback: FixOut | null = null
  for (const c of tried) {
    const target = c.target
    const apply = (input: EvalInput): EvalInput => target
      ? replaced(input, target.ref, target.policyType, c.document)
      : replaced(input, '', 'identity', c.document, c.newPolicy)
    const after = evaluatePrepared({ ...p, input: apply(p.input) }).decision
    const wouldAllow: number[] = []
    if (after === 'allowed') {
      for (const o of others.slice(0, FixLimits.otherDenials)) {
        if (o.id === d.id) continue
        const now = evaluatePrepared(o.prepared).decision
        // Only denials our evaluation agrees were denied: they are the ones a fix must not open.
        if (now !== o.decision || now === 'allowed') continue
        // The change applies to another denial only when it holds the same policy.
        const has = target ? o.prepared.input.policies.some(x => x.ref === target.ref && x.policyType === target.policyType) : o.prepared.principalFound
        if (!has) continue
        if (evaluatePrepared({ ...o.prepared, input: apply(o.prepared.input) }).decision === 'allowed') wouldAllow.push(o.id)
      }
    }
    const policyType = target?.policyType ?? c.newPolicy?.policyType ?? 'identity'
    const fix: FixOut = {
      ref: target?.ref ?? null,
      policyArn: target?.policyArn ?? null,
      policyName: target?.policyName ?? c.newPolicy?.policyName ?? '',
      policyType,
      kind: c.kind,
      before: c.before,
      after: c.after,
      document: c.document,
      current: target?.document ?? null,
      verified: after === 'allowed' && wouldAllow.length === 0,
      decisionAfter: after,
      wouldAllow,
      note: wouldAllow.length > 0
        ? `${c.note} Not verified: it would also allow stored denial${wouldAllow.length === 1 ? '' : 's'} ${wouldAllow.map(i => `#${i}`).join(', ')}, denied today.`
        : after !== 'allowed' ? `${c.note} Not verified: with the change our evaluation says ${after}.` : c.note
    }
    if (fix.verified) return fix
    fallback ??= after === 'allowed' ? fix : fallback
  }
  return fallback ?? (tried[0] ? { ...chooseNone(tried[0]), decisionAfter: 'unknown' } : null)
}

function chooseNone (c: Candidate): FixOut {
  return {
    ref: c.target?.ref ?? null,
    policyArn: c.target?.policyArn ?? null,
    policyName: c.target?.policyName ?? c.newPolicy?.policyName ?? '',
    policyType: c.target?.policyType ?? 'identity',
    kind: c.kind,
    before: c.before,
    after: c.after,
    document: c.document,
    current: c.target?.document ?? null,
    verified: false,
    decisionAfter: 'unknown',
    wouldAllow: [],
    note: `${c.note} Not verified: no change tried makes our evaluation allow the request.`
  }
}

/** The `policies` object of a denial. `others`: the principal's other stored denials, prepared against the same snapshot. */
export function analyse (d: DenialFacts, snap: SnapshotInfo | null, others: OtherDenial[] = []): PoliciesAnalysis {
  if (snap === null) {
    return { snapshot: null, statements: d.statements.map(s => ({ statementId: s.statementId || null, matchedBy: s.statementId ? 'sid' : 'content', matches: [] })), evaluation: null, fix: null }
  }
  const p = prepare(d, snap.content)
  const e = evaluatePrepared(p)
  const statements = statementMatches(d, p.input.policies)
  for (const s of statements) {
    if (s.matches.length > 1) e.reasons.push(`Sid "${s.statementId}" is ambiguous: ${s.matches.length} policies that apply hold a statement with it (${s.matches.map(m => m.policyArn ?? m.policyName).join(', ')}).`)
    else if (s.matches.length === 0 && s.statementId !== null) e.reasons.push(`Sid "${s.statementId}" is in none of the policies of the snapshot that apply to this request.`)
  }
  const agrees = e.decision === d.decision
  if (!agrees) {
    e.reasons.unshift(e.decision === 'unknown'
      ? `The message says ${d.decision}; from the snapshot alone the outcome cannot be told.`
      : `The message says ${d.decision}, the snapshot taken ${snap.takenAt} says ${e.decision}: the policies have changed since the request, or the snapshot is incomplete.`)
  }
  const fix = d.decision !== 'allowed' && (e.decision === 'explicit-deny' || e.decision === 'implicit-deny') ? chooseFix(e, p, d, snap.content, others) : null
  return {
    snapshot: { id: snap.id, takenAt: snap.takenAt },
    applicable: p.input.policies.map(out),
    statements,
    evaluation: { decision: e.decision, agreesWithMessage: agrees, reasons: e.reasons, deciding: e.deciding, nearest: e.nearest },
    fix
  }
}

/** What-if: the stored request with some documents replaced (by policy ARN or name). */
export function whatIf (d: DenialFacts, snap: SnapshotInfo, replacements: Array<{ policy: string, document: PolicyDocument }>): { decision: EvalDecision, deciding: DecidingStatement[], reasons: string[], unmatched: string[] } {
  const p = prepare(d, snap.content)
  const unmatched: string[] = []
  let input = p.input
  for (const r of replacements) {
    const hits = input.policies.filter(x => x.policyArn === r.policy || x.policyName === r.policy || x.ref === r.policy)
    if (hits.length === 0) { unmatched.push(r.policy); continue }
    input = { ...input, policies: input.policies.map(x => hits.includes(x) ? { ...x, document: r.document } : x) }
  }
  const e = evaluatePrepared({ ...p, input })
  return { decision: e.decision, deciding: e.deciding, reasons: e.reasons, unmatched }
}
