/** Row mappers shared by the repositories: denial rows to the domain types of authz/types.ts. */
import type { Decision, DenialKind, DenialSummary, MatchedStatement, PolicyType, Principal } from '../../authz/types.js'

export interface DenialRow {
  id: number
  content_hash: string
  raw: string
  kind: DenialKind
  decision: Decision
  policy_type: PolicyType | null
  policy_arn: string | null
  principal_arn: string | null
  principal_id: string | null
  principal_name: string | null
  principal_type: string | null
  principal_account: string | null
  role_arn: string | null
  session_name: string | null
  action: string | null
  action_raw: string | null
  service: string | null
  resource: string | null
  region: string | null
  occurrences: number
  first_seen: string
  last_seen: string
}

export const SUMMARY_COLUMNS = 'd.id, d.kind, d.decision, d.policy_type, d.policy_arn, d.action, d.service, d.principal_arn, d.resource, d.region, d.occurrences, d.first_seen, d.last_seen'

export function rowToSummary (r: Pick<DenialRow, 'id' | 'kind' | 'decision' | 'policy_type' | 'policy_arn' | 'action' | 'service' | 'principal_arn' | 'resource' | 'region' | 'occurrences' | 'first_seen' | 'last_seen'>): DenialSummary {
  return {
    id: r.id,
    kind: r.kind,
    decision: r.decision,
    policyType: r.policy_type,
    policyArn: r.policy_arn,
    action: r.action,
    service: r.service,
    principalArn: r.principal_arn,
    resource: r.resource,
    region: r.region,
    occurrences: r.occurrences,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen
  }
}

export interface StatementRow { statement_id: string | null, effect: string | null, principals: string, principal_groups: string, actions: string, resources: string, conditions: string }

export function rowToPrincipal (r: Pick<DenialRow, 'principal_arn' | 'principal_id' | 'principal_name' | 'principal_type' | 'principal_account' | 'role_arn' | 'session_name'>): Principal {
  return {
    arn: r.principal_arn,
    id: r.principal_id,
    name: r.principal_name,
    type: r.principal_type,
    account: r.principal_account,
    roleArn: r.role_arn,
    sessionName: r.session_name
  }
}

/** Condition rows (in position order) → one entry per key with all its values. */
export function groupConditions (rows: Array<{ key: string, value: string }>): Array<{ key: string, values: string[] }> {
  const out: Array<{ key: string, values: string[] }> = []
  for (const c of rows) {
    const last = out[out.length - 1]
    if (last && last.key === c.key) last.values.push(c.value)
    else out.push({ key: c.key, values: [c.value] })
  }
  return out
}

export function rowToStatement (s: StatementRow): MatchedStatement {
  return {
    statementId: s.statement_id,
    effect: s.effect,
    principals: JSON.parse(s.principals) as string[],
    principalGroups: JSON.parse(s.principal_groups) as string[],
    actions: JSON.parse(s.actions) as string[],
    resources: JSON.parse(s.resources) as string[],
    conditions: JSON.parse(s.conditions) as MatchedStatement['conditions']
  }
}
