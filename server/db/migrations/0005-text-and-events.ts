/** 0005: text denials (kind, policy type and ARN) and CloudTrail events (an occurrence's identity and context, and its encoded message to decode). */
import type { Migration } from './migration.js'

// ADD COLUMN with a constant default rewrites nothing: a large database migrates at once.
export const textAndEvents: Migration = {
  version: 5,
  name: 'text-and-events',
  up: `
ALTER TABLE denials ADD COLUMN kind TEXT NOT NULL DEFAULT 'decoded' CHECK (kind IN ('decoded', 'text'));
ALTER TABLE denials ADD COLUMN policy_type TEXT CHECK (policy_type IN ('identity', 'resource', 'boundary', 'scp', 'rcp', 'session', 'vpc-endpoint'));
ALTER TABLE denials ADD COLUMN policy_arn TEXT;
CREATE INDEX idx_denials_kind ON denials (kind, policy_type);
CREATE INDEX idx_denials_policy_arn ON denials (policy_arn) WHERE policy_arn IS NOT NULL;

-- One row per CloudTrail event stored: its eventID identifies its occurrence, whatever file or
-- lookup-events output it came from. An encoded message in its errorMessage waits here to be decoded
-- (pending); once decoded, the occurrence moves to the decoded denial.
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  occurrence_id INTEGER,                      -- occurrences.id (no REFERENCES: occurrences is rebuilt by migrations)
  event_time TEXT NOT NULL,
  event_source TEXT,
  event_name TEXT,
  error_code TEXT,
  region TEXT,
  source_ip TEXT,
  user_agent TEXT,
  token TEXT,                                 -- the encoded authorization message, while pending
  token_sha256 BLOB CHECK (token_sha256 IS NULL OR length(token_sha256) = 32),
  token_state TEXT CHECK (token_state IN ('pending', 'truncated', 'decoded', 'undecodable'))
) STRICT;
CREATE INDEX idx_events_occurrence ON events (occurrence_id);
CREATE INDEX idx_events_pending ON events (id) WHERE token_state = 'pending';
CREATE INDEX idx_events_token ON events (token_sha256) WHERE token_sha256 IS NOT NULL;

-- What STS answered for each encoded message (by its SHA-256): a message is sent to STS once, also
-- when a later import or decode --pending meets it again.
CREATE TABLE token_cache (
  sha256 BLOB PRIMARY KEY CHECK (length(sha256) = 32),
  decoded TEXT NOT NULL
) STRICT, WITHOUT ROWID;
`
}
