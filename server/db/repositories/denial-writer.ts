/** Storing parsed messages: denials with their parts, occurrences, sources, the string dictionary and its substring index, and the rollups, a batch per transaction. */
import type { DB } from '../connection.js'
import type { EventContext, ImportRecord, KnownMessage, KnownRecord, Principal, RejectedRecord } from '../../authz/types.js'
import type { ImportsRepository } from './imports.js'
import type { Rollups } from './rollups.js'
import { packText } from '../../util/packed-text.js'

/** What the writer needs of events.ts's EventsRepository. */
export interface EventIdentities {
  claim: (e: EventContext) => number | undefined
  attach: (eventRow: number, occurrenceId: number) => void
  pendingFor: (tokenSha256: Buffer) => Array<{ id: number, occurrenceId: number }>
  relink: (eventRow: number, occurrenceId: number, to: number, tokenSha256: Buffer) => void
}

export type RecordOutcome = 'imported' | 'duplicate'

/** Rows per multi-row INSERT: one statement per 32 rows instead of 32 statements (SQLite allows 32,766 parameters). */
const ROWS_PER_INSERT = 32
/** Strings whose ids are remembered across batches; beyond it the cache starts over (memory stays bounded). */
const STRING_CACHE_MAX = 200_000

/** Rows of `width` columns, written ROWS_PER_INSERT at a time by one multi-row statement. */
class RowBuffer {
  private readonly many
  private readonly one
  private values: unknown[] = []

  constructor (db: DB, head: string, private readonly width: number) {
    const row = `(${Array(width).fill('?').join(', ')})`
    this.one = db.prepare(`${head} VALUES ${row}`)
    this.many = db.prepare(`${head} VALUES ${Array(ROWS_PER_INSERT).fill(row).join(', ')}`)
  }

  push (...row: unknown[]): void {
    for (const v of row) this.values.push(v)
    if (this.values.length === ROWS_PER_INSERT * this.width) this.flush()
  }

  flush (): void {
    const v = this.values
    this.values = []
    if (v.length === ROWS_PER_INSERT * this.width) { this.many.run(v); return }
    for (let i = 0; i < v.length; i += this.width) this.one.run(v.slice(i, i + this.width))
  }

  /** Forget rows not written (the transaction they were for was rolled back). */
  clear (): void { this.values = [] }
}

export class DenialWriter {
  private readonly findByHash
  private readonly insertDenial
  private readonly uncount
  /** The denial the last denialFor() call inserted counting its record's occurrence (null: none). */
  private counted: number | null = null
  private readonly conditionRows
  private readonly termRows
  private readonly insertString
  private readonly findString
  private readonly indexNewStrings
  /**
   * The first strings.id added by the open transaction: the strings from there on are indexed for q
   * when it ends, by one INSERT … SELECT (ids only grow: strings are never deleted). Interleaved with
   * other writes, each statement after an FTS5 insert opens a savepoint, which makes FTS5 flush its
   * pending terms: tiny segments, written over and over (measured: 40 µs of CPU per string instead
   * of 4); and one statement instead of one per string saves crossing into SQLite 150,000 times for
   * 30,000 distinct denials.
   */
  private firstNewString: number | null = null
  /** String → strings.id, for the strings met lately (see STRING_CACHE_MAX). */
  private readonly stringIds = new Map<string, number>()
  private readonly lastSeenOf
  private readonly insertStatement
  private readonly insertFailure
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
  private readonly inTx
  /** Whether a transaction of this writer is open (decodedDenial buffers rows that only it writes). */
  private open = false
  /**
   * Per denial: occurrences the open transaction added, earliest and latest observedAt. Counters are
   * bumped once per denial per batch: recurring denials make batches repetitive.
   */
  private bumps = new Map<number, { n: number, min: string, max: string }>()
  /** last_seen of the denials the open transaction inserted, as inserted (saves reading it back). */
  private created = new Map<number, string>()

  constructor (db: DB, private readonly imports: ImportsRepository, private readonly events: EventIdentities, private readonly rollups: Rollups) {
    this.findByHash = db.prepare<[string], number>('SELECT id FROM denials WHERE content_hash = ?').pluck()
    // Positional parameters: binding 24 named ones from an object looks each up by name, per denial.
    this.insertDenial = db.prepare(`INSERT INTO denials (content_hash, decision, principal_arn, principal_id, principal_name,
      principal_type, principal_account, role_arn, session_name, action, action_raw, service, resource, region, key_ids,
      statement_count, failure_count, occurrences, first_seen, last_seen, created_at, kind, policy_type, policy_arn)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    // A new denial is inserted counting the occurrence of the record that brings it (see denialFor):
    // when that occurrence is not stored after all (a duplicate), it is uncounted.
    this.uncount = db.prepare<[number]>('UPDATE denials SET occurrences = occurrences - 1 WHERE id = ?')
    this.conditionRows = new RowBuffer(db, 'INSERT INTO conditions (denial_id, position, key_id, key_sid, value_id, value_index)', 6)
    // OR IGNORE: a term is listed once per denial (a Set), but stay safe if one is ever listed twice.
    this.termRows = new RowBuffer(db, 'INSERT OR IGNORE INTO denial_terms (string_id, denial_id)', 2)
    // OR IGNORE rather than an upsert with RETURNING: no statement journal, a third cheaper (measured).
    this.insertString = db.prepare<[string]>('INSERT OR IGNORE INTO strings (value) VALUES (?)')
    this.findString = db.prepare<[string], { id: number }>('SELECT id FROM strings WHERE value = ?')
    this.indexNewStrings = db.prepare<[number]>('INSERT INTO strings_fts (rowid, value) SELECT id, value FROM strings WHERE id >= ?')
    this.lastSeenOf = db.prepare<[number], string>('SELECT last_seen FROM denials WHERE id = ?').pluck()
    this.insertStatement = db.prepare(`INSERT INTO statements (denial_id, position, statement_id, effect, principals, principal_groups, actions, resources, conditions)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    this.insertFailure = db.prepare('INSERT INTO failures (denial_id, position, detail) VALUES (?, ?, ?)')
    this.insertOccurrence = db.prepare(`INSERT OR IGNORE INTO occurrences (denial_id, observed_at, stamped_ms, source_id, line, item, encoded_id, import_id)
      VALUES (@id, @observedAt, @stamped, @sourceId, @line, @item, @encodedId, @importId)`)
    this.insertEncoded = db.prepare<[Buffer], { id: number }>('INSERT OR IGNORE INTO encoded_messages (sha256) VALUES (?) RETURNING id')
    // INDEXED BY the partial index, which holds only such rows (usually none): left to itself, the
    // planner scanned every occurrence for this, once per batch (25 ms at 1M occurrences, measured).
    this.anyUnplaced = db.prepare<[], number>('SELECT 1 FROM occurrences INDEXED BY idx_occurrences_unplaced WHERE item < 0 LIMIT 1').pluck()
    // OR IGNORE: cannot conflict (a placed row of the same denial and place is only ever made by
    // claiming the unplaced one), but if it did, the record is then stored as usual below.
    this.claimUnplaced = db.prepare(`UPDATE OR IGNORE occurrences SET item = @item
      WHERE denial_id = @id AND source_id = @sourceId AND line = @line AND stamped_ms = @stamped AND item < 0`)
    this.findKey = db.prepare<[string], { id: number }>('SELECT id FROM condition_keys WHERE key = ?')
    this.insertKey = db.prepare<[string], { id: number }>('INSERT INTO condition_keys (key) VALUES (?) RETURNING id')
    this.findSource = db.prepare<[string], { id: number }>('SELECT id FROM sources WHERE name = ?')
    this.insertSource = db.prepare<[string], { id: number }>('INSERT INTO sources (name) VALUES (?) RETURNING id')
    // A denial without occurrences yet takes its span from them: one stored by a record whose
    // occurrence was a duplicate (an eventID or encoded message already stored under other content)
    // has the span of that record, which no occurrence backs. first_seen and last_seen are then
    // exactly the least and greatest observed_at of the occurrences (search's time window relies on it).
    this.bumpDenial = db.prepare(`UPDATE denials SET occurrences = occurrences + @n,
      first_seen = CASE WHEN occurrences = 0 THEN @min ELSE min(first_seen, @min) END,
      last_seen = CASE WHEN occurrences = 0 THEN @max ELSE max(last_seen, @max) END WHERE id = @id RETURNING last_seen`).pluck()
    // raw = '': the text is in packed (see migration 0009).
    this.insertMessage = db.prepare("INSERT INTO messages (denial_id, raw, packed) VALUES (?, '', ?)")
    this.storeBatchTx = db.transaction((records: Array<ImportRecord | KnownRecord>, rejected: RejectedRecord[], importId: number | null, now: string, rejectedCount: number): RecordOutcome[] => {
      this.unplaced = this.anyUnplaced.get() !== undefined
      const out = records.map(r => this.storeOne(r, importId, now))
      this.writeBuffered()
      if (importId !== null) {
        const imported = out.filter(o => o === 'imported').length
        this.imports.addBatch(importId, rejected, { imported, duplicates: out.length - imported, rejected: rejectedCount }, now)
      }
      return out
    })
    this.inTx = db.transaction(<T>(fn: () => T): T => {
      const out = fn()
      this.writeBuffered()
      return out
    })
  }

  /**
   * Store a batch in one transaction: every record is whole or absent, whatever happens to the
   * process. The import's running totals are updated in the same transaction, so they always
   * agree with what was stored. `rejected` are the reject rows to store, `rejectedCount` all the
   * rejections the batch stands for (only the first of an import are stored row by row).
   */
  storeBatch (records: Array<ImportRecord | KnownRecord>, rejected: RejectedRecord[], importId: number | null, now = new Date().toISOString(), rejectedCount = rejected.length): RecordOutcome[] {
    return this.guarded(() => this.storeBatchTx.immediate(records, rejected, importId, now, rejectedCount))
  }

  /**
   * Run `fn` in one transaction of this writer (decode --pending: a decoded denial, and the event's
   * occurrence moved to it): what it buffers (rows, string index, rollups) is written before commit.
   */
  transaction<T> (fn: () => T): T {
    return this.guarded(() => this.inTx.immediate(fn) as T)
  }

  private guarded<T> (fn: () => T): T {
    this.open = true
    try {
      return fn()
    } catch (err) {
      // Ids handed out inside the rolled-back transaction no longer exist; buffered rows and deltas were for it.
      this.sourceIds.clear()
      this.keyIdCache.clear()
      this.stringIds.clear()
      this.conditionRows.clear()
      this.termRows.clear()
      this.firstNewString = null
      this.counted = null
      this.bumps = new Map()
      this.created = new Map()
      this.rollups.clear()
      throw err
    } finally {
      this.open = false
    }
  }

  /** Everything buffered by the open transaction, written (before it commits). */
  private writeBuffered (): void {
    this.applyBumps()
    this.conditionRows.flush()
    this.termRows.flush()
    if (this.firstNewString !== null) this.indexNewStrings.run(this.firstNewString)
    this.firstNewString = null
    this.rollups.flush()
  }

  /** The per-denial counters bumped by what the open transaction added, and the last-day rollup moved with last_seen. */
  private applyBumps (): void {
    for (const [id, b] of this.bumps) {
      const before = this.created.get(id) ?? this.lastSeenOf.get(id)!
      this.rollups.lastSeenMoved(before, this.bumpDenial.get({ id, n: b.n, min: b.min, max: b.max }) as string)
    }
    this.bumps = new Map()
    this.created = new Map()
  }

  private storeOne (r: ImportRecord | KnownRecord, importId: number | null, now: string): RecordOutcome {
    const observedAt = r.observedAt ?? now
    if ('known' in r) {
      // Another occurrence of a message the parse worker read lately: its denial is normally stored
      // (earlier in this batch or before); if not (deleted since), the record is read in full.
      const id = this.findByHash.get(r.known.contentHash)
      if (id === undefined) return this.storeOne({ message: r.full(), source: r.source, line: r.line, index: r.index, observedAt: r.observedAt }, importId, now)
      return this.placeOccurrence(r, r.known.principal, id, observedAt, importId, false)
    }
    const m = r.message
    // A decoded message whose encoded message a CloudTrail event recorded: that event's occurrence moves to it.
    if (r.encodedSha256 !== undefined) {
      const sha = Buffer.from(r.encodedSha256, 'hex')
      const waiting = this.events.pendingFor(sha)
      if (waiting.length > 0) {
        const id = this.denialFor(m, observedAt, now)
        // relink reads and recounts denials: the counters must be up to date first.
        this.applyBumps()
        for (const e of waiting) this.events.relink(e.id, e.occurrenceId, id, sha)
        return 'imported'
      }
    }
    const id = this.denialFor(m, observedAt, now, true)
    const fresh = this.counted === id
    this.counted = null
    const outcome = this.placeOccurrence(r, m.principal, id, observedAt, importId, fresh)
    if (fresh && outcome === 'duplicate') this.uncount.run(id)
    return outcome
  }

  /**
   * The id of the message's denial, stored now if it is new. With `counting`, a new denial is stored
   * with its final counters for this record's occurrence (occurrences 1, first and last seen at
   * observedAt), and `counted` names it: written once instead of inserted and then updated (one
   * UPDATE and two index moves saved per distinct denial). Without, it starts at 0 (an occurrence
   * moved to it is counted by whoever moves it).
   */
  private denialFor (m: ImportRecord['message'], observedAt: string, now: string, counting = false): number {
    let id = this.findByHash.get(m.contentHash)
    if (id === undefined) {
      const keyIds = this.keyIds(m.conditions)
      const p = m.principal
      id = Number(this.insertDenial.run(m.contentHash, m.decision, p.arn, p.id, p.name, p.type, p.account, p.roleArn, p.sessionName,
        m.action, m.actionRaw, m.service, m.resource, m.region, keyIds.join(' '), m.statements.length, m.failures.length,
        counting ? 1 : 0, observedAt, observedAt, now, m.kind, m.policyType, m.policyArn).lastInsertRowid)
      // Packed by the parse worker when there is one (see parse-worker.ts), here otherwise.
      this.insertMessage.run(id, m.packed !== undefined ? Buffer.from(m.packed, 'latin1') : packText(m.raw))
      this.created.set(id, observedAt)
      if (counting) this.counted = id
      this.rollups.denialAdded({
        action: m.action,
        service: m.service,
        principal: principalOf(m.principal),
        account: m.principal.account,
        decision: m.decision,
        kind: m.kind,
        policyType: m.policyType,
        keyIds
      }, observedAt)
      for (const c of m.conditions) this.conditionRows.push(id, c.position, this.keyId(c.key), this.stringId(c.key), this.stringId(c.value), c.valueIndex)
      // A Set: action and action_raw are usually the same string.
      for (const t of new Set([m.principal.arn, m.principal.id, m.principal.name, m.principal.roleArn, m.action, m.actionRaw, m.resource])) {
        if (t !== null) this.termRows.push(this.stringId(t), id)
      }
      m.statements.forEach((s, i) => this.insertStatement.run(id, i, s.statementId, s.effect, JSON.stringify(s.principals),
        JSON.stringify(s.principalGroups), JSON.stringify(s.actions), JSON.stringify(s.resources), JSON.stringify(s.conditions)))
      m.failures.forEach((f, i) => this.insertFailure.run(id, i, JSON.stringify(f)))
    }
    return id
  }

  /** Store a decoded message for an event decoded later (decode --pending), inside this writer's transaction(): the denial's id. */
  decodedDenial (m: ImportRecord['message'], observedAt: string, now = new Date().toISOString()): number {
    if (!this.open) throw new Error('decodedDenial runs inside DenialWriter.transaction')
    const id = this.denialFor(m, observedAt, now)
    // The caller moves an occurrence to it next, which reads the denial's counters.
    this.applyBumps()
    return id
  }

  /** Store the record's occurrence of denial `id`, denied to `principal`; `counted`: the denial was inserted counting it already. */
  private placeOccurrence (r: ImportRecord | KnownRecord, principal: KnownMessage['principal'], id: number, observedAt: string, importId: number | null, counted: boolean): RecordOutcome {
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
    this.rollups.occurrences(observedAt, principalOf(principal), principal.account, 1)
    if (counted) return 'imported'
    const b = this.bumps.get(id)
    if (b === undefined) this.bumps.set(id, { n: 1, min: observedAt, max: observedAt })
    else {
      b.n++
      if (observedAt < b.min) b.min = observedAt
      if (observedAt > b.max) b.max = observedAt
    }
    return 'imported'
  }

  /** The ids of a message's distinct condition keys, as stored in denials.key_ids. */
  private keyIds (conditions: ImportRecord['message']['conditions']): number[] {
    const ids = new Set<number>()
    for (const c of conditions) ids.add(this.keyId(c.key))
    return [...ids]
  }

  /** The case-insensitive id of a condition key (condition_keys). */
  private keyId (key: string): number {
    const lower = key.toLowerCase()
    let id = this.keyIdCache.get(lower)
    if (id === undefined) {
      id = this.findKey.get(key)?.id ?? this.insertKey.get(key)!.id
      this.keyIdCache.set(lower, id)
    }
    return id
  }

  /** The id of a string in the dictionary, added (and indexed for q) when new. */
  private stringId (value: string): number {
    let id = this.stringIds.get(value)
    if (id !== undefined) return id
    const added = this.insertString.run(value)
    if (added.changes > 0) {
      id = Number(added.lastInsertRowid)
      this.firstNewString ??= id
    } else {
      id = this.findString.get(value)!.id
    }
    if (this.stringIds.size >= STRING_CACHE_MAX) this.stringIds.clear()
    this.stringIds.set(value, id)
    return id
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

/** As the dashboard counts principals: the role of an assumed-role session. */
function principalOf (p: Pick<Principal, 'arn' | 'roleArn'>): string {
  return p.roleArn ?? p.arn ?? ''
}
