/**
 * Policy snapshots from the exports an administrator makes once: `aws iam
 * get-account-authorization-details` (whole or in pages), `aws organizations describe-policy`
 * (SCPs and RCPs), `aws s3api get-bucket-policy` or a bare policy document (resource policies).
 * Pure: text in, a normalised snapshot out, with a reason naming the file and field for each part
 * that cannot be used (the rest is kept).
 */
import { PolicyDocumentError, readPolicyDocument } from './document.js'
import type { PolicyDocument } from './types.js'

export const SnapshotLimits = {
  /** One export file: real ones for large accounts are a few MiB. */
  maxFileBytes: 64 * 1024 * 1024,
  maxPrincipals: 20000,
  maxPolicies: 20000
} as const

export type StoredPolicyKind = 'managed' | 'inline' | 'scp' | 'rcp' | 'resource'

export interface SnapshotPolicy {
  /** Unique in a snapshot: the ARN (managed, SCP, RCP), `inline:OWNER_ARN:NAME`, or `resource:ARN`. */
  ref: string
  kind: StoredPolicyKind
  arn: string | null
  name: string
  /** Principal or group ARNs (managed, inline), account IDs (SCP, RCP), resource ARN (resource). */
  attachedTo: string[]
  document: PolicyDocument
  /** For SCPs and RCPs imported without --account: applied to every account by assumption. */
  assumedScope?: boolean
  versionId?: string
}

export interface SnapshotPrincipal {
  arn: string
  type: 'user' | 'role'
  name: string
  id: string | null
  account: string | null
  /** Group ARNs (users). */
  groups: string[]
  /** Refs of inline policies and ARNs of attached managed policies. */
  policies: string[]
  boundary: string | null
  tags: Record<string, string>
}

export interface SnapshotGroup { arn: string, name: string, policies: string[] }

export interface SnapshotContent {
  principals: SnapshotPrincipal[]
  groups: SnapshotGroup[]
  policies: SnapshotPolicy[]
}

export interface Rejected { source: string, reason: string }

/** What one export file holds, before it is merged into per-account snapshots. */
export type ExportPart =
  | { kind: 'authorization-details', content: SnapshotContent, accounts: string[] }
  | { kind: 'org-policy', policy: SnapshotPolicy }
  | { kind: 'resource', policy: SnapshotPolicy }

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const text = (v: unknown): string | null => typeof v === 'string' && v.length <= 2048 ? v : null
const accountOf = (arn: string | null): string | null => {
  const a = arn?.split(':')[4]
  return a !== undefined && /^\d{12}$/.test(a) ? a : null
}

class FieldError extends Error {
  constructor (readonly field: string, reason: string) { super(reason) }
}

function list (v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new FieldError(field, 'expected a list')
  return v
}

function need (o: Obj, key: string, field: string): string {
  const v = text(o[key])
  if (v === null) throw new FieldError(`${field}.${key}`, 'missing or not a string')
  return v
}

function tagsOf (v: unknown, field: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [i, t] of list(v, field).entries()) {
    if (!isObj(t)) throw new FieldError(`${field}[${i}]`, 'expected {"Key", "Value"}')
    out[need(t, 'Key', `${field}[${i}]`)] = text(t.Value) ?? ''
  }
  return out
}

/** One page (or the whole) of get-account-authorization-details. */
function authorizationDetails (value: Obj, source: string, rejected: Rejected[]): ExportPart {
  const content: SnapshotContent = { principals: [], groups: [], policies: [] }
  const keep = <T>(f: () => T): T | null => {
    try {
      return f()
    } catch (err) {
      if (err instanceof FieldError) rejected.push({ source, reason: `${err.field}: ${err.message}` })
      else if (err instanceof PolicyDocumentError) rejected.push({ source, reason: err.message })
      else throw err
      return null
    }
  }
  const inline = (owner: string, entries: unknown, field: string): string[] => {
    const refs: string[] = []
    for (const [i, p] of list(entries, field).entries()) {
      keep(() => {
        if (!isObj(p)) throw new FieldError(`${field}[${i}]`, 'expected {"PolicyName", "PolicyDocument"}')
        const name = need(p, 'PolicyName', `${field}[${i}]`)
        const document = readPolicyDocument(p.PolicyDocument, `${field}[${i}].PolicyDocument`)
        const ref = `inline:${owner}:${name}`
        content.policies.push({ ref, kind: 'inline', arn: null, name, attachedTo: [owner], document })
        refs.push(ref)
      })
    }
    return refs
  }
  const attached = (entries: unknown, field: string): string[] =>
    list(entries, field).flatMap((p, i) => keep(() => {
      if (!isObj(p)) throw new FieldError(`${field}[${i}]`, 'expected {"PolicyName", "PolicyArn"}')
      return [need(p, 'PolicyArn', `${field}[${i}]`)]
    }) ?? [])

  /** Each object of a list, with its "Arn" and its name; a bad entry is rejected alone, naming its field. */
  const eachNamed = (entries: unknown, field: string, what: string, nameKey: string, fn: (o: Obj, f: string, arn: string, name: string) => void): void => {
    for (const [i, o] of list(entries, field).entries()) {
      const f = `${field}[${i}]`
      keep(() => {
        if (!isObj(o)) throw new FieldError(f, `expected ${what}`)
        const arn = need(o, 'Arn', f)
        fn(o, f, arn, need(o, nameKey, f))
      })
    }
  }

  const groupArns = new Map<string, string>()
  eachNamed(value.GroupDetailList, 'GroupDetailList', 'a group object', 'GroupName', (g, f, arn, name) => {
    groupArns.set(name, arn)
    content.groups.push({ arn, name, policies: [...inline(arn, g.GroupPolicyList, `${f}.GroupPolicyList`), ...attached(g.AttachedManagedPolicies, `${f}.AttachedManagedPolicies`)] })
  })
  const principal = (type: 'user' | 'role') => (p: Obj, f: string, arn: string, name: string): void => {
    const pb = p.PermissionsBoundary
    const boundary = isObj(pb) ? text(pb.PermissionsBoundaryArn) : null
    const groups = type === 'user' ? list(p.GroupList, `${f}.GroupList`).map((g, j) => { const n = text(g); if (n === null) throw new FieldError(`${f}.GroupList[${j}]`, 'expected a group name'); return n }) : []
    const policies = [
      ...inline(arn, type === 'user' ? p.UserPolicyList : p.RolePolicyList, `${f}.${type === 'user' ? 'UserPolicyList' : 'RolePolicyList'}`),
      ...attached(p.AttachedManagedPolicies, `${f}.AttachedManagedPolicies`)
    ]
    content.principals.push({
      arn,
      type,
      name,
      id: text(p[type === 'user' ? 'UserId' : 'RoleId']),
      account: accountOf(arn),
      groups: groups.map(g => groupArns.get(g) ?? `group:${g}`),
      policies,
      boundary,
      tags: tagsOf(p.Tags, `${f}.Tags`)
    })
  }
  eachNamed(value.UserDetailList, 'UserDetailList', 'a user object', 'UserName', principal('user'))
  eachNamed(value.RoleDetailList, 'RoleDetailList', 'a role object', 'RoleName', principal('role'))
  eachNamed(value.Policies, 'Policies', 'a managed policy object', 'PolicyName', (p, f, arn, name) => {
    const versions = list(p.PolicyVersionList, `${f}.PolicyVersionList`)
    // Only the default version is in force; the others are history.
    const at = versions.findIndex(v => isObj(v) && v.IsDefaultVersion === true)
    if (at < 0) throw new FieldError(`${f}.PolicyVersionList`, 'no version has "IsDefaultVersion": true')
    const v = versions[at] as Obj
    const document = readPolicyDocument(v.Document, `${f}.PolicyVersionList[${at}].Document`)
    content.policies.push({ ref: arn, kind: 'managed', arn, name, attachedTo: [], document, versionId: text(v.VersionId) ?? undefined })
  })
  // Which principals and groups each managed policy is attached to, for the list page.
  const byArn = new Map(content.policies.filter(p => p.kind === 'managed').map(p => [p.arn!, p]))
  for (const x of [...content.principals, ...content.groups]) for (const ref of x.policies) byArn.get(ref)?.attachedTo.push(x.arn)
  const accounts = [...new Set([...content.principals, ...content.groups].map(x => accountOf(x.arn)).filter((a): a is string => a !== null))]
  return { kind: 'authorization-details', content, accounts }
}

/** describe-policy output: {"Policy": {"PolicySummary": {...}, "Content": "<JSON text>"}}. */
function orgPolicy (value: Obj, source: string): ExportPart {
  const p = value.Policy as Obj
  const summary = p.PolicySummary
  if (!isObj(summary)) throw new FieldError('Policy.PolicySummary', 'missing: expected the output of aws organizations describe-policy')
  const type = summary.Type
  if (type !== 'SERVICE_CONTROL_POLICY' && type !== 'RESOURCE_CONTROL_POLICY') {
    throw new FieldError('Policy.PolicySummary.Type', `${JSON.stringify(type)?.slice(0, 60)} is not a policy that decides access (SERVICE_CONTROL_POLICY or RESOURCE_CONTROL_POLICY)`)
  }
  const name = need(summary, 'Name', 'Policy.PolicySummary')
  const arn = text(summary.Arn)
  if (typeof p.Content !== 'string') throw new FieldError('Policy.Content', 'expected the policy as a JSON string')
  const document = readPolicyDocument(p.Content, 'Policy.Content')
  const kind = type === 'SERVICE_CONTROL_POLICY' ? 'scp' : 'rcp'
  void source
  return { kind: 'org-policy', policy: { ref: arn ?? `${kind}:${name}`, kind, arn, name, attachedTo: [], document } }
}

/** Classify and read one export file. `resource` names what a bucket policy or bare document is attached to. */
export function readExport (textIn: string, source: string, resource: string | null): { parts: ExportPart[], rejected: Rejected[] } {
  const rejected: Rejected[] = []
  if (textIn.length > SnapshotLimits.maxFileBytes) return { parts: [], rejected: [{ source, reason: `larger than ${SnapshotLimits.maxFileBytes} bytes` }] }
  let value: unknown
  try {
    value = JSON.parse(textIn.replace(/^\uFEFF/, ''))
  } catch (err) {
    return { parts: [], rejected: [{ source, reason: `not valid JSON (${(err as Error).message.slice(0, 120)})` }] }
  }
  if (!isObj(value)) return { parts: [], rejected: [{ source, reason: 'expected a JSON object' }] }
  try {
    if ('UserDetailList' in value || 'RoleDetailList' in value || 'GroupDetailList' in value || ('Policies' in value && Array.isArray(value.Policies))) {
      const part = authorizationDetails(value, source, rejected)
      if (part.kind === 'authorization-details' && (part.content.principals.length > SnapshotLimits.maxPrincipals || part.content.policies.length > SnapshotLimits.maxPolicies)) {
        return { parts: [], rejected: [{ source, reason: `more than ${SnapshotLimits.maxPrincipals} principals or ${SnapshotLimits.maxPolicies} policies` }] }
      }
      return { parts: [part], rejected }
    }
    if (isObj(value.Policy) && ('PolicySummary' in value.Policy || 'Content' in value.Policy)) return { parts: [orgPolicy(value, source)], rejected }
    // get-bucket-policy: {"Policy": "<JSON text>"}; or a bare document.
    const doc = typeof value.Policy === 'string' ? value.Policy : 'Statement' in value ? value : null
    if (doc === null) {
      const keys = Object.keys(value).slice(0, 5).join(', ')
      throw new FieldError('(top level)', `not a policy export: expected get-account-authorization-details, describe-policy, get-bucket-policy output or a policy document, found {${keys}}`)
    }
    const field = typeof value.Policy === 'string' ? 'Policy' : 'document'
    if (resource === null) throw new FieldError(field, 'a resource policy needs --resource ARN to say what it is attached to')
    const document = readPolicyDocument(doc, field)
    const name = resource.split(':').slice(5).join(':') || resource
    return { parts: [{ kind: 'resource', policy: { ref: `resource:${resource}`, kind: 'resource', arn: null, name, attachedTo: [resource], document } }], rejected }
  } catch (err) {
    if (err instanceof FieldError) return { parts: [], rejected: [...rejected, { source, reason: `${err.field}: ${err.message}` }] }
    if (err instanceof PolicyDocumentError) return { parts: [], rejected: [...rejected, { source, reason: err.message }] }
    throw err
  }
}

/** Merge pages of get-account-authorization-details (the same policy or principal in two pages counts once). */
export function mergeContent (a: SnapshotContent, b: SnapshotContent): SnapshotContent {
  const by = <T>(xs: T[], key: (x: T) => string): T[] => [...new Map(xs.map(x => [key(x), x])).values()]
  return {
    principals: by([...a.principals, ...b.principals], p => p.arn),
    groups: by([...a.groups, ...b.groups], g => g.arn),
    policies: by([...a.policies, ...b.policies], p => p.ref)
  }
}

/**
 * The new snapshot of one account: the latest one with what this import brings replacing its like
 * (authorization details replace principals, groups, managed and inline policies; SCPs replace SCPs,
 * RCPs replace RCPs; a resource policy replaces the one on the same resource).
 */
export function supersede (base: SnapshotContent | null, add: { details: SnapshotContent | null, scps: SnapshotPolicy[] | null, rcps: SnapshotPolicy[] | null, resources: SnapshotPolicy[] }): SnapshotContent {
  const old = base ?? { principals: [], groups: [], policies: [] }
  const keep = old.policies.filter(p => {
    if (add.details && (p.kind === 'managed' || p.kind === 'inline')) return false
    if (add.scps && p.kind === 'scp') return false
    if (add.rcps && p.kind === 'rcp') return false
    if (p.kind === 'resource' && add.resources.some(r => r.ref === p.ref)) return false
    return true
  })
  return {
    principals: add.details ? add.details.principals : old.principals,
    groups: add.details ? add.details.groups : old.groups,
    policies: [...keep, ...(add.details?.policies ?? []), ...(add.scps ?? []), ...(add.rcps ?? []), ...add.resources]
  }
}
