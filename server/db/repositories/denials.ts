/** Reading denials back: one whole (parsed fields, conditions, statements, failures, latest occurrences, raw), or its id by content hash. */
import type { DB } from '../connection.js'
import type { DenialDetail } from '../../authz/types.js'
import { groupConditions, rowToPrincipal, rowToStatement, rowToSummary, type DenialRow, type StatementRow } from './denial-rows.js'

export class DenialsRepository {
  private readonly findByHash
  private readonly getRow
  private readonly getConditions
  private readonly getStatements
  private readonly getFailures
  private readonly getOccurrences

  constructor (db: DB) {
    this.findByHash = db.prepare<[string], { id: number }>('SELECT id FROM denials WHERE content_hash = ?')
    this.getRow = db.prepare<[number], DenialRow>('SELECT d.*, m.raw FROM denials d JOIN messages m ON m.denial_id = d.id WHERE d.id = ?')
    this.getConditions = db.prepare<[number], { key: string, value: string }>(`SELECT ks.value AS key, vs.value AS value FROM conditions c JOIN strings ks ON ks.id = c.key_sid JOIN strings vs ON vs.id = c.value_id
       WHERE c.denial_id = ? ORDER BY c.position`)
    this.getStatements = db.prepare<[number], StatementRow>(
      'SELECT statement_id, effect, principals, principal_groups, actions, resources, conditions FROM statements WHERE denial_id = ? ORDER BY position')
    this.getFailures = db.prepare<[number], { detail: string }>('SELECT detail FROM failures WHERE denial_id = ? ORDER BY position')
    this.getOccurrences = db.prepare<[number], { observed_at: string, source: string, line: number }>(
      `SELECT o.observed_at, s.name AS source, o.line FROM occurrences o JOIN sources s ON s.id = o.source_id
       WHERE o.denial_id = ? ORDER BY o.observed_at DESC, o.id DESC LIMIT 1000`)
  }

  /** The id of the denial with this content hash, if stored. */
  idByHash (contentHash: string): number | undefined {
    return this.findByHash.get(contentHash)?.id
  }

  get (id: number): DenialDetail | undefined {
    const r = this.getRow.get(id)
    if (!r) return undefined
    const conditions = groupConditions(this.getConditions.all(id))
    return {
      ...rowToSummary(r),
      contentHash: r.content_hash,
      actionRaw: r.action_raw,
      principal: rowToPrincipal(r),
      conditions,
      statements: this.getStatements.all(id).map(rowToStatement),
      failures: this.getFailures.all(id).map(f => JSON.parse(f.detail) as unknown),
      occurrenceList: this.getOccurrences.all(id).map(o => ({ observedAt: o.observed_at, source: o.source, line: o.line })),
      raw: r.raw
    }
  }
}
