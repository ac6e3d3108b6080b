/** CloudTrail events: an occurrence's identity (eventID) and context, encoded messages waiting to be decoded, and moving an occurrence to its decoded denial. */
import type { DB } from '../connection.js'
import type { EventContext } from '../../authz/types.js'
import { createHash } from 'node:crypto'
import { FACET_COLUMNS, facetsOfRow, type FacetRow, type Rollups } from './rollups.js'

export interface PendingEvent { id: number, eventId: string, eventTime: string, token: string, occurrenceId: number }

export const sha256 = (token: string): Buffer => createHash('sha256').update(token).digest()

export class EventsRepository {
  private readonly insertEvent
  private readonly attachStmt
  private readonly pendingStmt
  private readonly pendingCountStmt
  private readonly cacheGet
  private readonly cachePut
  private readonly setState
  private readonly occurrenceOf
  private readonly moveOccurrence
  private readonly dropOccurrence
  private readonly bumpTo
  private readonly recount
  private readonly facetsOf
  private readonly deleteTerms
  private readonly deleteDenial
  private readonly insertEncoded
  private readonly pendingByToken

  constructor (db: DB, private readonly rollups: Rollups) {
    this.insertEvent = db.prepare<unknown[], { id: number }>(`INSERT OR IGNORE INTO events (event_id, event_time, event_source, event_name, error_code, region, source_ip, user_agent, token, token_sha256, token_state)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
    this.attachStmt = db.prepare('UPDATE events SET occurrence_id = ? WHERE id = ?')
    this.pendingStmt = db.prepare<[number, number], { id: number, event_id: string, event_time: string, token: string, occurrence_id: number }>(
      `SELECT id, event_id, event_time, token, occurrence_id FROM events INDEXED BY idx_events_pending
       WHERE token_state = 'pending' AND id > ? AND occurrence_id IS NOT NULL ORDER BY id LIMIT ?`)
    this.pendingCountStmt = db.prepare<[], number>("SELECT count(*) FROM events WHERE token_state = 'pending'").pluck()
    this.cacheGet = db.prepare<[Buffer], string>('SELECT decoded FROM token_cache WHERE sha256 = ?').pluck()
    this.cachePut = db.prepare('INSERT OR REPLACE INTO token_cache (sha256, decoded) VALUES (?, ?)')
    this.setState = db.prepare("UPDATE events SET token_state = ?, token = CASE WHEN ? = 'pending' THEN token ELSE NULL END WHERE id = ?")
    this.occurrenceOf = db.prepare<[number], { denial_id: number, observed_at: string }>('SELECT denial_id, observed_at FROM occurrences WHERE id = ?')
    this.moveOccurrence = db.prepare('UPDATE OR IGNORE occurrences SET denial_id = ? WHERE id = ?')
    this.dropOccurrence = db.prepare('DELETE FROM occurrences WHERE id = ?')
    this.bumpTo = db.prepare<{ id: number, t: string }, string>(
      `UPDATE denials SET occurrences = occurrences + 1, first_seen = CASE WHEN occurrences = 0 THEN @t ELSE min(first_seen, @t) END,
      last_seen = CASE WHEN occurrences = 0 THEN @t ELSE max(last_seen, @t) END WHERE id = @id RETURNING last_seen`).pluck()
    this.recount = db.prepare(`UPDATE denials SET occurrences = (SELECT count(*) FROM occurrences WHERE denial_id = @id),
      first_seen = coalesce((SELECT min(observed_at) FROM occurrences WHERE denial_id = @id), first_seen),
      last_seen = coalesce((SELECT max(observed_at) FROM occurrences WHERE denial_id = @id), last_seen) WHERE id = @id RETURNING occurrences, last_seen`)
    this.facetsOf = db.prepare<[number], FacetRow & { principal_arn: string | null, principal_id: string | null, principal_name: string | null, role_arn: string | null, action_raw: string | null, resource: string | null }>(
      `SELECT ${FACET_COLUMNS}, principal_arn, principal_id, principal_name, role_arn, action_raw, resource FROM denials WHERE id = ?`)
    // denial_terms is keyed by string first (q's lookup): a denial's rows are found through its strings.
    this.deleteTerms = db.prepare(`DELETE FROM denial_terms WHERE denial_id = @id
      AND string_id IN (SELECT id FROM strings WHERE value IN (@principal_arn, @principal_id, @principal_name, @role_arn, @action, @action_raw, @resource))`)
    this.deleteDenial = db.prepare('DELETE FROM denials WHERE id = ?')
    this.insertEncoded = db.prepare('INSERT OR IGNORE INTO encoded_messages (sha256) VALUES (?)')
    this.pendingByToken = db.prepare<[Buffer], { id: number, occurrence_id: number }>(
      "SELECT id, occurrence_id FROM events WHERE token_sha256 = ? AND token_state = 'pending' AND occurrence_id IS NOT NULL")
  }

  /** Record an event (inside the writer's transaction); undefined when its eventID is already stored: a duplicate. */
  claim (e: EventContext): number | undefined {
    return this.insertEvent.get(e.eventId, e.eventTime, e.eventSource, e.eventName, e.errorCode, e.region, e.sourceIp, e.userAgent,
      e.tokenState === 'pending' ? e.token : null, e.token !== null ? sha256(e.token) : null, e.tokenState)?.id
  }

  attach (eventRow: number, occurrenceId: number): void {
    this.attachStmt.run(occurrenceId, eventRow)
  }

  /** Events whose encoded message waits to be decoded, in id order after `after`. */
  pending (after: number, limit: number): PendingEvent[] {
    return this.pendingStmt.all(after, limit).map(r => ({ id: r.id, eventId: r.event_id, eventTime: r.event_time, token: r.token, occurrenceId: r.occurrence_id }))
  }

  pendingCount (): number {
    return this.pendingCountStmt.get() ?? 0
  }

  /** A decoded message by its token's SHA-256: each token is sent to STS once. */
  cached (token: string): string | undefined {
    return this.cacheGet.get(sha256(token))
  }

  cache (token: string, decoded: string): void {
    this.cachePut.run(sha256(token), decoded)
  }

  markUndecodable (eventRow: number): void {
    this.setState.run('undecodable', 'undecodable', eventRow)
  }

  /** The pending events whose encoded message is this one (`decode --store` of a message CloudTrail recorded). */
  pendingFor (tokenSha256: Buffer): Array<{ id: number, occurrenceId: number }> {
    return this.pendingByToken.all(tokenSha256).map(r => ({ id: r.id, occurrenceId: r.occurrence_id }))
  }

  /**
   * Move an event's occurrence from its text denial to the decoded denial `to` (call inside the
   * writer's transaction, which writes the rollups' deltas): the event is counted once, under what it
   * was decoded to. A text denial left with no occurrence is deleted.
   */
  relink (eventRow: number, occurrenceId: number, to: number, tokenSha256: Buffer): void {
    const occ = this.occurrenceOf.get(occurrenceId)
    this.setState.run('decoded', 'decoded', eventRow)
    // Decoding the same message again (decode --store) is then a duplicate of this occurrence.
    this.insertEncoded.run(tokenSha256)
    if (occ === undefined || occ.denial_id === to) return
    const from = this.facetsOf.get(occ.denial_id)!
    this.rollups.occurrences(occ.observed_at, from.principal, from.principal_account, -1)
    if (this.moveOccurrence.run(to, occurrenceId).changes === 0) this.dropOccurrence.run(occurrenceId)
    else {
      const target = this.facetsOf.get(to)!
      this.rollups.occurrences(occ.observed_at, target.principal, target.principal_account, 1)
      this.rollups.lastSeenMoved(target.last_seen, this.bumpTo.get({ id: to, t: occ.observed_at })!)
    }
    const left = this.recount.get({ id: occ.denial_id }) as { occurrences: number, last_seen: string }
    this.rollups.lastSeenMoved(from.last_seen, left.last_seen)
    if (left.occurrences === 0) {
      // Its conditions, statements, failures and message go with it (ON DELETE CASCADE); its
      // strings stay in the dictionary, where q finds them but no denial refers to them.
      this.deleteTerms.run({ id: occ.denial_id, ...from })
      this.deleteDenial.run(occ.denial_id)
      this.rollups.denialRemoved(facetsOfRow(from), left.last_seen)
    }
  }
}
