/** The imports log: one row per import with its running totals, and the records it rejected. */
import type { DB } from '../connection.js'
import type { RejectedRecord } from '../../authz/types.js'

export interface ImportSummaryRow {
  id: number
  startedAt: string
  finishedAt: string | null
  source: string
  imported: number
  duplicates: number
  rejected: number
  /** Records read and left out (CloudTrail events that are not denials); null for imports made before this was stored (schema 6). */
  skipped: number | null
}

export class ImportsRepository {
  private readonly insertImport
  private readonly finishImportStmt
  private readonly insertReject
  private readonly listImportsStmt
  private readonly addSkippedStmt

  constructor (db: DB) {
    this.insertImport = db.prepare<[string, string], { id: number }>('INSERT INTO imports (started_at, source, skipped) VALUES (?, ?, 0) RETURNING id')
    this.finishImportStmt = db.prepare(`UPDATE imports SET finished_at = @finishedAt, imported = imported + @imported,
      duplicates = duplicates + @duplicates, rejected = rejected + @rejected WHERE id = @id`)
    this.insertReject = db.prepare('INSERT INTO import_rejects (import_id, source, line, reason) VALUES (?, ?, ?, ?)')
    // Kept apart from finishImportStmt, which DenialWriter runs per stored batch: skipped records are never stored.
    this.addSkippedStmt = db.prepare<[number, number]>('UPDATE imports SET skipped = coalesce(skipped, 0) + ? WHERE id = ?')
    this.listImportsStmt = db.prepare<[number], { id: number, started_at: string, finished_at: string | null, source: string, imported: number, duplicates: number, rejected: number, skipped: number | null }>(
      'SELECT id, started_at, finished_at, source, imported, duplicates, rejected, skipped FROM imports ORDER BY id DESC LIMIT ?')
  }

  start (source: string, now = new Date().toISOString()): number {
    return this.insertImport.get(now, source)!.id
  }

  /**
   * Add a stored batch to the import: its rejections and its counts. Called by DenialWriter inside the
   * batch's transaction, so the totals always agree with what was stored.
   */
  addBatch (id: number, rejected: RejectedRecord[], counts: { imported: number, duplicates: number, rejected: number }, now: string): void {
    for (const r of rejected) this.insertReject.run(id, r.source, r.line, r.reason)
    this.finishImportStmt.run({ id, finishedAt: now, ...counts })
  }

  /** Count records the import read and left out (not denials); the importer adds them as it goes. */
  addSkipped (id: number, n: number): void {
    if (n > 0) this.addSkippedStmt.run(n, id)
  }

  /** Mark an import finished, also when nothing was stored or it failed part way. */
  finish (id: number, now = new Date().toISOString()): void {
    this.finishImportStmt.run({ id, finishedAt: now, imported: 0, duplicates: 0, rejected: 0 })
  }

  list (limit = 10): ImportSummaryRow[] {
    return this.listImportsStmt.all(limit).map(r => ({
      id: r.id, startedAt: r.started_at, finishedAt: r.finished_at, source: r.source, imported: r.imported, duplicates: r.duplicates, rejected: r.rejected, skipped: r.skipped
    }))
  }
}
