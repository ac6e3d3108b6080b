/** `whydenied policies import|list`, `explain` and `what-if`, spawned from dist/ on the policy fixtures. */
import t, { type Test } from 'tap'
import path from 'node:path'
import { writeFileSync } from 'node:fs'
import { tempDir } from '../helpers/files.js'
import { runCli } from '../helpers/cli.js'
import { FIXTURE_ACTIONS, POLICY_FIXTURES } from '../helpers/policies.js'

const F = (f: string): string => path.join(POLICY_FIXTURES, f)

async function seeded (t: Test): Promise<{ db: string, ids: Record<string, number>, dir: string }> {
  const dir = tempDir(t)
  const db = path.join(dir, 'p.db')
  const imp = await runCli(['import', '--db', db, '--json', F('denials')])
  t.equal(imp.code, 0, imp.stderr)
  const search = JSON.parse((await runCli(['search', '--db', db, '--json'])).stdout) as { items: Array<{ id: number, action: string }> }
  const ids = Object.fromEntries(Object.entries(FIXTURE_ACTIONS).map(([name, action]) => [name, search.items.find(i => i.action === action)!.id]))
  return { db, ids, dir }
}

t.test('policies import: pages and SCPs, the JSON summary, the assumption said', async t => {
  const { db } = await seeded(t)
  const res = await runCli(['policies', 'import', '--db', db, '--json', '--taken-at', '2026-11-25T00:00:00Z', F('authorization-details-page1.json'), F('authorization-details-page2.json'), F('scp-full-aws-access.json'), F('scp-deny-outside-eu.json')])
  t.equal(res.code, 0, res.stderr)
  const s = JSON.parse(res.stdout)
  t.same(s.snapshot, { id: 1, takenAt: '2026-11-25T00:00:00.000Z' })
  t.equal(s.principals, 3)
  t.same(s.rejected, [])
  t.match(s.assumed, /applied to every account in the snapshots \(111122223333\): no --account was given/)
  const text = await runCli(['policies', 'list', '--db', db])
  t.match(text.stdout, /DeployEc2/)
  t.match(text.stdout, /scp\s+arn:aws:organizations::aws:policy\/service_control_policy\/p-FullAWSAccess/)
})

t.test('policies import: a bad file is rejected with its field, the good one imported (exit 2); nothing (exit 1)', async t => {
  const { db, dir } = await seeded(t)
  const bad = path.join(dir, 'bad.json')
  writeFileSync(bad, JSON.stringify({ Policy: { PolicySummary: { Type: 'SERVICE_CONTROL_POLICY', Name: 'x' }, Content: '{"Statement": {"Effect": "Allow", "Action": 5}}' } }))
  const res = await runCli(['policies', 'import', '--db', db, '--json', '--account', '111122223333', F('authorization-details.json'), bad, path.join(dir, 'missing.json')])
  t.equal(res.code, 2)
  const s = JSON.parse(res.stdout)
  t.same(s.rejected.map((r: any) => [path.basename(r.source), r.reason]), [
    ['missing.json', 'no such file or directory'],
    ['bad.json', 'Policy.Content.Statement.Action: expected a string, got number']
  ])
  const none = await runCli(['policies', 'import', '--db', db, bad])
  t.equal(none.code, 1)
  t.match(none.stdout, /rejected .*bad\.json: Policy\.Content\.Statement\.Action/)
  const acct = await runCli(['policies', 'import', '--db', db, '--account', 'abc', bad])
  t.equal(acct.code, 1)
  t.match(acct.stderr, /12-digit AWS account ID/)
})

t.test('a newer snapshot supersedes the older for the account; the older is kept', async t => {
  const { db, ids, dir } = await seeded(t)
  await runCli(['policies', 'import', '--db', db, '--taken-at', '2026-11-01', F('authorization-details.json'), F('scp-full-aws-access.json')])
  // The newer export no longer holds alice's inline Allow on project-data: now-allowed is denied again.
  const details = JSON.parse((await import('node:fs')).readFileSync(F('authorization-details.json'), 'utf8'))
  details.UserDetailList[0].UserPolicyList = []
  const newer = path.join(dir, 'newer.json')
  writeFileSync(newer, JSON.stringify(details))
  const before = JSON.parse((await runCli(['explain', '--db', db, '--json', String(ids['now-allowed'])])).stdout)
  t.equal(before.policies.evaluation.decision, 'allowed')
  const r = await runCli(['policies', 'import', '--db', db, '--json', '--taken-at', '2026-11-20', newer])
  t.equal(JSON.parse(r.stdout).snapshot.id, 2)
  const after = JSON.parse((await runCli(['explain', '--db', db, '--json', String(ids['now-allowed'])])).stdout)
  t.same(after.policies.snapshot, { id: 2, takenAt: '2026-11-20T00:00:00.000Z' })
  t.equal(after.policies.evaluation.decision, 'implicit-deny')
  t.equal(after.policies.evaluation.agreesWithMessage, true)
  const list = JSON.parse((await runCli(['policies', 'list', '--db', db, '--json'])).stdout)
  t.ok(list.policies.some((p: any) => p.type === 'scp'), 'the SCPs of the older snapshot are carried into the newer')
})

t.test('explain: text with the fix as a diff; --json with the policies object', async t => {
  const { db, ids } = await seeded(t)
  await runCli(['policies', 'import', '--db', db, '--account', '111122223333', F('authorization-details.json'), F('scp-full-aws-access.json'), F('scp-deny-outside-eu.json')])
  const text = await runCli(['explain', '--db', db, String(ids['near-miss-condition'])])
  t.equal(text.code, 0, text.stderr)
  t.match(text.stdout, /Our evaluation: implicit-deny \(agrees with the message\)/)
  t.match(text.stdout, /nearly allowed by arn:aws:iam::111122223333:policy\/DeployEc2 "AllowRunInstancesInEu": missing condition:aws:RequestedRegion/)
  t.match(text.stdout, /Fix \(edit-statement, verified\)/)
  t.match(text.stdout, /^- {11}"aws:RequestedRegion": "eu-west-1"$/m)
  t.match(text.stdout, /^\+ {13}"eu-central-1"$/m)
  const json = JSON.parse((await runCli(['explain', '--db', db, '--json', String(ids['boundary-explicit-deny'])])).stdout)
  t.same(Object.keys(json), ['id', 'decision', 'explanation', 'policies'])
  t.match(json.policies.statements[0].matches[0], { policyName: 'DeveloperBoundary', policyType: 'boundary' })
  t.equal(json.policies.fix.policyType, 'boundary')
  const missing = await runCli(['explain', '--db', db, '9999'])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /No denial with id 9999/)
})

t.test('what-if: NAME=FILE replaces a document; errors name what is wrong', async t => {
  const { db, ids, dir } = await seeded(t)
  await runCli(['policies', 'import', '--db', db, '--account', '111122223333', F('authorization-details.json'), F('scp-full-aws-access.json')])
  const doc = path.join(dir, 'deploy=v4.json')
  writeFileSync(doc, JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'AllowRunInstances', Effect: 'Allow', Action: 'ec2:RunInstances', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': ['eu-west-1', 'eu-central-1'] } } }] }))
  const res = await runCli(['what-if', '--db', db, '--json', '--denial', String(ids['near-miss-condition']), '--policy', `arn:aws:iam::111122223333:policy/DeployEc2=${doc}`])
  t.equal(res.code, 0, res.stderr)
  const w = JSON.parse(res.stdout)
  t.same(Object.keys(w), ['decision', 'deciding', 'reasons'])
  t.equal(w.decision, 'allowed')
  t.match(w.deciding[0], { policyName: 'DeployEc2', statementId: 'AllowRunInstances' })
  const text = await runCli(['what-if', '--db', db, '--denial', String(ids['near-miss-condition']), '--policy', `DeployEc2=${doc}`])
  t.match(text.stdout, /^decision: allowed$/m)
  const unknown = await runCli(['what-if', '--db', db, '--denial', String(ids['near-miss-condition']), '--policy', `Nope=${doc}`])
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /No policy that applies to this request is named "Nope"/)
  writeFileSync(path.join(dir, 'bad.json'), '{"Statement": [{"Effect": "Allow", "Action": "*"}, {"Effect": "Nope"}]}')
  const bad = await runCli(['what-if', '--db', db, '--denial', String(ids['near-miss-condition']), '--policy', `DeployEc2=${path.join(dir, 'bad.json')}`])
  t.equal(bad.code, 1)
  t.match(bad.stderr, /bad\.json\.Statement\[1\]\.Effect: Effect must be "Allow" or "Deny"/)
  const none = await runCli(['what-if', '--db', db, '--denial', String(ids['near-miss-condition'])])
  t.equal(none.code, 1)
  t.match(none.stderr, /give at least one policy/)
})
