/** View models of the policy pages and of the denial page's "Which policy, and the fix" section. Untrusted text stays text: templates escape it. */
import type { Repositories } from '../../db/index.js'
import type { DenialDetail } from '../../authz/types.js'
import type { PolicyDocument } from '../../authz/evaluate/types.js'
import type { PoliciesView } from '../../services/policies.js'
import { lineDiff } from '../../render/diff.js'
import { formatInstant } from '../../render/helpers.js'

const DECISION_CLASS: Record<string, string> = { 'explicit-deny': 'badge-explicit', 'implicit-deny': 'badge-implicit', allowed: 'badge-allowed', unknown: 'badge-other' }
const TYPE_LABEL: Record<string, string> = { identity: 'identity', boundary: 'permissions boundary', scp: 'SCP', rcp: 'RCP', resource: 'resource policy', session: 'session policy' }

export const decisionBadge = (d: string): { label: string, cls: string } => ({ label: d, cls: DECISION_CLASS[d] ?? 'badge-other' })
export const typeLabel = (t: string): string => TYPE_LABEL[t] ?? t

/** A document as statement blocks, some marked (deciding, nearly allowing). */
export function statementBlocks (doc: PolicyDocument, mark: (i: number) => { cls: string, note: string } | null): Array<{ label: string, json: string, cls: string, note: string | null, anchor: string }> {
  return doc.Statement.map((s, i) => {
    const m = mark(i)
    return { label: s.Sid ? `Sid "${s.Sid}"` : `Statement ${i + 1} (no Sid)`, json: JSON.stringify(s, null, 2), cls: m?.cls ?? '', note: m?.note ?? null, anchor: `statement-${i + 1}` }
  })
}

const policyHref = (v: PoliciesView, ref: string): string | null => v.policyIds[ref] !== undefined ? `/policies/${v.policyIds[ref]}` : null

/** The section of the denial page. */
export function denialPoliciesModel (repos: Repositories, d: DenialDetail, v: PoliciesView, csrfToken: string): object {
  const e = v.evaluation
  const documentOf = (ref: string): PolicyDocument | null => {
    const id = v.policyIds[ref]
    return id === undefined ? null : repos.policies.policy(id)?.document ?? null
  }
  const deciding = (e?.deciding ?? []).slice(0, 3).map(x => {
    const doc = documentOf(x.ref)
    return {
      name: x.policyArn ?? x.policyName,
      href: policyHref(v, x.ref),
      type: typeLabel(x.policyType),
      statement: x.statementIndex === null ? 'no statement of it allows the request' : x.statementId ? `statement "${x.statementId}"` : `statement ${x.statementIndex + 1}`,
      blocks: doc ? statementBlocks(doc, i => i === x.statementIndex ? { cls: 'stmt-deciding', note: 'deciding statement' } : null) : []
    }
  })
  const fix = v.fix
  return {
    snapshot: v.snapshot ? { id: v.snapshot.id, takenAt: formatInstant(v.snapshot.takenAt) } : null,
    statements: v.statements.map(s => ({
      label: s.statementId ? `Sid "${s.statementId}"` : 'A statement without Sid',
      byContent: s.matchedBy === 'content',
      none: s.matches.length === 0,
      ambiguous: s.matches.length > 1,
      matches: s.matches.map(m => ({ name: m.policyArn ?? m.policyName, inline: m.policyArn === null, href: policyHref(v, m.ref), type: typeLabel(m.policyType), attachedTo: m.attachedTo }))
    })),
    evaluation: e
      ? {
          badge: decisionBadge(e.decision),
          agrees: e.agreesWithMessage,
          message: d.decision,
          reasons: e.reasons,
          nearest: e.nearest.map(n => ({ name: n.policyArn ?? n.policyName, href: policyHref(v, n.ref), statement: n.statementId ? `"${n.statementId}"` : `#${n.statementIndex + 1}`, missing: n.missing.join(', ') }))
        }
      : null,
    deciding,
    fix: fix
      ? {
          kind: fix.kind,
          verified: fix.verified,
          note: fix.note,
          name: fix.policyArn ?? fix.policyName,
          href: fix.ref ? policyHref(v, fix.ref) : null,
          type: typeLabel(fix.policyType),
          diff: lineDiff(fix.current ? JSON.stringify(fix.current, null, 2) : '', JSON.stringify(fix.document, null, 2))
            .map(l => ({ cls: l.op === '+' ? 'diff-add' : l.op === '-' ? 'diff-del' : 'diff-same', sign: l.op, text: l.text })),
          documentJson: JSON.stringify(fix.document, null, 2)
        }
      : null,
    whatIf: v.snapshot && (v.applicable ?? []).length > 0 ? whatIfForm(d.id, v, csrfToken, null, null) : null
  }
}

/** The what-if form: which policy to replace, with which document (prefilled with the fix, else the first policy's document). */
export function whatIfForm (id: number, v: PoliciesView, csrfToken: string, policy: string | null, document: string | null): object {
  const options = (v.applicable ?? []).map(p => ({ value: p.policyArn ?? p.policyName, label: `${typeLabel(p.policyType)}: ${p.policyArn ?? `${p.policyName} (inline, ${p.attachedTo})`}` }))
  const chosen = policy ?? (v.fix?.policyArn ?? v.fix?.policyName) ?? options[0]?.value ?? ''
  return {
    action: `/denials/${id}/what-if`,
    csrfToken,
    options: options.map(o => ({ ...o, selected: o.value === chosen })),
    document: document ?? (v.fix && v.fix.current !== null ? JSON.stringify(v.fix.document, null, 2) : '')
  }
}
