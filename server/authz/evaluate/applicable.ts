/** Which policies of a snapshot apply to one request: the principal's, its groups', its boundary, the SCPs and RCPs of the accounts, the resource's. */
import type { Principal } from '../types.js'
import type { SnapshotContent, SnapshotPolicy, SnapshotPrincipal } from './snapshot.js'
import type { AppliedPolicy, PolicyType } from './types.js'

export interface Applicable {
  policies: AppliedPolicy[]
  principal: SnapshotPrincipal | null
  /** Policies the principal has attached whose documents the snapshot does not hold (AWS managed policies left out of the export, for instance). */
  missing: string[]
  /** SCPs or RCPs applied to this account only by assumption (imported without --account). */
  assumed: string[]
}

const accountOf = (arn: string | null): string | null => {
  const a = arn?.split(':')[4]
  return a !== undefined && /^\d{12}$/.test(a) ? a : null
}

/** The snapshot's principal for a message's principal: by ARN, else by account, type and name (session ARNs drop the role's path). */
export function findPrincipal (content: SnapshotContent, p: Principal): SnapshotPrincipal | null {
  const target = p.roleArn ?? p.arn
  if (target === null) return null
  const exact = content.principals.find(x => x.arn === target)
  if (exact) return exact
  const m = /^arn:[^:]+:iam::(\d{12}):(user|role)\/(?:.*\/)?([^/]+)$/.exec(target)
  if (!m) return null
  return content.principals.find(x => x.account === m[1] && x.type === m[2] && x.name.toLowerCase() === m[3]!.toLowerCase()) ?? null
}

function applied (p: SnapshotPolicy, policyType: PolicyType, attachedTo: string, account: string | null): AppliedPolicy {
  return { ref: p.ref, policyArn: p.arn, policyName: p.name, policyType, attachedTo, document: p.document, account }
}

/** Does a resource policy attached to `attached` govern `resource` (a bucket's policy governs its objects)? */
export function governs (attached: string, resource: string | null): boolean {
  if (resource === null) return false
  return resource === attached || resource.startsWith(`${attached}/`)
}

export function applicablePolicies (content: SnapshotContent, principal: Principal, resource: string | null, resourceAccountKey: string | null): Applicable {
  const byRef = new Map(content.policies.map(p => [p.ref, p]))
  const out: AppliedPolicy[] = []
  const missing: string[] = []
  const assumed: string[] = []
  const sp = findPrincipal(content, principal)
  const account = principal.account ?? sp?.account ?? null
  const take = (ref: string, type: PolicyType, attachedTo: string): void => {
    const p = byRef.get(ref)
    if (p) out.push(applied(p, type, attachedTo, account))
    else if (!missing.includes(ref)) missing.push(ref)
  }
  if (sp) {
    for (const ref of sp.policies) take(ref, 'identity', sp.arn)
    for (const g of sp.groups) {
      const group = content.groups.find(x => x.arn === g)
      for (const ref of group?.policies ?? []) take(ref, 'identity', g)
    }
    if (sp.boundary) take(sp.boundary, 'boundary', sp.arn)
  }
  const resourceAccount = resourceAccountKey ?? accountOf(resource) ?? account
  for (const p of content.policies) {
    if (p.kind === 'scp' || p.kind === 'rcp') {
      const acct = p.kind === 'scp' ? account : resourceAccount
      if (acct === null || !(p.assumedScope === true || p.attachedTo.includes(acct))) continue
      out.push(applied(p, p.kind, acct, acct))
      if (p.assumedScope === true) assumed.push(p.name)
    } else if (p.kind === 'resource' && p.attachedTo.some(a => governs(a, resource))) {
      out.push(applied(p, 'resource', p.attachedTo[0]!, resourceAccount))
    }
  }
  return { policies: out, principal: sp, missing, assumed }
}
