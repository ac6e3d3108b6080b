/** `whydenied explain ID`: why a stored denial happened and what the policy snapshot says (which policy, our verdict, the fix). */
import type { Command } from 'commander'
import { explainDenial } from '../authz/explain.js'
import { policiesOf, type PoliciesView } from '../services/policies.js'
import { lineDiff } from '../render/diff.js'
import { fail, withDb, type DbOption } from './common.js'
import { denialId, open } from './policies.js'

export function register (program: Command): void {
  withDb(program.command('explain'))
    .description('Why a stored denial happened and how to fix it: the message, and what the policy snapshot says (which policy, our verdict, the fix)')
    .argument('<id>', 'denial id', denialId)
    .option('--json', 'print {"id","decision","explanation","policies"} (policies as in GET /api/denials/:id)')
    .action((id: number, opts: DbOption & { json?: boolean }) => {
      const store = open(opts)
      let out
      try {
        const d = store.repos.denials.get(id)
        if (!d) fail(`No denial with id ${id}`)
        out = { id: d.id, decision: d.decision, explanation: explainDenial({ ...d, occurrences: undefined, firstSeen: undefined, lastSeen: undefined }), policies: withoutIds(policiesOf(store.repos, d)) }
      } catch (err) {
        store.close()
        fail(err)
      }
      store.close()
      if (opts.json) { process.stdout.write(JSON.stringify(out) + '\n'); return }
      process.stdout.write(explainText(out.explanation.summary, out.policies))
    })
}

/** The API's shape: the page's ids of policies stay out of the JSON. */
function withoutIds (v: PoliciesView): Omit<PoliciesView, 'policyIds' | 'applicable'> {
  const { policyIds, applicable, ...rest } = v
  void policyIds
  void applicable
  return rest
}

function explainText (summary: string, p: Omit<PoliciesView, 'policyIds' | 'applicable'>): string {
  const lines = [summary, '']
  if (p.snapshot === null) {
    lines.push('No policy snapshot covers this account: import one (whydenied policies import) to see which policy decided and the fix.')
    return lines.join('\n') + '\n'
  }
  lines.push(`Policy snapshot #${p.snapshot.id}, taken ${p.snapshot.takenAt}`)
  for (const s of p.statements) {
    const label = s.statementId ? `Sid "${s.statementId}"` : 'A statement without Sid'
    if (s.matches.length === 0) lines.push(`  ${label}: in no policy of the snapshot that applies`)
    for (const m of s.matches) lines.push(`  ${label}${s.matchedBy === 'content' ? ' (matched by its actions and resources)' : ''}: ${m.policyType} ${m.policyArn ?? `inline ${m.policyName}`} on ${m.attachedTo}${s.matches.length > 1 ? ' (ambiguous)' : ''}`)
  }
  const e = p.evaluation
  if (e) {
    lines.push(`Our evaluation: ${e.decision}${e.agreesWithMessage ? ' (agrees with the message)' : ' (DISAGREES with the message)'}`)
    for (const r of e.reasons) lines.push(`  ${r}`)
    for (const n of e.nearest) lines.push(`  nearly allowed by ${n.policyArn ?? n.policyName} ${n.statementId ? `"${n.statementId}"` : `#${n.statementIndex + 1}`}: missing ${n.missing.join(', ')}`)
  }
  const f = p.fix
  if (f) {
    lines.push('', `Fix (${f.kind}, ${f.verified ? 'verified' : 'NOT verified'}): ${f.note}`)
    const before = f.current ? JSON.stringify(f.current, null, 2) : ''
    for (const l of lineDiff(before, JSON.stringify(f.document, null, 2))) lines.push(`${l.op} ${l.text}`)
  }
  return lines.join('\n') + '\n'
}
