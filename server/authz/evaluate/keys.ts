/**
 * The request context of a stored denial, in the key names policies test. A decoded message does
 * not always use them: it shows the region as aws:Region where policies test aws:RequestedRegion.
 * Each mapping below is documented (README, "Which policy, and the fix"); the message's own key is
 * kept too, and a key the policy names that is already in the message is never overwritten.
 */
import { lookup, type Caller, type MatchRequest } from '../policy-match.js'
import type { Principal } from '../types.js'

/** Message key → the key policies test. */
export const KeyMappings: ReadonlyArray<{ from: string, to: string, why: string }> = [
  { from: 'aws:Region', to: 'aws:RequestedRegion', why: 'decoded messages name the region of the call aws:Region; policies test aws:RequestedRegion' },
  { from: 'ec2:Region', to: 'aws:RequestedRegion', why: 'EC2 messages also carry ec2:Region, the region of the call' },
  { from: 'aws:Account', to: 'aws:ResourceAccount', why: 'decoded messages name the account owning the resource aws:Account; policies test aws:ResourceAccount' }
]

export interface RequestFacts {
  principal: Principal
  action: string | null
  resource: string | null
  conditions: Array<{ key: string, values: string[] }>
  /** Tags of the principal, from a policy snapshot: they become aws:PrincipalTag/KEY. */
  principalTags?: Record<string, string>
  /** The principal's ARN as the snapshot has it (a role's ARN with its path, which session ARNs leave out). */
  snapshotArn?: string | null
}

/** The request context as policies see it; `derived` lists the keys not shown by the message itself. */
export function requestContext (f: RequestFacts): { request: MatchRequest, derived: string[] } {
  const conditions = new Map<string, string[]>()
  for (const c of f.conditions) {
    const prev = lookup(conditions, c.key)
    if (prev) prev.push(...c.values)
    else conditions.set(c.key, [...c.values])
  }
  const derived: string[] = []
  const derive = (key: string, value: string | null | undefined): void => {
    if (value === null || value === undefined || value === '' || lookup(conditions, key) !== undefined) return
    conditions.set(key, [value])
    derived.push(key)
  }
  for (const m of KeyMappings) {
    const v = lookup(conditions, m.from)
    if (v && v.length > 0 && lookup(conditions, m.to) === undefined) { conditions.set(m.to, [...v]); derived.push(m.to) }
  }
  const p = f.principal
  // For an assumed-role session, aws:PrincipalArn is the role's ARN, not the session's.
  derive('aws:PrincipalArn', f.snapshotArn ?? p.roleArn ?? p.arn)
  derive('aws:PrincipalAccount', p.account)
  derive('aws:userid', p.id)
  if (p.type === 'user') derive('aws:username', p.arn?.split('/').pop())
  derive('aws:PrincipalType', p.roleArn ? 'AssumedRole' : p.type === 'user' ? 'User' : p.type === 'root' ? 'Account' : null)
  for (const [k, v] of Object.entries(f.principalTags ?? {})) derive(`aws:PrincipalTag/${k}`, v)
  const caller: Caller = { arn: p.arn, roleArn: p.roleArn, account: p.account }
  return { request: { action: f.action, resource: f.resource, conditions, complete: false, caller }, derived }
}
