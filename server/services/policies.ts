/**
 * Policy snapshots as a service: importing the exports into per-account snapshots, the `policies`
 * object of a stored denial (with its fix verified against the principal's other denials), what-if,
 * and the list of policies with the denials each decides or nearly allowed.
 */
import type { Repositories } from '../db/index.js'
import type { StoredSnapshot } from '../db/repositories/policies.js'
import type { DenialDetail } from '../authz/types.js'
import { analyse, FixLimits, prepare, evaluatePrepared, whatIf, type OtherDenial, type PoliciesAnalysis, type SnapshotInfo } from '../authz/evaluate/analysis.js'
import { readPolicyDocument, PolicyDocumentError } from '../authz/evaluate/document.js'
import { mergeContent, readExport, supersede, type Rejected, type SnapshotContent, type SnapshotPolicy } from '../authz/evaluate/snapshot.js'
import type { PolicyDocument } from '../authz/evaluate/types.js'
import { BadPolicyDocumentError, NoPolicySnapshotError, UnknownPolicyError } from '../errors.js'

export interface PolicyImportOptions {
  /** Accounts SCPs, RCPs and resource policies apply to (--account); none: every account known. */
  accounts: string[]
  takenAt: string | null
  /** What a bucket policy or bare document is attached to (--resource). */
  resource: string | null
}

export interface PolicyImportSummary {
  policies: number
  principals: number
  rejected: Rejected[]
  snapshot: { id: number, takenAt: string } | null
  snapshots: Array<{ id: number, account: string, takenAt: string }>
  /** Said when SCPs or RCPs were applied to every account because no --account was given. */
  assumed: string | null
}

const accountOf = (arn: string | null): string | null => {
  const a = arn?.split(':')[4]
  return a !== undefined && /^\d{12}$/.test(a) ? a : null
}

/** Import export files (already read as text) into one new snapshot per account they concern. */
export function importPolicies (repos: Repositories, files: Array<{ source: string, text: string }>, opts: PolicyImportOptions): PolicyImportSummary {
  const rejected: Rejected[] = []
  const details = new Map<string, SnapshotContent>()
  const scps: SnapshotPolicy[] = []
  const rcps: SnapshotPolicy[] = []
  const resources: SnapshotPolicy[] = []
  const sources = new Map<string, Set<string>>()
  const touch = (account: string, source: string): void => { sources.set(account, (sources.get(account) ?? new Set()).add(source)) }
  const orgSources: string[] = []
  const resourceSources: Array<{ policy: SnapshotPolicy, source: string }> = []
  let policies = 0
  let principals = 0
  for (const f of files) {
    const r = readExport(f.text, f.source, opts.resource)
    rejected.push(...r.rejected)
    for (const part of r.parts) {
      if (part.kind === 'authorization-details') {
        const accounts = part.accounts.length > 0 ? part.accounts : opts.accounts
        if (accounts.length === 0) { rejected.push({ source: f.source, reason: 'UserDetailList/RoleDetailList: no principal ARN names the account; give --account' }); continue }
        for (const a of accounts) {
          const mine: SnapshotContent = {
            principals: part.content.principals.filter(p => (p.account ?? a) === a),
            groups: part.content.groups.filter(g => (accountOf(g.arn) ?? a) === a),
            policies: part.content.policies
          }
          details.set(a, mergeContent(details.get(a) ?? { principals: [], groups: [], policies: [] }, mine))
          touch(a, f.source)
        }
        policies += part.content.policies.length
        principals += part.content.principals.length
      } else if (part.kind === 'org-policy') {
        (part.policy.kind === 'scp' ? scps : rcps).push(part.policy)
        orgSources.push(f.source)
        policies++
      } else {
        resources.push(part.policy)
        resourceSources.push({ policy: part.policy, source: f.source })
        policies++
      }
    }
  }
  const known = [...new Set([...details.keys(), ...repos.policies.accounts()])].sort()
  const assumedAll = opts.accounts.length === 0
  let assumed: string | null = null
  const orgAccounts = assumedAll ? known : opts.accounts
  if (scps.length + rcps.length > 0) {
    if (orgAccounts.length === 0) {
      for (const s of orgSources) rejected.push({ source: s, reason: 'Policy: no account to apply it to: give --account, or import the authorization details first' })
    } else {
      for (const a of orgAccounts) for (const s of orgSources) touch(a, s)
      if (assumedAll) assumed = `Service and resource control policies were applied to every account in the snapshots (${orgAccounts.join(', ')}): no --account was given.`
    }
  }
  const resourceAccounts = new Map<SnapshotPolicy, string[]>()
  for (const { policy, source } of resourceSources) {
    const accts = opts.accounts.length > 0 ? opts.accounts : [accountOf(policy.attachedTo[0] ?? null)].filter((x): x is string => x !== null)
    const list = accts.length > 0 ? accts : known.length === 1 ? known : []
    if (list.length === 0) { rejected.push({ source, reason: `Policy: which account owns ${policy.attachedTo[0] ?? 'the resource'} is not in its ARN: give --account` }); continue }
    resourceAccounts.set(policy, list)
    for (const a of list) touch(a, source)
  }
  const takenAt = opts.takenAt ?? new Date().toISOString()
  const snapshots: PolicyImportSummary['snapshots'] = []
  for (const [account, srcs] of sources) {
    const base = repos.policies.latestFor(account)
    const withScope = (ps: SnapshotPolicy[]): SnapshotPolicy[] | null => ps.length === 0 || !orgAccounts.includes(account) ? null : ps.map(p => ({ ...p, attachedTo: [account], ...(assumedAll ? { assumedScope: true } : {}) }))
    const content = supersede(base?.content ?? null, {
      details: details.get(account) ?? null,
      scps: withScope(scps),
      rcps: withScope(rcps),
      resources: resources.filter(p => resourceAccounts.get(p)?.includes(account))
    })
    const saved = repos.policies.save(account, takenAt, content, [...srcs])
    snapshots.push({ id: saved.id, account, takenAt: saved.takenAt })
  }
  const first = snapshots[0]
  return { policies, principals, rejected, snapshot: first ? { id: first.id, takenAt: first.takenAt } : null, snapshots, assumed }
}

/** The snapshot that decides a denial: its principal's account's newest, plus the resource policies of the resource's account. */
function snapshotFor (repos: Repositories, d: Pick<DenialDetail, 'principal' | 'resource' | 'conditions'>, cache?: Map<string, StoredSnapshot | null>): StoredSnapshot | null {
  const account = d.principal.account
  if (account === null) return null
  const latest = (a: string): StoredSnapshot | null => {
    if (!cache) return repos.policies.latestFor(a)
    if (!cache.has(a)) cache.set(a, repos.policies.latestFor(a))
    const c = cache.get(a) ?? null
    return c ? { ...c, content: { ...c.content } } : null
  }
  const snap = latest(account)
  if (snap === null) return null
  const resourceAccount = d.conditions.find(c => c.key.toLowerCase() === 'aws:account')?.values[0] ?? accountOf(d.resource)
  if (resourceAccount && resourceAccount !== account) {
    const other = latest(resourceAccount)
    if (other) snap.content = { ...snap.content, policies: [...snap.content.policies, ...other.content.policies.filter(p => p.kind === 'resource' || p.kind === 'rcp')] }
  }
  return snap
}

const info = (s: StoredSnapshot): SnapshotInfo => ({ id: s.id, takenAt: s.takenAt, account: s.account, content: s.content })

export type PoliciesView = PoliciesAnalysis & { policyIds: Record<string, number> }

/** The `policies` object of GET /api/denials/:id (and the page, and `whydenied explain`). */
export function policiesOf (repos: Repositories, d: DenialDetail, cache?: Map<string, StoredSnapshot | null>): PoliciesView {
  const snap = snapshotFor(repos, d, cache)
  if (snap === null) return { ...analyse(d, null), policyIds: {} }
  const principal = d.principal.roleArn ?? d.principal.arn
  const others: OtherDenial[] = []
  if (principal !== null) {
    for (const id of repos.policies.denialIdsOfPrincipal(principal, FixLimits.otherDenials + 1)) {
      if (id === d.id) continue
      const o = repos.denials.get(id)
      if (o) others.push({ id, decision: o.decision, prepared: prepare(o, snap.content) })
    }
  }
  return { ...analyse(d, info(snap), others), policyIds: Object.fromEntries(snap.policyIds) }
}

/** Parse the documents of a what-if: each names the policy it replaces (ARN, name or ref). */
export function readReplacements (items: Array<{ policy: string, document: unknown, field: string }>): Array<{ policy: string, document: PolicyDocument }> {
  return items.map(i => {
    try {
      return { policy: i.policy, document: readPolicyDocument(i.document, i.field) }
    } catch (err) {
      if (err instanceof PolicyDocumentError) throw new BadPolicyDocumentError(err.message)
      throw err
    }
  })
}

export interface WhatIfResult { decision: string, deciding: ReturnType<typeof whatIf>['deciding'], reasons: string[] }

/** Evaluate the stored request with some policies replaced. */
export function whatIfOf (repos: Repositories, d: DenialDetail, replacements: Array<{ policy: string, document: PolicyDocument }>): WhatIfResult {
  const snap = snapshotFor(repos, d)
  if (snap === null) throw new NoPolicySnapshotError(d.principal.account ?? '(unknown account)')
  const r = whatIf(d, info(snap), replacements)
  if (r.unmatched.length > 0) throw new UnknownPolicyError(`No policy that applies to this request is named ${r.unmatched.map(u => JSON.stringify(u)).join(', ')}: give its ARN, or its name as the snapshot has it`)
  return { decision: r.decision, deciding: r.deciding, reasons: r.reasons }
}

export interface PolicyStatementMarks { decides: Map<number, number[]>, near: Map<number, number[]> }

export interface PolicyListItem {
  id: number
  snapshotId: number
  account: string
  takenAt: string
  name: string
  arn: string | null
  type: string
  attachedTo: string[]
  assumedScope: boolean
  decides: number[]
  nearlyAllowed: number[]
  /** Statement index → the denials it decides / nearly allowed. */
  marks: PolicyStatementMarks
}

/** Bound on the denials evaluated for the list's counts. */
export const LIST_DENIAL_LIMIT = 2000

/** Every policy of each account's snapshot in force, with the denials it decides or nearly allowed. */
export function listPolicies (repos: Repositories): PolicyListItem[] {
  const items: PolicyListItem[] = []
  for (const snap of repos.policies.latestAll()) {
    const decides = new Map<string, Set<number>>()
    const near = new Map<string, Set<number>>()
    const marks = new Map<string, PolicyStatementMarks>()
    const add = (m: Map<string, Set<number>>, ref: string, id: number): void => { m.set(ref, (m.get(ref) ?? new Set()).add(id)) }
    const mark = (ref: string, kind: keyof PolicyStatementMarks, index: number | null, id: number): void => {
      if (index === null) return
      const m = marks.get(ref) ?? { decides: new Map(), near: new Map() }
      marks.set(ref, m)
      const list = m[kind].get(index) ?? []
      if (!list.includes(id)) list.push(id)
      m[kind].set(index, list)
    }
    for (const id of repos.policies.denialIdsOfAccount(snap.account, LIST_DENIAL_LIMIT)) {
      const d = repos.denials.get(id)
      if (!d) continue
      const e = evaluatePrepared(prepare(d, snap.content))
      for (const x of e.deciding) {
        if (e.decision !== d.decision) continue
        add(decides, x.ref, id)
        mark(x.ref, 'decides', x.statementIndex, id)
      }
      for (const n of e.nearest) {
        add(near, n.ref, id)
        mark(n.ref, 'near', n.statementIndex, id)
      }
    }
    const boundaries = new Set(snap.content.principals.map(p => p.boundary).filter((b): b is string => b !== null))
    for (const p of snap.content.policies) {
      const type = p.kind === 'managed' ? (boundaries.has(p.ref) && p.attachedTo.length === 0 ? 'boundary' : 'identity') : p.kind === 'inline' ? 'identity' : p.kind
      const usedAsBoundary = snap.content.principals.filter(x => x.boundary === p.ref).map(x => x.arn)
      items.push({
        id: snap.policyIds.get(p.ref)!,
        snapshotId: snap.id,
        account: snap.account,
        takenAt: snap.takenAt,
        name: p.name,
        arn: p.arn,
        type,
        attachedTo: [...p.attachedTo, ...usedAsBoundary.map(a => `${a} (boundary)`)],
        assumedScope: p.assumedScope === true,
        decides: [...(decides.get(p.ref) ?? [])],
        nearlyAllowed: [...(near.get(p.ref) ?? [])],
        marks: marks.get(p.ref) ?? { decides: new Map(), near: new Map() }
      })
    }
  }
  return items
}

/** A team report's "suggested fix" in the resolved policy (see reports/build.ts). */
export interface ResolvedFix { policy: string, policyType: string, kind: string, verified: boolean, note: string, json: string }

/** For team reports: the fix of a stored denial in the policy the snapshot resolves (null: no snapshot, or no fix). Snapshots are read once per report. */
export function fixResolver (repos: Repositories): (denialId: number) => ResolvedFix | null {
  const cache = new Map<string, StoredSnapshot | null>()
  return (id) => {
    // No snapshot for the principal's account (snapshotFor's first test): no fix, and the whole denial
    // (its latest 1,000 occurrences, events, raw text) is not read. A report asks for each group it
    // lists: at 1M denials without snapshots this was a tenth of a team report's time.
    const account = repos.denials.principalAccount(id)
    if (account === undefined || account === null) return null
    if (!cache.has(account)) cache.set(account, repos.policies.latestFor(account))
    if (cache.get(account) === null) return null
    const d = repos.denials.get(id)
    if (!d) return null
    const f = policiesOf(repos, d, cache).fix
    if (f === null) return null
    const attached = f.policyArn === null && f.current !== null ? ' (inline)' : f.current === null ? ' (new)' : ''
    return { policy: `${f.policyArn ?? f.policyName}${attached}`, policyType: f.policyType, kind: f.kind, verified: f.verified, note: f.note, json: JSON.stringify(f.document, null, 2) }
  }
}
