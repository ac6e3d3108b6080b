/** Policy snapshots: stored per account (the newest is in force, older ones are kept), with their policies, and the denials they are evaluated for. */
import type { DB } from '../connection.js'
import type { SnapshotContent, SnapshotGroup, SnapshotPolicy, SnapshotPrincipal, StoredPolicyKind } from '../../authz/evaluate/snapshot.js'
import { readPolicyDocument } from '../../authz/evaluate/document.js'

export interface SnapshotMeta { id: number, account: string, takenAt: string, importedAt: string, sources: string[] }
export interface StoredSnapshot extends SnapshotMeta { content: SnapshotContent, policyIds: Map<string, number> }
export interface StoredPolicyRow { id: number, snapshotId: number, account: string, takenAt: string, ref: string, kind: StoredPolicyKind, arn: string | null, name: string, attachedTo: string[], assumedScope: boolean, versionId: string | null, document: SnapshotPolicy['document'] }

interface SnapshotRow { id: number, account: string, taken_at: string, imported_at: string, principals: string, sources: string }
interface PolicyRow { id: number, snapshot_id: number, ref: string, kind: StoredPolicyKind, arn: string | null, name: string, attached_to: string, assumed_scope: number, version_id: string | null, document: string }

const meta = (r: SnapshotRow): SnapshotMeta => ({ id: r.id, account: r.account, takenAt: r.taken_at, importedAt: r.imported_at, sources: JSON.parse(r.sources) as string[] })

function toPolicy (r: PolicyRow): SnapshotPolicy {
  const p: SnapshotPolicy = { ref: r.ref, kind: r.kind, arn: r.arn, name: r.name, attachedTo: JSON.parse(r.attached_to) as string[], document: readPolicyDocument(JSON.parse(r.document)) }
  if (r.assumed_scope === 1) p.assumedScope = true
  if (r.version_id !== null) p.versionId = r.version_id
  return p
}

export class PoliciesRepository {
  private readonly insertSnapshot
  private readonly insertPolicy
  private readonly latestRow
  private readonly latestPerAccount
  private readonly policiesOf
  private readonly policyRow
  private readonly snapshotRow
  private readonly accountRows
  private readonly principalDenials
  private readonly accountDenials

  constructor (private readonly db: DB) {
    this.insertSnapshot = db.prepare<{ account: string, taken: string, imported: string, principals: string, sources: string }, never>(
      'INSERT INTO policy_snapshots (account, taken_at, imported_at, principals, sources) VALUES (@account, @taken, @imported, @principals, @sources)')
    this.insertPolicy = db.prepare<{ snapshot: number, ref: string, kind: string, arn: string | null, name: string, attached: string, assumed: number, version: string | null, document: string }, never>(
      'INSERT INTO snapshot_policies (snapshot_id, ref, kind, arn, name, attached_to, assumed_scope, version_id, document) VALUES (@snapshot, @ref, @kind, @arn, @name, @attached, @assumed, @version, @document)')
    this.latestRow = db.prepare<[string], SnapshotRow>('SELECT * FROM policy_snapshots WHERE account = ? ORDER BY taken_at DESC, id DESC LIMIT 1')
    this.latestPerAccount = db.prepare<[], SnapshotRow>(`
      SELECT s.* FROM policy_snapshots s
      WHERE s.id = (SELECT id FROM policy_snapshots x WHERE x.account = s.account ORDER BY taken_at DESC, id DESC LIMIT 1)
      ORDER BY s.account`)
    this.policiesOf = db.prepare<[number], PolicyRow>('SELECT * FROM snapshot_policies WHERE snapshot_id = ? ORDER BY id')
    this.policyRow = db.prepare<[number], PolicyRow>('SELECT * FROM snapshot_policies WHERE id = ?')
    this.snapshotRow = db.prepare<[number], SnapshotRow>('SELECT * FROM policy_snapshots WHERE id = ?')
    this.accountRows = db.prepare<[], { account: string }>('SELECT DISTINCT account FROM policy_snapshots ORDER BY account')
    this.principalDenials = db.prepare<{ arn: string, limit: number }, { id: number }>(
      'SELECT id FROM denials WHERE principal_arn = @arn OR role_arn = @arn ORDER BY last_seen DESC, id DESC LIMIT @limit')
    this.accountDenials = db.prepare<{ account: string, limit: number }, { id: number }>(
      'SELECT id FROM denials WHERE principal_account = @account ORDER BY last_seen DESC, id DESC LIMIT @limit')
  }

  /** Store one account's snapshot and its policies in one transaction. */
  save (account: string, takenAt: string, content: SnapshotContent, sources: string[]): SnapshotMeta {
    const importedAt = new Date().toISOString()
    const id = this.db.transaction(() => {
      const principals = JSON.stringify({ principals: content.principals, groups: content.groups })
      const sid = Number(this.insertSnapshot.run({ account, taken: takenAt, imported: importedAt, principals, sources: JSON.stringify(sources) }).lastInsertRowid)
      for (const p of content.policies) {
        this.insertPolicy.run({ snapshot: sid, ref: p.ref, kind: p.kind, arn: p.arn, name: p.name, attached: JSON.stringify(p.attachedTo), assumed: p.assumedScope === true ? 1 : 0, version: p.versionId ?? null, document: JSON.stringify(p.document) })
      }
      return sid
    })()
    return { id, account, takenAt, importedAt, sources }
  }

  private load (r: SnapshotRow | undefined): StoredSnapshot | null {
    if (!r) return null
    const rows = this.policiesOf.all(r.id)
    const parsed = JSON.parse(r.principals) as { principals: SnapshotPrincipal[], groups: SnapshotGroup[] }
    return { ...meta(r), content: { principals: parsed.principals, groups: parsed.groups, policies: rows.map(toPolicy) }, policyIds: new Map(rows.map(x => [x.ref, x.id])) }
  }

  /** The snapshot in force for an account: the newest by taken_at. */
  latestFor (account: string): StoredSnapshot | null {
    return this.load(this.latestRow.get(account))
  }

  /** Each account's snapshot in force. */
  latestAll (): StoredSnapshot[] {
    return this.latestPerAccount.all().map(r => this.load(r)!)
  }

  accounts (): string[] {
    return this.accountRows.all().map(r => r.account)
  }

  policy (id: number): StoredPolicyRow | null {
    const r = this.policyRow.get(id)
    if (!r) return null
    const s = this.snapshotRow.get(r.snapshot_id)!
    const p = toPolicy(r)
    return { id: r.id, snapshotId: r.snapshot_id, account: s.account, takenAt: s.taken_at, ref: p.ref, kind: p.kind, arn: p.arn, name: p.name, attachedTo: p.attachedTo, assumedScope: p.assumedScope === true, versionId: p.versionId ?? null, document: p.document }
  }

  /** Ids of a principal's stored denials (by principal or role ARN), newest first. */
  denialIdsOfPrincipal (arn: string, limit: number): number[] {
    return this.principalDenials.all({ arn, limit }).map(r => r.id)
  }

  /** Ids of the denials of an account's principals, newest first. */
  denialIdsOfAccount (account: string, limit: number): number[] {
    return this.accountDenials.all({ account, limit }).map(r => r.id)
  }
}
