/** Types of the offline policy evaluation: policies as they apply to one request, and what evaluating them yields. */
import type { PolicyStatement } from '../policy-match.js'

export const PolicyTypes = ['identity', 'boundary', 'scp', 'rcp', 'resource', 'session'] as const
export type PolicyType = (typeof PolicyTypes)[number]

export interface PolicyDocument {
  Version?: string
  Id?: string
  Statement: PolicyStatement[]
}

/** One policy as it applies to a request: which document, of what type, attached to what. */
export interface AppliedPolicy {
  /** Stable name within a snapshot: the ARN, or `inline:PRINCIPAL_ARN:NAME`, or `resource:ARN`. */
  ref: string
  policyArn: string | null
  policyName: string
  policyType: PolicyType
  /** The principal, group, account or resource it is attached to. */
  attachedTo: string
  document: PolicyDocument
  /** Account that owns it (resource policies: the resource's account), when known. */
  account: string | null
}

export const EvalDecisions = ['explicit-deny', 'implicit-deny', 'allowed', 'unknown'] as const
export type EvalDecision = (typeof EvalDecisions)[number]

export interface DecidingStatement {
  /** The policy's ref in its snapshot. */
  ref: string
  policyArn: string | null
  policyName: string
  policyType: PolicyType
  statementId: string | null
  /** Index of the statement in its document (0 first); null when a whole policy decided (no Allow in it). */
  statementIndex: number | null
  effect: 'Allow' | 'Deny' | 'none'
}

export interface NearStatement {
  policyArn: string | null
  policyName: string
  policyType: PolicyType
  ref: string
  statementId: string | null
  statementIndex: number
  /** What keeps it from applying: "action", "resource", "principal", "condition:KEY", or a policy type that must also allow ("boundary", "scp", ...). */
  missing: string[]
}

export interface Evaluation {
  decision: EvalDecision
  reasons: string[]
  deciding: DecidingStatement[]
  nearest: NearStatement[]
  /** Deny statements whose verdict is unknown: they may or may not apply. */
  possibleDenies: DecidingStatement[]
}
