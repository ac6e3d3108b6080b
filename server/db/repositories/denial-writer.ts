/** Storing parsed messages: denials with their parts, occurrences, sources, the string dictionary and its substring index, and the rollups, a batch per transaction. */
import type { DB } from '../connection.js'
import type { ImportRecord, RejectedRecord } from '../../authz/types.js'
import type { ImportsRepository } from './imports.js'

export type RecordOutcome = 'imported' | 'duplicate'

/** Rows per multi-row INSERT: one statement per 32 rows instead of 32 statements (SQLite allows 32,766 parameters). */
const ROWS_PER_INSERT = 32
/** Strings whose ids are remembered across batches; beyond it the cache starts over (memory stays bounded). */
const STRING_CACHE_MAX = 200_000

const day = (iso: string): string => iso.slice(0, 10)

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

interface BatchState {
  /** Per denial: occurrences added, earliest and latest observedAt. */
  bumps: Map<number, { n: number, min: string, max: string }>
  /** Denials inserted by this batch, with their first observedAt. */
  created: Map<number, string>
  /** Occurrences added per UTC day. */
  daily: Map<string, number>
  /** Occurrences added per (day, principal, account), keyed by the three joined with NUL. */
  principals: Map<string, number>
  /** Denials added per facet value, keyed by facet NUL key; the shown value beside the count. */
  facets: Map<string, { value: string, n: number }>
}

/** SQLite's NOCASE folds ASCII letters only (toLowerCase would fold every script). */
const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, m => m.toLowerCase())

export class DenialWriter {
  private readonly findByHash
  private readonly insertDenial
  private readonly conditionRows
  private readonly termRows
  private readonly insertString
  private readonly findString
  private readonly insertStringFts
  /**
   * Strings added by the open batch, indexed for q when it ends. Interleaved with other writes, each
   * statement after an FTS5 insert opens a savepoint, which makes FTS5 flush its pending terms: tiny
   * segments, written over and over (measured: 40 µs of CPU per string instead of 4).
   */
  private pendingFts: Array<[number, string]> = []
  /** String → strings.id, for the strings met lately (see STRING_CACHE_MAX). */
  private readonly stringIds = new Map<string, number>()
  private readonly lastSeenOf
  private readonly addDaily
  private readonly addLastDay
  private readonly dropEmptyLastDays
  private readonly addDailyPrincipal
  private readonly addFacet
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

  constructor (db: DB, private readonly imports: ImportsRepository) {
    this.findByHash = db.prepare<[string], { id: number }>('SELECT id FROM denials WHERE content_hash = ?')
    this.insertDenial = db.prepare(`INSERT INTO denials (content_hash, decision, principal_arn, principal_id, principal_name,
      principal_type, principal_account, role_arn, session_name, action, action_raw, service, resource, region, key_ids,
      statement_count, failure_count, occurrences, first_seen, last_seen, created_at)
      VALUES (@contentHash, @decision, @principalArn, @principalId, @principalName, @principalType, @principalAccount,
      @roleArn, @sessionName, @action, @actionRaw, @service, @resource, @region, @keyIds, @statementCount, @failureCount, 0,
      @observedAt, @observedAt, @now)`)
    this.conditionRows = new RowBuffer(db, 'INSERT INTO conditions (denial_id, position, key_id, key_sid, value_id, value_index)', 6)
    // OR IGNORE: a term is listed once per denial (a Set), but stay safe if one is ever listed twice.
    this.termRows = new RowBuffer(db, 'INSERT OR IGNORE INTO denial_terms (string_id, denial_id)', 2)
    // OR IGNORE rather than an upsert with RETURNING: no statement journal, a third cheaper (measured).
    this.insertString = db.prepare<[string]>('INSERT OR IGNORE INTO strings (value) VALUES (?)')
    this.findString = db.prepare<[string], { id: number }>('SELECT id FROM strings WHERE value = ?')
    this.insertStringFts = db.prepare('INSERT INTO strings_fts (rowid, value) VALUES (?, ?)')
    this.lastSeenOf = db.prepare<[number], string>('SELECT last_seen FROM denials WHERE id = ?').pluck()
    this.addDaily = db.prepare('INSERT INTO daily_counts (day, occurrences) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET occurrences = occurrences + excluded.occurrences')
    this.addLastDay = db.prepare('INSERT INTO denial_last_days (day, denials) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET denials = denials + excluded.denials')
    this.dropEmptyLastDays = db.prepare('DELETE FROM denial_last_days WHERE denials = 0')
    this.addDailyPrincipal = db.prepare(`INSERT INTO daily_principals (day, principal, account, occurrences) VALUES (?, ?, ?, ?)
      ON CONFLICT (day, principal, account) DO UPDATE SET occurrences = occurrences + excluded.occurrences`)
    this.addFacet = db.prepare(`INSERT INTO facet_counts (facet, key, value, denials) VALUES (?, ?, ?, ?)
      ON CONFLICT (facet, key) DO UPDATE SET denials = denials + excluded.denials`)
    this.insertStatement = db.prepare(`INSERT INTO statements (denial_id, position, statement_id, effect, principals, principal_groups, actions, resources, conditions)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    this.insertFailure = db.prepare('INSERT INTO failures (denial_id, position, detail) VALUES (?, ?, ?)')
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
      // Rollup deltas (day → count), written once per batch. `created`: last_seen of the denials
      // this batch inserted (they are counted on their first day at once, occurrence or not).
      const daily = new Map<string, number>()
      const lastDays = new Map<string, number>()
      const created = new Map<number, string>()
      const bump = (m: Map<string, number>, k: string, n: number): void => { m.set(k, (m.get(k) ?? 0) + n) }
      this.unplaced = this.anyUnplaced.get() !== undefined
      const principals = new Map<string, number>()
      const facets = new Map<string, { value: string, n: number }>()
      const out = records.map(r => this.storeOne(r, importId, now, { bumps, created, daily, principals, facets }))
      for (const [, at] of created) bump(lastDays, day(at), 1)
      for (const [id, b] of bumps) {
        const before = created.get(id) ?? this.lastSeenOf.get(id)!
        const after = b.max > before ? b.max : before
        if (day(after) !== day(before)) { bump(lastDays, day(before), -1); bump(lastDays, day(after), 1) }
        this.bumpDenial.run({ id, n: b.n, min: b.min, max: b.max })
      }
      this.conditionRows.flush()
      this.termRows.flush()
      for (const [id, value] of this.pendingFts) this.insertStringFts.run(id, value)
      this.pendingFts = []
      for (const [d, n] of daily) this.addDaily.run(d, n)
      for (const [k, n] of principals) { const [d, p, a] = k.split('\0'); this.addDailyPrincipal.run(d, p, a, n) }
      for (const [k, f] of facets) { const i = k.indexOf('\0'); this.addFacet.run(k.slice(0, i), k.slice(i + 1), f.value, f.n) }
      for (const [d, n] of lastDays) if (n !== 0) this.addLastDay.run(d, n)
      if (lastDays.size > 0) this.dropEmptyLastDays.run()
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
      this.stringIds.clear()
      this.conditionRows.clear()
      this.termRows.clear()
      this.pendingFts = []
      throw err
    }
  }

  private storeOne (r: ImportRecord, importId: number | null, now: string, batch: BatchState): RecordOutcome {
    const { bumps } = batch
    const m = r.message
    // As the dashboard counts principals: the role of an assumed-role session.
    const principalKey = m.principal.roleArn ?? m.principal.arn ?? ''
    const account = m.principal.account ?? ''
    const observedAt = r.observedAt ?? now
    let id = this.findByHash.get(m.contentHash)?.id
    if (id === undefined) {
      const keyIds = this.keyIds(m.conditions)
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
        keyIds: keyIds.join(' '),
        statementCount: m.statements.length,
        failureCount: m.failures.length,
        observedAt,
        now
      }).lastInsertRowid)
      this.insertMessage.run(id, m.raw)
      batch.created.set(id, observedAt)
      const facet = (name: string, key: string, value: string): void => {
        const k = `${name}\0${key}`
        const f = batch.facets.get(k)
        if (f === undefined) batch.facets.set(k, { value, n: 1 })
        else f.n++
      }
      if (m.action !== null) facet('action', asciiLower(m.action), m.action)
      if (m.service !== null) facet('service', asciiLower(m.service), m.service)
      if (principalKey !== '') facet('principal', principalKey, principalKey)
      if (m.principal.account !== null) facet('account', account, account)
      facet('decision', m.decision, m.decision)
      for (const k of keyIds) facet('conditionKey', String(k), String(k))
      for (const c of m.conditions) this.conditionRows.push(id, c.position, this.keyId(c.key), this.stringId(c.key), this.stringId(c.value), c.valueIndex)
      // A Set: action and action_raw are usually the same string.
      for (const t of new Set([m.principal.arn, m.principal.id, m.principal.name, m.principal.roleArn, m.action, m.actionRaw, m.resource])) {
        if (t !== null) this.termRows.push(this.stringId(t), id)
      }
      m.statements.forEach((s, i) => this.insertStatement.run(id, i, s.statementId, s.effect, JSON.stringify(s.principals),
        JSON.stringify(s.principalGroups), JSON.stringify(s.actions), JSON.stringify(s.resources), JSON.stringify(s.conditions)))
      m.failures.forEach((f, i) => this.insertFailure.run(id, i, JSON.stringify(f)))
    }
    // The identity of an occurrence: the encoded message it was decoded from, or else its place in
    // the input (source, line, index within the line) plus an explicit observedAt, so that one place
    // (an API source posting a record at a time, a file rewritten in place) can be observed again.
    const key = { id, observedAt, stamped: r.observedAt === null ? 0 : Date.parse(r.observedAt), sourceId: this.sourceId(r.source), line: r.line, item: r.index ?? 0, encodedId: 0, importId }
    if (r.encodedSha256 !== undefined) {
      const encoded = this.insertEncoded.get(Buffer.from(r.encodedSha256, 'hex'))
      if (encoded === undefined) return 'duplicate'
      key.encodedId = encoded.id
      key.item = 0
    } else if (this.unplaced && this.claimUnplaced.run(key).changes > 0) {
      return 'duplicate'
    }
    const added = this.insertOccurrence.run(key).changes
    if (added === 0) return 'duplicate'
    const d = day(observedAt)
    batch.daily.set(d, (batch.daily.get(d) ?? 0) + 1)
    const pk = `${d}\0${principalKey}\0${account}`
    batch.principals.set(pk, (batch.principals.get(pk) ?? 0) + 1)
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
      this.pendingFts.push([id, value])
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
