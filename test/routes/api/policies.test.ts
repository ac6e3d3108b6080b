/** GET /api/denials/:id gains `policies`; POST /api/denials/:id/what-if; GET /api/policies and /api/policies/:id. */
import t from 'tap'
import { buildTestApp } from '../../helpers/build.js'
import { seedPolicyFixtures } from '../../helpers/policies.js'

t.test('the policies object: snapshot, statements, evaluation, fix', async t => {
  const app = await buildTestApp(t)
  const ids = await seedPolicyFixtures(app)
  const near = (await app.inject({ url: `/api/denials/${ids['near-miss-condition']}` })).json()
  t.same(near.policies.snapshot, { id: 1, takenAt: '2026-11-25T00:00:00.000Z' })
  t.equal(near.policies.evaluation.decision, 'implicit-deny')
  t.equal(near.policies.evaluation.agreesWithMessage, true)
  t.same(near.policies.evaluation.nearest[0].missing, ['condition:aws:RequestedRegion'])
  t.match(near.policies.fix, { policyArn: 'arn:aws:iam::111122223333:policy/DeployEc2', policyName: 'DeployEc2', kind: 'edit-statement', verified: true })
  t.equal(near.policies.fix.document.Statement.length, 2, 'the whole new document')
  t.notOk('policyIds' in near.policies)

  const scp = (await app.inject({ url: `/api/denials/${ids['scp-explicit-deny']}` })).json()
  t.match(scp.policies.statements[0], { statementId: null, matchedBy: 'content', matches: [{ policyName: 'DenyOutsideEU', policyType: 'scp', attachedTo: '111122223333' }] })
  t.match(scp.policies.evaluation.deciding[0], { policyName: 'DenyOutsideEU', statementId: 'DenyOutsideEU', effect: 'Deny' })

  const amb = (await app.inject({ url: `/api/denials/${ids['ambiguous-sid']}` })).json()
  t.equal(amb.policies.statements[0].matches.length, 2)
  t.same(amb.policies.statements[0].matches.map((m: any) => m.policyArn), [null, 'arn:aws:iam::111122223333:policy/team/DevReadOnly'])

  const now = (await app.inject({ url: `/api/denials/${ids['now-allowed']}` })).json()
  t.equal(now.policies.evaluation.decision, 'allowed')
  t.equal(now.policies.evaluation.agreesWithMessage, false)
  t.equal(now.policies.fix, null)
})

t.test('no snapshot: snapshot null, statements unmatched, no evaluation', async t => {
  const app = await buildTestApp(t)
  const ids = await seedPolicyFixtures(app, false)
  const d = (await app.inject({ url: `/api/denials/${ids['inline-explicit-deny']}` })).json()
  t.same(d.policies, { snapshot: null, statements: [{ statementId: 'DenyTerminate', matchedBy: 'sid', matches: [] }], evaluation: null, fix: null })
  const w = await app.inject({ method: 'POST', url: `/api/denials/${ids['inline-explicit-deny']}/what-if`, payload: { policies: [{ policy: 'x', document: { Statement: [] } }] } })
  t.equal(w.statusCode, 404)
  t.equal(w.json().code, 'WHYDENIED_NO_POLICY_SNAPSHOT')
})

t.test('what-if: a replaced document changes the verdict; bad input is refused with the field', async t => {
  const app = await buildTestApp(t)
  const ids = await seedPolicyFixtures(app)
  const url = `/api/denials/${ids['near-miss-condition']}/what-if`
  const ok = await app.inject({ method: 'POST', url, payload: { policies: [{ policy: 'DeployEc2', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:RunInstances', Resource: '*' }] } }] } })
  t.equal(ok.statusCode, 200)
  t.same(Object.keys(ok.json()), ['decision', 'deciding', 'reasons'])
  t.equal(ok.json().decision, 'allowed')
  t.equal(ok.json().deciding[0].policyName, 'DeployEc2')
  const text = await app.inject({ method: 'POST', url, payload: { policies: [{ policy: 'arn:aws:iam::111122223333:policy/DeployEc2', document: '{"Statement": {"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}}' }] } })
  t.equal(text.json().decision, 'explicit-deny')
  const bad = await app.inject({ method: 'POST', url, payload: { policies: [{ policy: 'DeployEc2', document: { Statement: [{ Effect: 'Perhaps', Action: '*', Resource: '*' }] } }] } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { code: 'WHYDENIED_BAD_POLICY_DOCUMENT', message: /policies\[0\]\.document\.Statement\[0\]\.Effect/ })
  const unknown = await app.inject({ method: 'POST', url, payload: { policies: [{ policy: '<script>alert(1)</script>', document: { Statement: [] } }] } })
  t.equal(unknown.statusCode, 400)
  t.equal(unknown.json().code, 'WHYDENIED_UNKNOWN_POLICY')
  const huge = await app.inject({ method: 'POST', url, payload: { policies: [{ policy: 'DeployEc2', document: { Statement: Array.from({ length: 600 }, () => ({ Effect: 'Allow', Action: '*', Resource: '*' })) } }] } })
  t.equal(huge.statusCode, 400)
  t.match(huge.json().message, /more than 500 statements/)
  const none = await app.inject({ method: 'POST', url, payload: { policies: [] } })
  t.equal(none.statusCode, 400)
})

t.test('GET /api/policies lists each policy with the denials it decides; /api/policies/:id one', async t => {
  const app = await buildTestApp(t)
  const ids = await seedPolicyFixtures(app)
  const list = (await app.inject({ url: '/api/policies' })).json().policies as any[]
  t.equal(list.length, 12)
  const inline = list.find(p => p.name === 'alice-inline')
  t.same(inline.decides, [ids['inline-explicit-deny']])
  const deploy = list.find(p => p.name === 'DeployEc2')
  t.same(deploy.nearlyAllowed, [ids['near-miss-condition']])
  t.equal(list.find(p => p.name === 'DeveloperBoundary').type, 'boundary')
  const one = (await app.inject({ url: `/api/policies/${deploy.id}` })).json()
  t.equal(one.versionId, 'v3')
  t.equal(one.document.Statement[0].Sid, 'AllowRunInstancesInEu')
  t.equal((await app.inject({ url: '/api/policies/999' })).statusCode, 404)
})
