/** Append-only list of schema migrations; each runs in one transaction with its user_version bump. */
import { initial } from './0001-initial.js'
import { reportSignature } from './0002-report-signature.js'
import { occurrenceIdentity } from './0003-occurrence-identity.js'
import { policySnapshots } from './0004-policy-snapshots.js'
import { textAndEvents } from './0005-text-and-events.js'
import { importSkipped } from './0006-import-skipped.js'
import { stringsRollups } from './0007-strings-rollups.js'
import { denialDeletions } from './0008-denial-deletions.js'
import { packedMessages } from './0009-packed-messages.js'
import { importCosts } from './0010-import-costs.js'
import { occurrenceChanges } from './0011-occurrence-changes.js'
import type { Migration } from './migration.js'

export type { Migration }

export const migrations: readonly Migration[] = [initial, reportSignature, occurrenceIdentity, policySnapshots, textAndEvents, importSkipped, stringsRollups, denialDeletions, packedMessages, importCosts, occurrenceChanges]
