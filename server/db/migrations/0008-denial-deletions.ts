/** 0008: a counter of deleted denials, kept by a trigger, so that caches of denial rows know when an id may have been reused; the last_seen index covers the occurrence count. */
import type { Migration } from './migration.js'

// Denial ids are INTEGER PRIMARY KEY without AUTOINCREMENT: once the highest denials are deleted,
// their ids are handed out again. The in-memory facet columns (repositories/facet-columns.ts) load
// new denials by id and start over when this counter moves. A trigger counts every deletion,
// whichever code or process makes it; deletions are rare (placeholder denials of CloudTrail events
// replaced once decoded), so the extra write costs nothing that matters.
export const denialDeletions: Migration = {
  version: 8,
  name: 'denial-deletions',
  up: `
CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  n INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;
INSERT INTO counters (name, n) VALUES ('denials_deleted', 0);
CREATE TRIGGER denials_deleted AFTER DELETE ON denials BEGIN
  UPDATE counters SET n = n + 1 WHERE name = 'denials_deleted';
END;

-- The list's time window (search.ts) is \`occurrences > 0 AND last_seen >= ?\` when it has no end:
-- with occurrences in the index, its matching ids are read from the index alone, not from 500,000
-- rows for 30 days at 1M denials (measured: 4 s → see README's Performance). Same order as before
-- (last_seen DESC, id DESC), so the lists still walk it.
DROP INDEX idx_denials_last_seen;
CREATE INDEX idx_denials_last_seen ON denials (last_seen DESC, id DESC, occurrences);
`
}
