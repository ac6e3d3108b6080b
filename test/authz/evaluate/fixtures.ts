/** The policy fixtures (fixtures/policies) read as the evaluation sees them: a snapshot and denials. */
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { parseEnvelope } from '../../../server/authz/parse.js'
import { mergeContent, readExport, supersede, type SnapshotContent, type SnapshotPolicy } from '../../../server/authz/evaluate/snapshot.js'
import type { DenialFacts } from '../../../server/authz/evaluate/analysis.js'
import { ROOT } from '../../helpers/build.js'

export const POLICY_FIXTURES = path.join(ROOT, 'fixtures', 'policies')
export const DENIAL_FIXTURES = path.join(POLICY_FIXTURES, 'denials')
export const DENIAL_NAMES = readdirSync(DENIAL_FIXTURES).filter(f => f.endsWith('.json')).map(f => f.replace(/\.json$/, '')).sort()

export function exportOf (file: string, resource: string | null = null): ReturnType<typeof readExport> {
  return readExport(readFileSync(path.join(POLICY_FIXTURES, file), 'utf8'), file, resource)
}

/** The fixture account's snapshot: authorization details plus the three SCPs applied to it. */
export function fixtureSnapshot (): SnapshotContent {
  const details = exportOf('authorization-details.json').parts[0]
  if (details?.kind !== 'authorization-details') throw new Error('fixture')
  const scps = ['scp-full-aws-access.json', 'scp-deny-outside-eu.json', 'scp-deny-leave-org.json'].map(f => {
    const p = exportOf(f).parts[0]
    if (p?.kind !== 'org-policy') throw new Error('fixture')
    return { ...p.policy, attachedTo: ['111122223333'] } satisfies SnapshotPolicy
  })
  return supersede(null, { details: mergeContent({ principals: [], groups: [], policies: [] }, details.content), scps, rcps: null, resources: [] })
}

let nextId = 1
export function denialFixture (name: string): DenialFacts {
  const m = parseEnvelope(JSON.parse(readFileSync(path.join(DENIAL_FIXTURES, `${name}.json`), 'utf8'))).message
  const conditions: DenialFacts['conditions'] = []
  for (const c of m.conditions) {
    const prev = conditions.find(x => x.key === c.key)
    if (prev) prev.values.push(c.value)
    else conditions.push({ key: c.key, values: [c.value] })
  }
  return { id: nextId++, decision: m.decision, principal: m.principal, action: m.action, resource: m.resource, conditions, statements: m.statements }
}
