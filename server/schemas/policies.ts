/** TypeBox schemas of the policy API: the `policies` object of a denial and the what-if answer. */
import { Type } from '../util/typebox.js'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

const PolicyRef = Type.Object({
  policyArn: Nullable(Type.String()),
  policyName: Type.String(),
  policyType: Type.String({ description: 'identity, boundary, scp, rcp, resource or session' })
}, { additionalProperties: true })

const Deciding = Type.Object({ ...PolicyRef.properties, statementId: Nullable(Type.String()), statementIndex: Nullable(Type.Integer()), effect: Type.String(), ref: Type.String() })

export const PoliciesSchema = Type.Object({
  snapshot: Nullable(Type.Object({ id: Type.Integer(), takenAt: Type.String() })),
  statements: Type.Array(Type.Object({
    statementId: Nullable(Type.String()),
    matchedBy: Type.String({ description: 'sid, or content (no Sid in the message: found by its actions and resources)' }),
    matches: Type.Array(Type.Object({ ...PolicyRef.properties, attachedTo: Type.String(), ref: Type.String(), statementIndex: Type.Integer() }))
  })),
  evaluation: Nullable(Type.Object({
    decision: Type.String({ description: 'explicit-deny, implicit-deny, allowed or unknown' }),
    agreesWithMessage: Type.Boolean(),
    reasons: Type.Array(Type.String()),
    deciding: Type.Array(Deciding),
    nearest: Type.Array(Type.Object({ ...PolicyRef.properties, ref: Type.String(), statementId: Nullable(Type.String()), statementIndex: Type.Integer(), missing: Type.Array(Type.String()) }))
  })),
  fix: Nullable(Type.Object({
    ...PolicyRef.properties,
    ref: Nullable(Type.String()),
    kind: Type.String({ description: 'edit-statement, add-statement, remove-deny or outside-account' }),
    before: Type.Unknown(),
    after: Type.Unknown(),
    document: Type.Unknown({ description: 'The whole document after the change' }),
    current: Type.Unknown({ description: 'The document before the change (null: a new policy)' }),
    verified: Type.Boolean(),
    decisionAfter: Type.String(),
    wouldAllow: Type.Array(Type.Integer()),
    note: Type.String()
  }))
}, { description: 'What the policy snapshot says about this denial (README, "Which policy, and the fix")' })

export const WhatIfResultSchema = Type.Object({
  decision: Type.String(),
  deciding: Type.Array(Deciding),
  reasons: Type.Array(Type.String())
})
