/** 0011: a counter of occurrences moved or deleted, kept by triggers, so that in-memory copies of the occurrences know when to start over. */
import type { Migration } from './migration.js'

// The server keeps each occurrence's denial and time in memory for team reports
// (repositories/occurrence-times.ts), loading only the rows added since (ids only grow). An occurrence
// can also be moved to another denial (a CloudTrail event decoded: events.ts relink) or deleted (with
// its denial, or as a duplicate of the decoded one), and an id freed at the top is handed out again:
// these triggers count both, whichever code or process makes them, and the copy reloads when the
// counter moves. Inserts are not counted (no cost on import); moves and deletions are rare.
// Creating a trigger and a row rewrites nothing: a large database migrates at once.
export const occurrenceChanges: Migration = {
  version: 11,
  name: 'occurrence-changes',
  up: `
INSERT INTO counters (name, n) VALUES ('occurrences_changed', 0);
CREATE TRIGGER occurrences_deleted AFTER DELETE ON occurrences BEGIN
  UPDATE counters SET n = n + 1 WHERE name = 'occurrences_changed';
END;
CREATE TRIGGER occurrences_moved AFTER UPDATE OF id, denial_id, observed_at ON occurrences BEGIN
  UPDATE counters SET n = n + 1 WHERE name = 'occurrences_changed';
END;
`
}
