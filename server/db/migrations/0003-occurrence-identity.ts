/** 0003: an occurrence is identified by its place in the input (line and index within it), or by the encoded message it was decoded from. */
import type { Migration } from './migration.js'

// SQLite cannot change a table's UNIQUE constraint, so occurrences is rebuilt (the 12-step recipe
// of https://www.sqlite.org/lang_altertable.html; nothing references occurrences, so foreign keys
// can stay on). Every row is copied with its id: nothing is lost, denials.occurrences stays exact.
//
// Rows written before this version do not know their index within the line (item -1, "unplaced"):
// the previous key kept only the first record of each denial on a line. On re-import, the first
// record of that denial at that place claims the unplaced row (it becomes a duplicate and the row
// gets its index), so nothing is counted twice; the records the old key dropped are then stored.
export const occurrenceIdentity: Migration = {
  version: 3,
  name: 'occurrence-identity',
  up: `
-- One row per encoded message decoded and stored (whydenied decode --store, POST /api/decode):
-- the same message decoded twice is one occurrence; two messages are two, even with equal content.
CREATE TABLE encoded_messages (
  id INTEGER PRIMARY KEY,
  sha256 BLOB NOT NULL UNIQUE CHECK (length(sha256) = 32)
) STRICT;

CREATE TABLE occurrences_v3 (
  id INTEGER PRIMARY KEY,
  denial_id INTEGER NOT NULL REFERENCES denials (id) ON DELETE CASCADE,
  observed_at TEXT NOT NULL,
  source_id INTEGER NOT NULL REFERENCES sources (id),
  -- The record's place in its source: the line it starts on, and its index among those starting there.
  line INTEGER NOT NULL,
  item INTEGER NOT NULL,                      -- index among the records that start on this line (0 first); -1: unplaced (see above)
  -- encoded_messages.id, or 0 for records read from files and bodies. No REFERENCES clause: 0 is
  -- not a row, and NULL would make the UNIQUE key below never match.
  encoded_id INTEGER NOT NULL,
  stamped_ms INTEGER NOT NULL,                -- the explicit observedAt (epoch ms), 0 when the input gave none
  import_id INTEGER REFERENCES imports (id) ON DELETE SET NULL,
  UNIQUE (denial_id, source_id, line, item, encoded_id, stamped_ms)
) STRICT;
INSERT INTO occurrences_v3 (id, denial_id, observed_at, source_id, line, item, encoded_id, stamped_ms, import_id)
  SELECT id, denial_id, observed_at, source_id, line, -1, 0, stamped_ms, import_id FROM occurrences;
DROP TABLE occurrences;
ALTER TABLE occurrences_v3 RENAME TO occurrences;
CREATE INDEX idx_occurrences_observed_at ON occurrences (observed_at, denial_id);
-- Only migrated rows are in it, and each leaves it when claimed: empty on a database created new.
CREATE INDEX idx_occurrences_unplaced ON occurrences (denial_id, source_id, line, stamped_ms) WHERE item < 0;
`
}
