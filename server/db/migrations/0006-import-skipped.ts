/** 0006: an import keeps how many records it skipped (CloudTrail events that are not denials), beside imported, duplicates and rejected. */
import type { Migration } from './migration.js'

// NULL for the imports made before: since 0005, CloudTrail imports skipped events without counting
// them in the database, so 0 could be false; NULL says "not recorded" (pages show "—"). New imports
// insert 0 explicitly. ADD COLUMN without a default rewrites nothing: a large database migrates at once.
export const importSkipped: Migration = {
  version: 6,
  name: 'import-skipped',
  up: `
ALTER TABLE imports ADD COLUMN skipped INTEGER CHECK (skipped IS NULL OR skipped >= 0);
`
}
