/** Storing parsed messages: denials with their parts, occurrences, sources, condition keys and the full-text index, a batch per transaction. */
import type { DB } from '../connection.js'
import type { EventContext, ImportRecord, RejectedRecord } from '../../authz/types.js'
import type { ImportsRepository } from './imports.js'

/** What the writer needs of events.ts's EventsRepository (restated here: events.ts uses searchText from this module). */
export interface EventIdentities {
  claim: (e: EventContext) => number | undefined
  attach: (eventRow: number, occurrenceId: number) => void
  pendingFor: (tokenSha256: Buffer) => Array<{ id: number, occurrenceId: number }>
  relink: (eventRow: number, occurrenceId: number, to: number, tokenSha256: Buffer) => void
}

export type RecordOutcome = 'imported' | 'duplicate'

export class DenialWriter {
  private readonly findByHash
  private readonly insertDenial
  private readonly insertCondition
  private readonly insertStatement
  private readonly insertFailure
  private readonly insertFts
  private readonly insertOccurrence
  private readonly insertEncoded
  private readonly anyUnplaced
  private readonly claimUnplaced
  /** Whether rows migrated from schema 2 still wait to be claimed (checked once per batch). */
  private unplaced = false
  private readonly findSource
  private readonly findKey
  private readonly insertKey
  /** Lower-cased condition key → id. */
  private readonly keyIdCache = new Map<string, number>()
  private readonly insertSource
  /** Source name → id; sources repeat for every record of a file. */
  private readonly sourceIds = new Map<string, number>()
  private readonly bumpDenial
  private readonly insertMessage
  private readonly storeBatchTx

  constructor (db: DB, private readonly imports: ImportsRepository, private readonly events: EventIdentities) {
    this.findByHash = db.prepare<[string], { id: number }>('SELECT id FROM denials WHERE content_hash = ?')
    this.insertDenial = db.prepare(`INSERT INTO denials (content_hash, decision, principal_arn, principal_id, principal_name,
      principal_type, principal_account, role_arn, session_name, action, action_raw, service, resource, region, key_ids,
      statement_count, failure_count, occurrences, first_seen, last_seen, created_at, kind, policy_type, policy_arn)
      VALUES (@contentHash, @decision, @principalArn, @principalId, @principalName, @principalType, @principalAccount,
      @roleArn, @sessionName, @action, @actionRaw, @service, @resource, @region, @keyIds, @statementCount, @failureCount, 0,
      @observedAt, @observedAt, @now, @kind, @policyType, @policyArn)`)
    this.insertCondition = db.prepare('INSERT INTO conditions (denial_id, position, key, value, value_index) VALUES (?, ?, ?, ?, ?)')
    this.insertStatement = db.prepare(`INSERT INTO statements (denial_id, position, statement_id, effect, principals, principal_groups, actions, resources, conditions)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    this.insertFailure = db.prepare('INSERT INTO failures (denial_id, position, detail) VALUES (?, ?, ?)')
    this.insertFts = db.prepare('INSERT INTO denials_fts (rowid, text) VALUES (?, ?)')
    this.insertOccurrence = db.prepare(`INSERT OR IGNORE INTO occurrences (denial_id, observed_at, stamped_ms, source_id, line, item, encoded_id, import_id)
      VALUES (@id, @observedAt, @stamped, @sourceId, @line, @item, @encodedId, @importId)`)
    this.insertEncoded = db.prepare<[Buffer], { id: number }>('INSERT OR IGNORE INTO encoded_messages (sha256) VALUES (?) RETURNING id')
    this.anyUnplaced = db.prepare<[], number>('SELECT 1 FROM occurrences WHERE item < 0 LIMIT 1').pluck()
    // OR IGNORE: cannot conflict (a placed row of the same denial and place is only ever made by
    // claiming the unplaced one), but if it did, the record is then stored as usual below.
    this.claimUnplaced = db.prepare(`UPDATE OR IGNORE occurrences SET item = @item
      WHERE denial_id = @id AND source_id = @sourceId AND line = @line AND stamped_ms = @stamped AND item < 0`)
    this.findKey = db.prepare<[string], { id: number }>('SELECT id FROM condition_keys WHERE key = ?')
    this.insertKey = db.prepare<[string], { id: number }>('INSERT INTO condition_keys (key) VALUES (?) RETURNING id')
    this.findSource = db.prepare<[string], { id: number }>('SELECT id FROM sources WHERE name = ?')
    this.insertSource = db.prepare<[string], { id: number }>('INSERT INTO sources (name) VALUES (?) RETURNING id')
    this.bumpDenial = db.prepare(`UPDATE denials SET occurrences = occurrences + @n,
      first_seen = min(first_seen, @min), last_seen = max(last_seen, @max) WHERE id = @id`)
    this.insertMessage = db.prepare('INSERT INTO messages (denial_id, raw) VALUES (?, ?)')
    this.storeBatchTx = db.transaction((records: ImportRecord[], rejected: RejectedRecord[], importId: number | null, now: string, rejectedCount: number): RecordOutcome[] => {
      // Counters are bumped once per denial per batch: recurring denials make batches repetitive.
      const bumps = new Map<number, { n: number, min: string, max: string }>()
      this.unplaced = this.anyUnplaced.get() !== undefined
      const out = records.map(r => this.storeOne(r, importId, now, bumps))
      for (const [id, b] of bumps) this.bumpDenial.run({ id, n: b.n, min: b.min, max: b.max })
      if (importId !== null) {
        const imported = out.filter(o => o === 'imported').length
        this.imports.addBatch(importId, rejected, { imported, duplicates: out.length - imported, rejected: rejectedCount }, now)
      }
      return out
    })
  }

  /**
   * Store a batch in one transaction: every record is whole or absent, whatever happens to the
   * process. The import's running totals are updated in the same transaction, so they always
   * agree with what was stored. `rejected` are the reject rows to store, `rejectedCount` all the
   * rejections the batch stands for (only the first of an import are stored row by row).
   */
  storeBatch (records: ImportRecord[], rejected: RejectedRecord[], importId: number | null, now = new Date().toISOString(), rejectedCount = rejected.length): RecordOutcome[] {
    try {
      return this.storeBatchTx.immediate(records, rejected, importId, now, rejectedCount)
    } catch (err) {
      // Ids handed out inside the rolled-back transaction no longer exist.
      this.sourceIds.clear()
      this.keyIdCache.clear()
      throw err
    }
  }

  private storeOne (r: ImportRecord, importId: number | null, now: string, bumps: Map<number, { n: number, min: string, max: string }>): RecordOutcome {
    const m = r.message
    const observedAt = r.observedAt ?? now
    // A decoded message whose encoded message a CloudTrail event recorded: that event's occurrence moves to it.
    if (r.encodedSha256 !== undefined) {
      const sha = Buffer.from(r.encodedSha256, 'hex')
      const waiting = this.events.pendingFor(sha)
      if (waiting.length > 0) {
        const id = this.denialFor(m, observedAt, now)
        for (const e of waiting) this.events.relink(e.id, e.occurrenceId, id, sha)
        return 'imported'
      }
    }
    return this.placeOccurrence(r, this.denialFor(m, observedAt, now), observedAt, importId, bumps)
  }

  /** The id of the message's denial, stored now if it is new. */
  private denialFor (m: ImportRecord['message'], observedAt: string, now: string): number {
    let id = this.findByHash.get(m.contentHash)?.id
    if (id === undefined) {
      id = Number(this.insertDenial.run({
        contentHash: m.contentHash,
        decision: m.decision,
        principalArn: m.principal.arn,
        principalId: m.principal.id,
        principalName: m.principal.name,
        principalType: m.principal.type,
        principalAccount: m.principal.account,
        roleArn: m.principal.roleArn,
        sessionName: m.principal.sessionName,
        action: m.action,
        actionRaw: m.actionRaw,
        service: m.service,
        resource: m.resource,
        region: m.region,
        keyIds: this.keyIds(m.conditions),
        statementCount: m.statements.length,
        failureCount: m.failures.length,
        observedAt,
        now,
        kind: m.kind,
        policyType: m.policyType,
        policyArn: m.policyArn
      }).lastInsertRowid)
      this.insertMessage.run(id, m.raw)
      for (const c of m.conditions) this.insertCondition.run(id, c.position, c.key, c.value, c.valueIndex)
      m.statements.forEach((s, i) => this.insertStatement.run(id, i, s.statementId, s.effect, JSON.stringify(s.principals),
        JSON.stringify(s.principalGroups), JSON.stringify(s.actions), JSON.stringify(s.resources), JSON.stringify(s.conditions)))
      m.failures.forEach((f, i) => this.insertFailure.run(id, i, JSON.stringify(f)))
      this.insertFts.run(id, searchText(m))
    }
    return id
  }

  /** Store a decoded message for an event decoded later (decode --pending), inside a transaction: the denial's id. */
  decodedDenial (m: ImportRecord['message'], observedAt: string, now = new Date().toISOString()): number {
    return this.denialFor(m, observedAt, now)
  }

  private placeOccurrence (r: ImportRecord, id: number, observedAt: string, importId: number | null, bumps: Map<number, { n: number, min: string, max: string }>): RecordOutcome {
    // The identity of an occurrence: the encoded message it was decoded from, or else its place in
    // the input (source, line, index within the line) plus an explicit observedAt, so that one place
    // (an API source posting a record at a time, a file rewritten in place) can be observed again.
    const key = { id, observedAt, stamped: r.observedAt === null ? 0 : Date.parse(r.observedAt), sourceId: this.sourceId(r.source), line: r.line, item: r.index ?? 0, encodedId: 0, importId }
    // A CloudTrail event is identified by its eventID, whatever file (or lookup-events output) held it.
    let eventRow: number | undefined
    if (r.event !== undefined) {
      eventRow = this.events.claim(r.event)
      if (eventRow === undefined) return 'duplicate'
    }
    if (r.encodedSha256 !== undefined) {
      const encoded = this.insertEncoded.get(Buffer.from(r.encodedSha256, 'hex'))
      if (encoded === undefined) return 'duplicate'
      key.encodedId = encoded.id
      key.item = 0
    } else if (this.unplaced && this.claimUnplaced.run(key).changes > 0) {
      return 'duplicate'
    }
    const added = this.insertOccurrence.run(key)
    if (added.changes === 0) return 'duplicate'
    if (eventRow !== undefined) this.events.attach(eventRow, Number(added.lastInsertRowid))
    const b = bumps.get(id)
    if (b === undefined) bumps.set(id, { n: 1, min: observedAt, max: observedAt })
    else {
      b.n++
      if (observedAt < b.min) b.min = observedAt
      if (observedAt > b.max) b.max = observedAt
    }
    return 'imported'
  }

  /** The ids of a message's distinct condition keys, as stored in denials.key_ids. */
  private keyIds (conditions: ImportRecord['message']['conditions']): string {
    const ids = new Set<number>()
    for (const c of conditions) {
      const lower = c.key.toLowerCase()
      let id = this.keyIdCache.get(lower)
      if (id === undefined) {
        id = this.findKey.get(c.key)?.id ?? this.insertKey.get(c.key)!.id
        this.keyIdCache.set(lower, id)
      }
      ids.add(id)
    }
    return [...ids].join(' ')
  }

  private sourceId (name: string): number {
    let id = this.sourceIds.get(name)
    if (id === undefined) {
      id = this.findSource.get(name)?.id ?? this.insertSource.get(name)!.id
      // Only cache ids that are committed or in the current transaction: a rolled-back batch
      // clears the cache (see storeBatch).
      this.sourceIds.set(name, id)
    }
    return id
  }
}

/**
 * What `q` searches: ARNs, names, action and every condition value, one per line. A value that is
 * part of another (aws:Resource inside the resource ARN, say) adds nothing to a substring search, so
 * it is left out: fewer trigrams to index.
 */
export function searchText (m: ImportRecord['message']): string {
  const values = new Set<string>()
  for (const p of [m.principal.arn, m.principal.id, m.principal.name, m.principal.roleArn, m.action, m.actionRaw, m.resource]) if (p) values.add(p)
  for (const c of m.conditions) if (c.value !== '') values.add(c.value)
  const list = [...values].sort((a, b) => b.length - a.length)
  const kept: string[] = []
  for (const v of list) if (!kept.some(k => k.includes(v))) kept.push(v)
  return kept.join('\n')
}
