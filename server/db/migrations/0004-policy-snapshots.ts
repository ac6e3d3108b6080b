/** 0004: policy snapshots (per account, newest in force, old ones kept) and their policies, for the offline evaluation. */
import type { Migration } from './migration.js'

// Reserved as 0005 in the plan (0004 and 0006 belong to other work): this step takes the next
// free number when it merges, since the runner needs consecutive versions.
export const policySnapshots: Migration = {
  version: 4,
  name: 'policy-snapshots',
  up: `
CREATE TABLE policy_snapshots (
  id INTEGER PRIMARY KEY,
  account TEXT NOT NULL,                      -- the AWS account it describes (12 digits)
  taken_at TEXT NOT NULL,                     -- when the exports were made (--taken-at, else the import time)
  imported_at TEXT NOT NULL,
  principals TEXT NOT NULL,                   -- JSON {"principals": [...], "groups": [...]}: read whole, never queried
  sources TEXT NOT NULL DEFAULT '[]'          -- JSON list of the files it came from
) STRICT;
-- The snapshot in force for an account is its newest: one index range.
CREATE INDEX idx_policy_snapshots_account_taken ON policy_snapshots (account, taken_at DESC, id DESC);

CREATE TABLE snapshot_policies (
  id INTEGER PRIMARY KEY,
  snapshot_id INTEGER NOT NULL REFERENCES policy_snapshots (id) ON DELETE CASCADE,
  ref TEXT NOT NULL,                          -- ARN, inline:OWNER:NAME, or resource:ARN: unique in its snapshot
  kind TEXT NOT NULL CHECK (kind IN ('managed', 'inline', 'scp', 'rcp', 'resource')),
  arn TEXT,
  name TEXT NOT NULL,
  attached_to TEXT NOT NULL,                  -- JSON list of principal, group, account or resource ARNs
  assumed_scope INTEGER NOT NULL DEFAULT 0,   -- SCP/RCP imported without --account: applied to every account by assumption
  version_id TEXT,
  document TEXT NOT NULL,                     -- the checked policy document, compact JSON
  UNIQUE (snapshot_id, ref)
) STRICT;
`
}
