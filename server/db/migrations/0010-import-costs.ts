/** 0010: what imports paid for and nothing needs: the index of each condition key's first value, and the substring index's 1 MiB flushes. */
import type { Migration } from './migration.js'

// idx_conditions_key_first held an entry per condition key of every denial (~8 per denial, 143 of
// 3,500 bytes per distinct denial), written at every import, and served only the `KEY` filter (a key
// without a value). The server decides that filter in memory from the facet columns (denials.key_ids,
// see repositories/facet-columns.ts); a one-shot CLI search reads the conditions table instead
// (measured at 1M denials, loaded machine: `aws:SourceIp` alone 51 → 584 ms, with an action 291 → 733 ms).
//
// hashsize: FTS5 writes the terms it gathers as a new segment of the trigram index each time they
// pass 1 MiB (its default), then merges those segments again and again. An import adds its new
// strings in one statement per batch (DenialWriter); with 32 MiB they make a few large segments.
// Measured, 100,000 distinct denials, back to back twice: that statement 4.1–4.8 s → 2.4 s, the
// import 50–56 s → 45 s, peak RSS no higher; the file ~3% larger (pages the merges freed, reused later).
export const importCosts: Migration = {
  version: 10,
  name: 'import-costs',
  up: `
DROP INDEX idx_conditions_key_first;
INSERT INTO strings_fts (strings_fts, rank) VALUES ('hashsize', 33554432);
`
}
