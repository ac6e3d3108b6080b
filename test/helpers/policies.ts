/** Seeding an app with the policy fixtures: the nine decoded denials and the snapshot (authorization details and three SCPs). */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { importPolicies } from '../../server/services/policies.js'
import { FIXTURES } from './files.js'

export const POLICY_FIXTURES = path.join(FIXTURES, 'policies')
export const SNAPSHOT_FILES = ['authorization-details.json', 'scp-full-aws-access.json', 'scp-deny-outside-eu.json', 'scp-deny-leave-org.json']

/** The action of each fixture denial (unique among them): how tests find a denial's id. */
export const FIXTURE_ACTIONS: Record<string, string> = {
  'ambiguous-sid': 'iam:CreateAccessKey',
  'boundary-explicit-deny': 's3:DeleteBucket',
  'inline-explicit-deny': 'ec2:TerminateInstances',
  'managed-explicit-deny': 'secretsmanager:GetSecretValue',
  'near-miss-condition': 'ec2:RunInstances',
  'nothing-close': 'sns:Publish',
  'now-allowed': 's3:GetObject',
  'scp-explicit-deny': 'ec2:DescribeInstances',
  'sid-not-in-snapshot': 's3:PutObject'
}

/** Import the fixture denials (and, unless `snapshot` is false, the snapshot); returns fixture name → denial id. */
export async function seedPolicyFixtures (app: FastifyInstance, snapshot = true): Promise<Record<string, number>> {
  const ids: Record<string, number> = {}
  for (const name of Object.keys(FIXTURE_ACTIONS)) {
    const body = readFileSync(path.join(POLICY_FIXTURES, 'denials', `${name}.json`), 'utf8')
    const res = await app.inject({ method: 'POST', url: '/api/imports', headers: { 'content-type': 'application/json' }, body })
    if (res.statusCode !== 200) throw new Error(res.body)
    const found = (await app.inject({ url: `/api/denials?action=${encodeURIComponent(FIXTURE_ACTIONS[name]!)}&facets=false` })).json() as { items: Array<{ id: number }> }
    ids[name] = found.items[0]!.id
  }
  if (snapshot) {
    importPolicies(app.repos, SNAPSHOT_FILES.map(f => ({ source: f, text: readFileSync(path.join(POLICY_FIXTURES, f), 'utf8') })), { accounts: ['111122223333'], takenAt: '2026-11-25T00:00:00.000Z', resource: null })
  }
  return ids
}
