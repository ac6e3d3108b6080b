/** Append-only list of schema migrations; each runs in one transaction with its user_version bump. */
import { initial } from './0001-initial.js'
import { reportSignature } from './0002-report-signature.js'
import { occurrenceIdentity } from './0003-occurrence-identity.js'
import { stringsRollups } from './0004-strings-rollups.js'
import type { Migration } from './migration.js'

export type { Migration }

export const migrations: readonly Migration[] = [initial, reportSignature, occurrenceIdentity, stringsRollups]
