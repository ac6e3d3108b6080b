/** 0002: a covering index in denial-signature order, so team reports group denials without sorting them. */
import type { Migration } from './migration.js'

// The report groups denials by (principal, or its role for sessions; action; resource; decision) and
// counts distinct principals inside each group. Reading the wide denials rows (they hold the raw JSON)
// is what made that slow: this index holds every column the report needs, already in group order.
export const reportSignature: Migration = {
  version: 2,
  name: 'report-signature',
  up: `
CREATE INDEX idx_denials_signature ON denials (coalesce(role_arn, principal_arn), action, resource, decision, principal_arn, principal_account);
`
}
