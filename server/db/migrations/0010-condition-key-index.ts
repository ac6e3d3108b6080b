/** 0010: no index of the first value of each condition key (a key without its value, as a filter, is decided from denials.key_ids). */
import type { Migration } from './migration.js'

// Why: it held an entry per condition key of every denial (~8 per denial, 143 of 3,500 bytes per
// distinct denial), written at every import, and served only the `KEY` filter (a key without a
// value). The server decides that filter in memory from the facet columns (denials.key_ids, see
// repositories/facet-columns.ts); a one-shot CLI search reads the conditions table instead, which
// costs about what the index did for keys held by a third of the denials or more (measured at 1M
// denials: 0.6–1.1 s either way; see README's Performance) and ~1 s more for a rare key.
export const conditionKeyIndex: Migration = {
  version: 10,
  name: 'condition-key-index',
  up: `
DROP INDEX idx_conditions_key_first;
`
}
