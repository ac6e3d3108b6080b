/** 0001: denials, their parsed parts (conditions, statements, failures), occurrences and imports. */
import type { Migration } from './migration.js'

// STRICT tables: SQLite would otherwise coerce an account ID such as "012345678901" to a number
// and lose its leading zero.
export const initial: Migration = {
  version: 1,
  name: 'initial',
  up: `
CREATE TABLE denials (
  id INTEGER PRIMARY KEY,
  content_hash TEXT NOT NULL UNIQUE,          -- sha256 of the canonical JSON: one row per distinct message
  decision TEXT NOT NULL CHECK (decision IN ('explicit-deny', 'implicit-deny', 'allowed')),
  principal_arn TEXT,
  principal_id TEXT,
  principal_name TEXT,
  principal_type TEXT,
  principal_account TEXT,
  role_arn TEXT,                              -- for assumed-role sessions: the role they assumed
  session_name TEXT,
  action TEXT COLLATE NOCASE,                 -- normalised: service:Action (IAM compares actions case-insensitively)
  action_raw TEXT,                            -- as the message gave it
  service TEXT COLLATE NOCASE,
  resource TEXT,
  region TEXT,
  key_ids TEXT NOT NULL DEFAULT '',           -- ids (condition_keys) of the message's condition keys, space-separated: facets in one pass
  statement_count INTEGER NOT NULL DEFAULT 0,
  failure_count INTEGER NOT NULL DEFAULT 0,
  -- Kept in step with occurrences inside the same transaction, so lists sort without aggregating.
  occurrences INTEGER NOT NULL DEFAULT 0,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX idx_denials_last_seen ON denials (last_seen DESC, id DESC);
-- No index on occurrences: it changes with every import, and sorting the narrow rows by it is cheap.
CREATE INDEX idx_denials_action ON denials (action);
CREATE INDEX idx_denials_service ON denials (service);
CREATE INDEX idx_denials_principal_arn ON denials (principal_arn);
CREATE INDEX idx_denials_principal_account ON denials (principal_account);
CREATE INDEX idx_denials_resource ON denials (resource);
CREATE INDEX idx_denials_decision ON denials (decision);

-- The decoded JSON, verbatim, apart from the parsed columns: denial rows stay narrow, so the scans
-- behind facets, counts and reports read a fraction of the bytes.
CREATE TABLE messages (
  denial_id INTEGER PRIMARY KEY REFERENCES denials (id) ON DELETE CASCADE,
  raw TEXT NOT NULL
) STRICT;

-- Condition keys, stored once (spelled as first seen; IAM compares keys case-insensitively).
CREATE TABLE condition_keys (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE COLLATE NOCASE
) STRICT;

-- Every condition value is its own row; keys compare case-insensitively, as IAM does.
CREATE TABLE conditions (
  denial_id INTEGER NOT NULL REFERENCES denials (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  key TEXT NOT NULL COLLATE NOCASE,
  value TEXT NOT NULL,
  value_index INTEGER NOT NULL,               -- 0 for the first value of a key: counts denials per key
  PRIMARY KEY (denial_id, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX idx_conditions_key_value ON conditions (key, value, denial_id);
CREATE INDEX idx_conditions_key_first ON conditions (key, denial_id) WHERE value_index = 0;

CREATE TABLE statements (
  denial_id INTEGER NOT NULL REFERENCES denials (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  statement_id TEXT,
  effect TEXT,
  principals TEXT NOT NULL,                   -- JSON arrays of strings
  principal_groups TEXT NOT NULL,
  actions TEXT NOT NULL,
  resources TEXT NOT NULL,
  conditions TEXT NOT NULL,                   -- JSON [{key, values}]
  PRIMARY KEY (denial_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE failures (
  denial_id INTEGER NOT NULL REFERENCES denials (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  detail TEXT NOT NULL,                       -- JSON, as in the message
  PRIMARY KEY (denial_id, position)
) STRICT, WITHOUT ROWID;

-- Case-insensitive substring search (q) over ARNs, action and condition values, indexed by trigrams.
-- columnsize=0: nothing ranks the matches, so no per-row size table to write.
CREATE VIRTUAL TABLE denials_fts USING fts5 (text, tokenize = 'trigram', content = '', detail = 'full', columnsize = 0);

CREATE TABLE imports (
  id INTEGER PRIMARY KEY,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  source TEXT NOT NULL,
  imported INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE import_rejects (
  import_id INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
  source TEXT NOT NULL,
  line INTEGER NOT NULL,
  reason TEXT NOT NULL
) STRICT;
CREATE INDEX idx_import_rejects_import ON import_rejects (import_id);

-- Where occurrences came from (file paths, API sources), stored once: occurrence rows stay small.
CREATE TABLE sources (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
) STRICT;

-- A denial is a message plus its occurrences. An occurrence is identified by its denial, source,
-- line and explicit observedAt (epoch ms; 0 when the input gave none: then the import time is
-- recorded in observed_at, but re-importing the same file adds nothing).
CREATE TABLE occurrences (
  id INTEGER PRIMARY KEY,
  denial_id INTEGER NOT NULL REFERENCES denials (id) ON DELETE CASCADE,
  observed_at TEXT NOT NULL,
  source_id INTEGER NOT NULL REFERENCES sources (id),
  line INTEGER NOT NULL,
  stamped_ms INTEGER NOT NULL,
  import_id INTEGER REFERENCES imports (id) ON DELETE SET NULL,
  UNIQUE (denial_id, source_id, line, stamped_ms)
) STRICT;
-- Per-denial lookups use the UNIQUE index, which starts with denial_id: no second index to maintain.
CREATE INDEX idx_occurrences_observed_at ON occurrences (observed_at, denial_id);
`
}
