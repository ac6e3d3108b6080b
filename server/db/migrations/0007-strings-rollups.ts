/** 0007: every string stored once (a dictionary), the substring index over that vocabulary only, and per-day rollups for the dashboard. */
import type { Migration } from './migration.js'

// Why: values repeat massively (keys, ARNs, regions, tags). Before this version each condition row
// held its key and value as text in the table and again in two indexes, and the trigram index was
// built per denial over all its strings: together most of the file and most of an import's time.
// Now each distinct string has one row in `strings` and one entry in the trigram index; conditions
// and the searchable denial columns refer to string ids, so `q` is a lookup of the matching ids.
//
// string ids are plain integers without REFERENCES: a foreign-key check per condition row costs a
// lookup in `strings` for nothing (the writer inserts the string in the same transaction first).
//
// The rollups are kept in step with occurrences by the writer, in the same transaction:
// daily_counts (occurrences per UTC day) and denial_last_days (denials per day of their last
// occurrence), so that the dashboard's totals and chart read a few hundred rows instead of
// millions. An index on denials.occurrences lets the most-recurring lists stop after their top rows.
export const stringsRollups: Migration = {
  version: 7,
  name: 'strings-rollups',
  up: `
CREATE TABLE strings (
  id INTEGER PRIMARY KEY,
  value TEXT NOT NULL UNIQUE
) STRICT;
-- Case-insensitive substring search over the vocabulary, by trigrams (rowid = strings.id).
CREATE VIRTUAL TABLE strings_fts USING fts5 (value, tokenize = 'trigram', content = '', detail = 'full', columnsize = 0);

INSERT OR IGNORE INTO condition_keys (key) SELECT DISTINCT key FROM conditions;
-- One statement per source, each compared as BINARY: a UNION would compare by its first column's
-- collation, and the NOCASE key and action columns would fold "aws:Region" and "aws:region" into one.
INSERT OR IGNORE INTO strings (value) SELECT key COLLATE BINARY FROM conditions;
INSERT OR IGNORE INTO strings (value) SELECT value FROM conditions;
INSERT OR IGNORE INTO strings (value) SELECT principal_arn FROM denials WHERE principal_arn IS NOT NULL;
INSERT OR IGNORE INTO strings (value) SELECT principal_id FROM denials WHERE principal_id IS NOT NULL;
INSERT OR IGNORE INTO strings (value) SELECT principal_name FROM denials WHERE principal_name IS NOT NULL;
INSERT OR IGNORE INTO strings (value) SELECT role_arn FROM denials WHERE role_arn IS NOT NULL;
INSERT OR IGNORE INTO strings (value) SELECT action COLLATE BINARY FROM denials WHERE action IS NOT NULL;
INSERT OR IGNORE INTO strings (value) SELECT action_raw FROM denials WHERE action_raw IS NOT NULL;
INSERT OR IGNORE INTO strings (value) SELECT resource FROM denials WHERE resource IS NOT NULL;
INSERT INTO strings_fts (rowid, value) SELECT id, value FROM strings;

-- One row per condition value: the key as a case-insensitive id (filters, facets) and as spelled in
-- the message (key_sid, shown on the denial page), the value as a string id.
CREATE TABLE conditions_v4 (
  denial_id INTEGER NOT NULL REFERENCES denials (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  key_id INTEGER NOT NULL,                    -- condition_keys.id
  key_sid INTEGER NOT NULL,                   -- strings.id of the key as spelled
  value_id INTEGER NOT NULL,                  -- strings.id
  value_index INTEGER NOT NULL,               -- 0 for the first value of a key: counts denials per key
  PRIMARY KEY (denial_id, position)
) STRICT, WITHOUT ROWID;
INSERT INTO conditions_v4 (denial_id, position, key_id, key_sid, value_id, value_index)
  SELECT c.denial_id, c.position, k.id, ks.id, vs.id, c.value_index FROM conditions c
  JOIN condition_keys k ON k.key = c.key
  JOIN strings ks ON ks.value = c.key COLLATE BINARY
  JOIN strings vs ON vs.value = c.value COLLATE BINARY;
DROP TABLE conditions;
ALTER TABLE conditions_v4 RENAME TO conditions;
-- value first: "KEY=VALUE" filters and the q lookup of value ids both start from the value.
CREATE INDEX idx_conditions_value ON conditions (value_id, key_id, denial_id);
CREATE INDEX idx_conditions_key_first ON conditions (key_id, denial_id) WHERE value_index = 0;

-- The searchable columns of each denial (principal ARN, id and name, role ARN, action as normalised
-- and as given, resource) as string ids: what q finds besides condition values.
CREATE TABLE denial_terms (
  string_id INTEGER NOT NULL,
  denial_id INTEGER NOT NULL,
  PRIMARY KEY (string_id, denial_id)
) STRICT, WITHOUT ROWID;
INSERT OR IGNORE INTO denial_terms (string_id, denial_id)
  SELECT s.id, d.id FROM denials d JOIN strings s ON s.value IN (d.principal_arn, d.principal_id, d.principal_name, d.role_arn, d.action COLLATE BINARY, d.action_raw, d.resource);

DROP TABLE denials_fts;

CREATE TABLE daily_counts (
  day TEXT PRIMARY KEY,                       -- YYYY-MM-DD (UTC)
  occurrences INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO daily_counts (day, occurrences) SELECT substr(observed_at, 1, 10), count(*) FROM occurrences GROUP BY 1;

CREATE TABLE denial_last_days (
  day TEXT PRIMARY KEY,                       -- YYYY-MM-DD (UTC) of denials.last_seen
  denials INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO denial_last_days (day, denials) SELECT substr(last_seen, 1, 10), count(*) FROM denials GROUP BY 1;

-- Principals (the role, for assumed-role sessions) and accounts denied per day: distinct counts over
-- a period read days × principals rows, not every denial.
CREATE TABLE daily_principals (
  day TEXT NOT NULL,
  principal TEXT NOT NULL,                    -- coalesce(role_arn, principal_arn), '' when neither
  account TEXT NOT NULL,                      -- principal_account, '' when unknown
  occurrences INTEGER NOT NULL,
  PRIMARY KEY (day, principal, account)
) STRICT, WITHOUT ROWID;
INSERT INTO daily_principals (day, principal, account, occurrences)
  SELECT substr(o.observed_at, 1, 10), coalesce(d.role_arn, d.principal_arn, ''), coalesce(d.principal_account, ''), count(*)
  FROM occurrences o JOIN denials d ON d.id = o.denial_id GROUP BY 1, 2, 3;

-- Unfiltered facet counts (denials per action, principal, account, service, decision, kind, policy
-- type, condition key), changed by what a transaction adds or removes (decoding a CloudTrail event
-- moves its occurrence from its text denial, which goes when it has none left).
CREATE TABLE facet_counts (
  facet TEXT NOT NULL,
  key TEXT NOT NULL,                          -- what the facet groups by: lower(value) for action and service (NOCASE columns)
  value TEXT NOT NULL,                        -- as shown (the first spelling seen)
  denials INTEGER NOT NULL,
  PRIMARY KEY (facet, key)
) STRICT, WITHOUT ROWID;
INSERT INTO facet_counts SELECT 'action', lower(action), action, count(*) FROM denials WHERE action IS NOT NULL GROUP BY action;
INSERT INTO facet_counts SELECT 'service', lower(service), service, count(*) FROM denials WHERE service IS NOT NULL GROUP BY service;
INSERT INTO facet_counts SELECT 'principal', p, p, count(*) FROM (SELECT coalesce(role_arn, principal_arn) AS p FROM denials) WHERE p IS NOT NULL GROUP BY p;
INSERT INTO facet_counts SELECT 'account', principal_account, principal_account, count(*) FROM denials WHERE principal_account IS NOT NULL GROUP BY principal_account;
INSERT INTO facet_counts SELECT 'decision', decision, decision, count(*) FROM denials GROUP BY decision;
INSERT INTO facet_counts SELECT 'kind', kind, kind, count(*) FROM denials GROUP BY kind;
INSERT INTO facet_counts SELECT 'policyType', policy_type, policy_type, count(*) FROM denials WHERE policy_type IS NOT NULL GROUP BY policy_type;
INSERT INTO facet_counts SELECT 'conditionKey', CAST(key_id AS TEXT), CAST(key_id AS TEXT), count(*) FROM conditions WHERE value_index = 0 GROUP BY key_id;

-- The most recurring denials without sorting them all; a denial's occurrences in a period by range.
CREATE INDEX idx_denials_occurrences ON denials (occurrences DESC, id DESC);
CREATE INDEX idx_occurrences_denial_observed ON occurrences (denial_id, observed_at);
`
}
