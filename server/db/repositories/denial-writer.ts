/** Denials repository: storing parsed messages with their occurrences, and reading one back whole. */
import type { DB } from '../connection.js'
import type { Decision, DenialDetail, DenialSummary, ImportRecord, MatchedStatement, Principal, RejectedRecord } from '../../authz/types.js'

export interface DenialRow {
  id: number
  content_hash: string
  raw: string
  decision: Decision
  principal_arn: string | null
  principal_id: string | null
  principal_name: string | null
  principal_type: string | null
  principal_account: string | null
  role_arn: string | null
  session_name: string | null
  action: string | null
  action_raw: string | null
  service: string | null
  resource: string | null
  region: string | null
  occurrences: number
  first_seen: string
  last_seen: string
}

export const SUMMARY_COLUMNS = 'd.id, d.decision, d.action, d.service, d.principal_arn, d.resource, d.region, d.occurrences, d.first_seen, d.last_seen'

export function rowToSummary (r: Pick<DenialRow, 'id' | 'decision' | 'action' | 'service' | 'principal_arn' | 'resource' | 'region' | 'occurrences' | 'first_seen' | 'last_seen'>): DenialSummary {
  return {
    id: r.id,
    decision: r.decision,
    action: r.action,
    service: r.service,
    principalArn: r.principal_arn,
    resource: r.resource,
    region: r.region,
    occurrences: r.occurrences,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen
  }
}

export type RecordOutcome = 'imported' | 'duplicate'

export interface ImportSummaryRow {
  id: number
  startedAt: string
  finishedAt: string | null
  source: string
  imported: number
  duplicates: number
  rejected: number
}

export class DenialsRepository {
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
  private readonly getRow
  private readonly insertMessage
  private readonly getConditions
  private readonly getStatements
  private readonly getFailures
  private readonly getOccurrences
  private readonly insertImport
  private readonly finishImportStmt
  private readonly insertReject
  private readonly listImportsStmt
  private readonly storeBatchTx

  constructor (db: DB) {
    this.findByHash = db.prepare<[string], { id: number }>('SELECT id FROM denials WHERE content_hash = ?')
    this.insertDenial = db.prepare(`INSERT INTO denials (content_hash, decision, principal_arn, principal_id, principal_name,
      principal_type, principal_account, role_arn, session_name, action, action_raw, service, resource, region, key_ids,
      statement_count, failure_count, occurrences, first_seen, last_seen, created_at)
      VALUES (@contentHash, @decision, @principalArn, @principalId, @principalName, @principalType, @principalAccount,
      @roleArn, @sessionName, @action, @actionRaw, @service, @resource, @region, @keyIds, @statementCount, @failureCount, 0,
      @observedAt, @observedAt, @now)`)
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
    this.getRow = db.prepare<[number], DenialRow>('SELECT d.*, m.raw FROM denials d JOIN messages m ON m.denial_id = d.id WHERE d.id = ?')
    this.insertMessage = db.prepare('INSERT INTO messages (denial_id, raw) VALUES (?, ?)')
    this.getConditions = db.prepare<[number], { key: string, value: string }>('SELECT key, value FROM conditions WHERE denial_id = ? ORDER BY position')
    this.getStatements = db.prepare<[number], StatementRow>(
      'SELECT statement_id, effect, principals, principal_groups, actions, resources, conditions FROM statements WHERE denial_id = ? ORDER BY position')
    this.getFailures = db.prepare<[number], { detail: string }>('SELECT detail FROM failures WHERE denial_id = ? ORDER BY position')
    this.getOccurrences = db.prepare<[number], { observed_at: string, source: string, line: number }>(
      `SELECT o.observed_at, s.name AS source, o.line FROM occurrences o JOIN sources s ON s.id = o.source_id
       WHERE o.denial_id = ? ORDER BY o.observed_at DESC, o.id DESC LIMIT 1000`)
    this.insertImport = db.prepare<[string, string], { id: number }>('INSERT INTO imports (started_at, source) VALUES (?, ?) RETURNING id')
    this.finishImportStmt = db.prepare(`UPDATE imports SET finished_at = @finishedAt, imported = imported + @imported,
      duplicates = duplicates + @duplicates, rejected = rejected + @rejected WHERE id = @id`)
    this.insertReject = db.prepare('INSERT INTO import_rejects (import_id, source, line, reason) VALUES (?, ?, ?, ?)')
    this.listImportsStmt = db.prepare<[number], { id: number, started_at: string, finished_at: string | null, source: string, imported: number, duplicates: number, rejected: number }>(
      'SELECT id, started_at, finished_at, source, imported, duplicates, rejected FROM imports ORDER BY id DESC LIMIT ?')
    this.storeBatchTx = db.transaction((records: ImportRecord[], rejected: RejectedRecord[], importId: number | null, now: string): RecordOutcome[] => {
      // Counters are bumped once per denial per batch: recurring denials make batches repetitive.
      const bumps = new Map<number, { n: number, min: string, max: string }>()
      this.unplaced = this.anyUnplaced.get() !== undefined
      const out = records.map(r => this.storeOne(r, importId, now, bumps))
      for (const [id, b] of bumps) this.bumpDenial.run({ id, n: b.n, min: b.min, max: b.max })
      if (importId !== null) {
        for (const r of rejected) this.insertReject.run(importId, r.source, r.line, r.reason)
        const imported = out.filter(o => o === 'imported').length
        this.finishImportStmt.run({ id: importId, finishedAt: now, imported, duplicates: out.length - imported, rejected: rejected.length })
      }
      return out
    })
  }

  /**
   * Store a batch in one transaction: every record is whole or absent, whatever happens to the
   * process. The import's running totals are updated in the same transaction, so they always
   * agree with what was stored.
   */
  storeBatch (records: ImportRecord[], rejected: RejectedRecord[], importId: number | null, now = new Date().toISOString()): RecordOutcome[] {
    try {
      return this.storeBatchTx.immediate(records, rejected, importId, now)
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
        now
      }).lastInsertRowid)
      this.insertMessage.run(id, m.raw)
      for (const c of m.conditions) this.insertCondition.run(id, c.position, c.key, c.value, c.valueIndex)
      m.statements.forEach((s, i) => this.insertStatement.run(id, i, s.statementId, s.effect, JSON.stringify(s.principals),
        JSON.stringify(s.principalGroups), JSON.stringify(s.actions), JSON.stringify(s.resources), JSON.stringify(s.conditions)))
      m.failures.forEach((f, i) => this.insertFailure.run(id, i, JSON.stringify(f)))
      this.insertFts.run(id, searchText(m))
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

  /** The id of the denial with this content hash, if stored. */
  idByHash (contentHash: string): number | undefined {
    return this.findByHash.get(contentHash)?.id
  }

  startImport (source: string, now = new Date().toISOString()): number {
    return this.insertImport.get(now, source)!.id
  }

  listImports (limit = 10): ImportSummaryRow[] {
    return this.listImportsStmt.all(limit).map(r => ({
      id: r.id, startedAt: r.started_at, finishedAt: r.finished_at, source: r.source, imported: r.imported, duplicates: r.duplicates, rejected: r.rejected
    }))
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

export interface StatementRow { statement_id: string | null, effect: string | null, principals: string, principal_groups: string, actions: string, resources: string, conditions: string }

export function rowToPrincipal (r: Pick<DenialRow, 'principal_arn' | 'principal_id' | 'principal_name' | 'principal_type' | 'principal_account' | 'role_arn' | 'session_name'>): Principal {
  return {
    arn: r.principal_arn,
    id: r.principal_id,
    name: r.principal_name,
    type: r.principal_type,
    account: r.principal_account,
    roleArn: r.role_arn,
    sessionName: r.session_name
  }
}

/** Condition rows (in position order) → one entry per key with all its values. */
export function groupConditions (rows: Array<{ key: string, value: string }>): Array<{ key: string, values: string[] }> {
  const out: Array<{ key: string, values: string[] }> = []
  for (const c of rows) {
    const last = out[out.length - 1]
    if (last && last.key === c.key) last.values.push(c.value)
    else out.push({ key: c.key, values: [c.value] })
  }
  return out
}

export function rowToStatement (s: StatementRow): MatchedStatement {
  return {
    statementId: s.statement_id,
    effect: s.effect,
    principals: JSON.parse(s.principals) as string[],
    principalGroups: JSON.parse(s.principal_groups) as string[],
    actions: JSON.parse(s.actions) as string[],
    resources: JSON.parse(s.resources) as string[],
    conditions: JSON.parse(s.conditions) as MatchedStatement['conditions']
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
