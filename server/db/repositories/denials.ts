/** Reading denials back: one whole (parsed fields, conditions, statements, failures, latest occurrences, raw), or its id by content hash. */
import type { DB } from '../connection.js'
import type { DenialDetail, SourceEvent } from '../../authz/types.js'
import { unpackText } from '../../util/packed-text.js'
import { groupConditions, rowToPrincipal, rowToStatement, rowToSummary, type DenialRow, type StatementRow } from './denial-rows.js'

export class DenialsRepository {
  private readonly findByHash
  private readonly getRow
  private readonly getConditions
  private readonly getStatements
  private readonly getFailures
  private readonly getOccurrences
  private readonly getEvents
  private readonly getAccount

  constructor (db: DB) {
    this.findByHash = db.prepare<[string], { id: number }>('SELECT id FROM denials WHERE content_hash = ?')
    this.getAccount = db.prepare<[number], { principal_account: string | null }>('SELECT principal_account FROM denials WHERE id = ?')
    this.getRow = db.prepare<[number], DenialRow & { packed: Buffer | null }>('SELECT d.*, m.raw, m.packed FROM denials d JOIN messages m ON m.denial_id = d.id WHERE d.id = ?')
    this.getConditions = db.prepare<[number], { key: string, value: string }>(`SELECT ks.value AS key, vs.value AS value FROM conditions c JOIN strings ks ON ks.id = c.key_sid JOIN strings vs ON vs.id = c.value_id
       WHERE c.denial_id = ? ORDER BY c.position`)
    this.getStatements = db.prepare<[number], StatementRow>(
      'SELECT statement_id, effect, principals, principal_groups, actions, resources, conditions FROM statements WHERE denial_id = ? ORDER BY position')
    this.getFailures = db.prepare<[number], { detail: string }>('SELECT detail FROM failures WHERE denial_id = ? ORDER BY position')
    this.getOccurrences = db.prepare<[number], { observed_at: string, source: string, line: number }>(
      `SELECT o.observed_at, s.name AS source, o.line FROM occurrences o JOIN sources s ON s.id = o.source_id
       WHERE o.denial_id = ? ORDER BY o.observed_at DESC, o.id DESC LIMIT 1000`)
    this.getEvents = db.prepare<[number], { event_id: string, event_time: string, event_source: string | null, event_name: string | null, error_code: string | null, region: string | null, source_ip: string | null, user_agent: string | null, token_state: SourceEvent['encodedMessage'] }>(
      `SELECT e.event_id, e.event_time, e.event_source, e.event_name, e.error_code, e.region, e.source_ip, e.user_agent, e.token_state
       FROM occurrences o JOIN events e ON e.occurrence_id = o.id WHERE o.denial_id = ? ORDER BY e.event_time DESC, e.id DESC LIMIT 100`)
  }

  /** The account of the denial's principal (null: unknown); undefined when no such denial is stored. */
  principalAccount (id: number): string | null | undefined {
    return this.getAccount.get(id)?.principal_account
  }

  /** The id of the denial with this content hash, if stored. */
  idByHash (contentHash: string): number | undefined {
    return this.findByHash.get(contentHash)?.id
  }

  get (id: number): DenialDetail | undefined {
    const r = this.getRow.get(id)
    if (!r) return undefined
    const conditions = groupConditions(this.getConditions.all(id))
    const events = this.getEvents.all(id).map((e): SourceEvent => ({
      eventId: e.event_id,
      eventTime: e.event_time,
      eventSource: e.event_source,
      eventName: e.event_name,
      errorCode: e.error_code,
      region: e.region,
      sourceIp: e.source_ip,
      userAgent: e.user_agent,
      encodedMessage: e.token_state
    }))
    const states = new Set(events.map(e => e.encodedMessage))
    return {
      ...rowToSummary(r),
      contentHash: r.content_hash,
      actionRaw: r.action_raw,
      principal: rowToPrincipal(r),
      conditions,
      statements: this.getStatements.all(id).map(rowToStatement),
      failures: this.getFailures.all(id).map(f => JSON.parse(f.detail) as unknown),
      occurrenceList: this.getOccurrences.all(id).map(o => ({ observedAt: o.observed_at, source: o.source, line: o.line })),
      events,
      encodedMessage: states.has('pending') ? 'pending' : states.has('truncated') ? 'truncated' : null,
      // Rows stored before migration 0009 hold their text in raw.
      raw: r.packed === null ? r.raw : unpackText(r.packed)
    }
  }
}
