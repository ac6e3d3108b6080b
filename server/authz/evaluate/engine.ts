/**
 * IAM's policy evaluation logic for one request, offline: explicit Deny in any policy wins; SCPs,
 * RCPs, the permissions boundary and session policies must each allow; then an identity-based or a
 * resource-based policy must allow (both, across accounts).
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
 *
 * Simplifications, each said in the reasons when it matters: the SCPs (and RCPs) given are taken as
 * attached at one level of the organization (at least one of them must allow), since exports do not
 * carry the OU tree; a resource policy that names a user or role directly is not exempted from its
 * permissions boundary.
 */
import { and, statementVerdict, type MatchRequest, type StatementVerdict, type Verdict } from '../policy-match.js'
import type { AppliedPolicy, DecidingStatement, Evaluation, NearStatement, PolicyType } from './types.js'

export interface StatementResult {
  policy: AppliedPolicy
  index: number
  sid: string | null
  effect: 'Allow' | 'Deny'
  v: StatementVerdict
}

export interface EvalInput {
  request: MatchRequest
  policies: AppliedPolicy[]
  /** Account of the caller and of the resource, for the cross-account rule; null: unknown (taken as the same). */
  principalAccount: string | null
  resourceAccount: string | null
}

/** Every statement of every policy against the request. */
export function statementResults (input: EvalInput): StatementResult[] {
  const out: StatementResult[] = []
  for (const policy of input.policies) {
    const variables = policy.document.Version === '2012-10-17'
    // Identity-based statements have no Principal element: the caller is the principal they are attached to.
    policy.document.Statement.forEach((st, index) => {
      out.push({ policy, index, sid: st.Sid ?? null, effect: st.Effect, v: statementVerdict(st, input.request, { variables }) })
    })
  }
  return out
}

const deciding = (r: StatementResult): DecidingStatement => ({
  ref: r.policy.ref,
  policyArn: r.policy.policyArn,
  policyName: r.policy.policyName,
  policyType: r.policy.policyType,
  statementId: r.sid,
  statementIndex: r.index,
  effect: r.effect
})

const wholePolicy = (p: AppliedPolicy): DecidingStatement => ({
  ref: p.ref,
  policyArn: p.policyArn,
  policyName: p.policyName,
  policyType: p.policyType,
  statementId: null,
  statementIndex: null,
  effect: 'none'
})

const GATES: Array<{ type: PolicyType, label: string }> = [
  { type: 'scp', label: 'service control policy (SCP)' },
  { type: 'rcp', label: 'resource control policy (RCP)' },
  { type: 'boundary', label: 'permissions boundary' },
  { type: 'session', label: 'session policy' }
]

function or (vs: Verdict[]): Verdict {
  if (vs.includes('true')) return 'true'
  return vs.includes('unknown') ? 'unknown' : 'false'
}

const name = (p: AppliedPolicy): string => p.policyArn ?? `${p.policyName} (inline, ${p.attachedTo})`

/** Allow statements that would apply but for one or two elements, best first. */
function nearestOf (results: StatementResult[], request: MatchRequest, failingGates: PolicyType[]): NearStatement[] {
  const service = (request.action ?? '').split(':')[0]!.toLowerCase()
  const near: Array<NearStatement & { score: number }> = []
  for (const r of results) {
    if (r.effect !== 'Allow') continue
    const missing: string[] = []
    if (r.v.action === 'false') {
      // Only a statement about the same service is "near": an s3 statement is no near miss for ec2.
      const st = r.policy.document.Statement[r.index]!
      const pats = [st.Action ?? []].flat().map(String)
      if (!pats.some(p => p === '*' || p.toLowerCase().split(':')[0] === service)) continue
      missing.push('action')
    }
    if (r.v.resource === 'false') missing.push('resource')
    if (r.v.principal === 'false') missing.push('principal')
    for (const c of r.v.conditions) if (c.verdict === 'false') missing.push(`condition:${c.key}`)
    const applies = r.v.verdict === 'true'
    if (applies && (r.policy.policyType === 'identity' || r.policy.policyType === 'resource')) missing.push(...failingGates)
    if (missing.length === 0 || missing.length > 2) continue
    // A missing action or principal is a bigger change than a missing resource or condition value.
    const score = missing.reduce((n, m) => n + (m === 'action' || m === 'principal' ? 2 : 1), 0)
    near.push({ policyArn: r.policy.policyArn, policyName: r.policy.policyName, policyType: r.policy.policyType, ref: r.policy.ref, statementId: r.sid, statementIndex: r.index, missing, score })
  }
  const typeOrder: PolicyType[] = ['identity', 'resource', 'boundary', 'session', 'scp', 'rcp']
  near.sort((a, b) => a.score - b.score || typeOrder.indexOf(a.policyType) - typeOrder.indexOf(b.policyType))
  return near.slice(0, 10).map(({ score, ...n }) => n)
}

/** Evaluate the request against the policies that apply to it. */
export function evaluate (input: EvalInput): Evaluation & { results: StatementResult[] } {
  const results = statementResults(input)
  const reasons: string[] = []
  const denies = results.filter(r => r.effect === 'Deny')
  const trueDenies = denies.filter(r => r.v.verdict === 'true')
  const possibleDenies = denies.filter(r => r.v.verdict === 'unknown')
  if (trueDenies.length > 0) {
    for (const r of trueDenies) reasons.push(`Explicit deny: statement ${r.sid ? `"${r.sid}"` : `#${r.index + 1}`} of ${r.policy.policyType} policy ${name(r.policy)} denies the request; no Allow can override it.`)
    return { decision: 'explicit-deny', reasons, deciding: trueDenies.map(deciding), nearest: [], possibleDenies: possibleDenies.map(deciding), results }
  }
  for (const r of possibleDenies) {
    const unk = r.v.mismatches.join('; ')
    reasons.push(`A Deny may apply: statement ${r.sid ? `"${r.sid}"` : `#${r.index + 1}`} of ${name(r.policy)} (${unk}).`)
  }

  const allowOf = (types: PolicyType[]): Verdict => or(results.filter(r => r.effect === 'Allow' && types.includes(r.policy.policyType)).map(r => r.v.verdict))
  const gateVerdicts: Array<{ type: PolicyType, label: string, verdict: Verdict }> = []
  for (const g of GATES) {
    if (!input.policies.some(p => p.policyType === g.type)) continue
    const v = allowOf([g.type])
    gateVerdicts.push({ ...g, verdict: v })
    if (v === 'false') reasons.push(`No ${g.label} allows the request: each applicable type of policy must allow it.`)
    else if (v === 'unknown') reasons.push(`Whether a ${g.label} allows the request depends on a key the message does not show.`)
  }
  if (input.policies.some(p => p.policyType === 'scp')) reasons.push('The SCPs are taken as attached at one level of the organization: at least one of them must allow.')

  const identity = allowOf(['identity'])
  const resource = allowOf(['resource'])
  const cross = input.principalAccount !== null && input.resourceAccount !== null && input.principalAccount !== input.resourceAccount
  const hasResourcePolicy = input.policies.some(p => p.policyType === 'resource')
  let allow: Verdict
  if (cross) {
    allow = and([identity, resource])
    if (identity !== 'true') reasons.push(`Across accounts (the caller is in ${input.principalAccount}, the resource in ${input.resourceAccount}) the caller's identity policies must allow the request, and ${identity === 'false' ? 'none does' : 'whether one does cannot be told'}.`)
    if (resource !== 'true') reasons.push(hasResourcePolicy ? `Across accounts the resource's own policy must allow the caller, and ${resource === 'false' ? 'it does not' : 'whether it does cannot be told'}.` : 'Across accounts the resource\'s own policy must allow the caller, and the snapshot holds none for this resource.')
  } else {
    allow = or([identity, resource])
    if (allow === 'false') reasons.push(hasResourcePolicy ? 'Implicit deny: no identity-based or resource-based policy allows the request.' : 'Implicit deny: no identity-based policy allows the request.')
    if (allow === 'unknown') reasons.push('Whether an identity-based or resource-based policy allows the request depends on a key the message does not show.')
  }

  const failingGates = gateVerdicts.filter(g => g.verdict === 'false').map(g => g.type)
  const all = and([...gateVerdicts.map(g => g.verdict), allow])
  let decision: Evaluation['decision'] = all === 'true' ? 'allowed' : all === 'false' ? 'implicit-deny' : 'unknown'
  if (decision === 'allowed' && possibleDenies.length > 0) decision = 'unknown'

  let decidingList: DecidingStatement[] = []
  if (decision === 'allowed') {
    decidingList = results.filter(r => r.effect === 'Allow' && r.v.verdict === 'true').map(deciding)
    reasons.unshift('Allowed: no Deny applies, every applicable type of policy allows the request.')
  } else if (decision === 'implicit-deny') {
    for (const t of failingGates) decidingList.push(...input.policies.filter(p => p.policyType === t).map(wholePolicy))
  }
  const nearest = decision === 'implicit-deny' ? nearestOf(results, input.request, failingGates) : []
  return { decision, reasons, deciding: decidingList, nearest, possibleDenies: possibleDenies.map(deciding), results }
}
