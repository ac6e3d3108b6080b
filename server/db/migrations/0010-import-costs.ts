/** 0010: what imports paid for and nothing needs: the index of each condition key's first value, and the substring index's 1 MiB flushes. */
import type { Migration } from './migration.js'

// idx_conditions_key_first held an entry per condition key of every denial (~8 per denial, 143 of
// 3,500 bytes per distinct denial), written at every import, and served only the `KEY` filter (a key
// without a value). The server decides that filter in memory from the facet columns (denials.key_ids,
// see repositories/facet-columns.ts); a one-shot CLI search reads the conditions table instead, which
// costs about what the index did for keys held by a third of the denials or more (measured at 1M
// denials: 0.6–1.1 s either way), and up to ~1 s more for a rare key.
//
// hashsize: FTS5 writes the terms it gathers as a new segment of the trigram index each time they
// pass 1 MiB (its default), then merges those segments again and again. An import adds its new
// strings in one statement per batch (DenialWriter); with 32 MiB a batch's strings make one segment.
// Measured, 50,000 distinct denials, back to back: that statement 2.3 s → 1.1 s, the whole import
// ~25% faster (fewer index pages rewritten, smaller commits), peak RSS unchanged; the same bytes on disk.
export const importCosts: Migration = {
  version: 10,
  name: 'import-costs',
  up: `
DROP INDEX idx_conditions_key_first;
INSERT INTO strings_fts (strings_fts, rank) VALUES ('hashsize', 33554432);
`
}
