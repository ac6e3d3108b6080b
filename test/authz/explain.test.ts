import t from 'tap'
import { explainDenial, suggestStatement, statementMatches, type Explanation } from '../../server/authz/explain.js'
import type { DenialDetail } from '../../server/authz/types.js'
import { fixtureNames, loadFixtureDenials } from './fixture-denials.js'

const denials = loadFixtureDenials()
const get = (name: string): DenialDetail => {
  const d = denials.get(name)
  if (!d) throw new Error(`fixture ${name} missing`)
  return d
}
const hintIds = (e: Explanation): string[] => e.hints.map(h => h.id)

t.test('every fixture is explained without throwing, with a consistent shape', async t => {
  t.ok(fixtureNames().length >= 9)
  for (const name of fixtureNames()) {
    const d = get(name)
    const e = explainDenial(d)
    t.equal(e.decision, d.decision, `${name}: decision`)
    t.ok(e.summary.length > 0, `${name}: summary`)
    t.equal(e.statements.length, d.statements.length, `${name}: one explanation per matched statement`)
    for (const h of e.hints) t.match(h.text, /^Hint: /, `${name}: hint ${h.id} is labelled as a hint`)
    if (d.decision === 'implicit-deny') {
      t.match(e.summary, /no policy allowed this request/, `${name}: implicit in words`)
      t.equal(e.fix?.kind, 'allow', `${name}: an Allow is suggested`)
      if (e.fix?.kind === 'allow') {
        const doc = JSON.parse(e.fix.policyJson) as { Version: string, Statement: unknown[] }
        t.equal(doc.Version, '2012-10-17')
        t.same(doc.Statement, [e.fix.statement], `${name}: policyJson is the statement as a full document`)
        t.match(e.fix.policyJson, /\n {2}"Statement"/, `${name}: pretty-printed`)
        t.match(e.fix.statement.Sid, /^[A-Za-z0-9]+$/, `${name}: Sid is alphanumeric`)
      }
    } else {
      t.match(e.summary, /a Deny statement matched: adding an Allow will not help/, `${name}: explicit in words`)
      t.equal(e.fix?.kind, 'change-deny', `${name}: no Allow for an explicit deny`)
    }
  }
})

t.test('seed article: PassRole while launching EC2', async t => {
  const e = explainDenial(get('seed-passrole'))
  t.match(e.summary, /arn:aws:iam::111122223333:user\/test-user was denied iam:PassRole on arn:aws:iam::111122223333:role\/EC2_instance_Profile_role/)
  t.ok(hintIds(e).includes('passrole-dependent-action'))
  t.match(e.hints.find(h => h.id === 'passrole-dependent-action')!.text, /RunInstances/)
  t.notOk(hintIds(e).includes('boundary-or-org-policy'))
  t.same(e.fix, {
    kind: 'allow',
    statement: {
      Sid: 'AllowIamPassRole',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: 'arn:aws:iam::111122223333:role/EC2_instance_Profile_role',
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } }
    },
    policyJson: (e.fix as { policyJson: string }).policyJson,
    check: { matches: true, mismatches: [] }
  })
  t.ok(e.detail.some(l => /aws:Service "ec2" rather than iam:PassedToService/.test(l)), 'the inferred condition value is disclosed')
  t.same(suggestStatement(get('seed-passrole')), (e.fix as { statement: unknown }).statement)
})

t.test('PassRole without a service in the context gets no condition', async t => {
  const d = { ...get('seed-passrole'), conditions: get('seed-passrole').conditions.filter(c => c.key !== 'aws:Service') }
  const e = explainDenial(d)
  t.notOk(hintIds(e).includes('passrole-dependent-action'))
  t.equal(e.fix?.kind === 'allow' ? e.fix.statement.Condition : 'x', undefined)
  t.ok(e.fix?.kind === 'allow' && e.fix.check.matches)
})

t.test('PassRole with iam:PassedToService shown uses it as shown', async t => {
  const d = { ...get('seed-passrole'), conditions: [...get('seed-passrole').conditions, { key: 'iam:PassedToService', values: ['lambda.amazonaws.com'] }] }
  const e = explainDenial(d)
  t.same(e.fix?.kind === 'allow' && e.fix.statement.Condition, { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } })
  t.ok(e.fix?.kind === 'allow' && e.fix.check.matches)
  t.match(e.hints.find(h => h.id === 'passrole-dependent-action')?.text, /lambda/)
})

t.test('assumed-role session: the role is named, exact resource, no invented conditions', async t => {
  const e = explainDenial(get('assumed-role-runinstances'))
  t.match(e.summary, /^Role arn:aws:iam::111122223333:role\/platform-deployer \(session "ci-deploy-4711"\) was denied ec2:RunInstances/)
  t.ok(e.detail.some(l => /session of the role arn:aws:iam::111122223333:role\/platform-deployer/.test(l)))
  t.same(e.fix?.kind === 'allow' && e.fix.statement, { Sid: 'AllowEc2RunInstances', Effect: 'Allow', Action: 'ec2:RunInstances', Resource: 'arn:aws:ec2:us-east-1:111122223333:instance/*' })
  t.same(e.fix?.kind === 'allow' && e.fix.check, { matches: true, mismatches: [] })
  t.notOk(hintIds(e).includes('kms-key-policy'))
  t.notOk(hintIds(e).includes('passrole-dependent-action'))
})

t.test('KMS: key policy hint and kms:ViaService narrowing', async t => {
  const e = explainDenial(get('kms-decrypt'))
  t.ok(hintIds(e).includes('kms-key-policy'))
  t.match(e.hints.find(h => h.id === 'kms-key-policy')!.text, /key policy.*s3\.us-east-1\.amazonaws\.com/s)
  t.same(e.fix?.kind === 'allow' && e.fix.statement.Condition, { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } })
  t.ok(e.fix?.kind === 'allow' && e.fix.check.matches)
  // A denial that only names a key in a condition value also gets the hint.
  const s3 = { ...get('minimal-no-conditions'), action: 's3:PutObject', resource: 'arn:aws:s3:::b/k', conditions: [{ key: 's3:x-amz-server-side-encryption-aws-kms-key-id', values: ['arn:aws:kms:us-east-1:111122223333:key/abc'] }] }
  t.ok(hintIds(explainDenial(s3)).includes('kms-key-policy'))
})

t.test('minimal message: resource * and no conditions', async t => {
  const e = explainDenial(get('minimal-no-conditions'))
  t.match(e.summary, /ec2:DescribeInstances on any resource \(\*\)/)
  t.same(e.fix?.kind === 'allow' && e.fix.statement, { Sid: 'AllowEc2DescribeInstances', Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' })
  t.ok(e.fix?.kind === 'allow' && e.fix.check.matches)
})

t.test('unprefixed action is normalised and hinted', async t => {
  const e = explainDenial(get('unprefixed-action'))
  t.equal(e.fix?.kind === 'allow' && e.fix.statement.Action, 'ec2:CreateVolume')
  t.ok(e.fix?.kind === 'allow' && e.fix.check.matches)
  t.ok(hintIds(e).includes('unprefixed-action'))
})

t.test('explicit deny by region: the statement, and what in the context made it match', async t => {
  const e = explainDenial(get('region-explicit-deny'))
  t.equal(e.statements.length, 1)
  const s = e.statements[0]!
  t.equal(s.sid, 'DenyOutsideApprovedRegions')
  t.equal(s.effect, 'DENY')
  t.same(s.actions, ['*'])
  t.same(s.resources, ['*'])
  t.same(s.conditions, [{ key: 'aws:RequestedRegion', values: ['us-east-1', 'us-east-2', 'eu-west-1'] }])
  t.ok(s.why.some(w => /aws:RequestedRegion is "ap-southeast-2", none of the statement's values/.test(w) && /negated/.test(w)))
  t.ok(s.why.some(w => /names this principal/.test(w)))
  t.equal(e.fix?.kind, 'change-deny')
  t.same(e.fix?.kind === 'change-deny' && e.fix.statements, ['Sid "DenyOutsideApprovedRegions"'])
  t.match(e.fix?.kind === 'change-deny' && e.fix.text, /No Allow is suggested.*Sid "DenyOutsideApprovedRegions"/)
  t.notOk(hintIds(e).includes('boundary-or-org-policy'))
  t.notOk(hintIds(e).includes('other-policy-types'))
})

t.test('explicit deny by an SCP: empty Sid and SCOPE_POLICY_ISSUER', async t => {
  const e = explainDenial(get('scp-explicit-deny'))
  t.ok(hintIds(e).includes('boundary-or-org-policy'))
  t.match(e.hints.find(h => h.id === 'boundary-or-org-policy')!.text, /no Sid and the principal SCOPE_POLICY_ISSUER.*permissions boundary or an organization policy \(SCP or RCP\)/)
  const s = e.statements[0]!
  t.equal(s.sid, '')
  t.ok(s.why.some(w => /aws:PrincipalArn \(derived from the principal\) is "arn:aws:iam::444455556666:role\/data-analyst", which the statement's values/.test(w)))
  t.ok(s.why.some(w => /Action "s3:PutBucketPolicy" covers/.test(w)))
  t.ok(s.why.some(w => /SCOPE_POLICY_ISSUER/.test(w)))
  t.same(e.fix?.kind === 'change-deny' && e.fix.statements, ['statement 1 (no Sid)'])
  t.match(e.fix?.kind === 'change-deny' && e.fix.text, /organization policy/)
})

t.test('permissions boundary deny names the boundary', async t => {
  const e = explainDenial(get('boundary-deny-with-failure'))
  t.match(e.hints.find(h => h.id === 'boundary-or-org-policy')!.text, /iam:PermissionsBoundary/)
  t.ok(e.statements[0]!.why.some(w => /policy\/boundary-missing/.test(w)))
  t.ok(e.detail.some(l => /1 evaluation failure/.test(l)))
})

t.test('hostile values stay data: valid JSON, alphanumeric Sid, exact resource', async t => {
  const d = get('hostile-values')
  const e = explainDenial(d)
  t.equal(e.fix?.kind, 'allow')
  if (e.fix?.kind !== 'allow') return
  t.equal(e.fix.statement.Resource, "arn:aws:s3:::bucket/'; DROP TABLE denials; --")
  t.same((JSON.parse(e.fix.policyJson) as { Statement: Array<{ Resource: string }> }).Statement[0]!.Resource, d.resource)
  t.equal(e.fix.statement.Sid, 'AllowS3GetObject')
  t.ok(e.fix.check.matches)
  t.match(e.summary, /\{\{constructor/, 'the value is kept as text (escaping is the view\'s job)')
})

t.test('odd input never crashes', async t => {
  const base = get('minimal-no-conditions')
  const noAction = explainDenial({ ...base, action: null, actionRaw: null })
  t.equal(noAction.fix, null)
  t.ok(noAction.detail.some(l => /names no action/.test(l)))

  const bare = explainDenial({ ...base, action: 'CreateVolume', actionRaw: 'CreateVolume', resource: null })
  t.equal(bare.fix?.kind, 'allow')
  if (bare.fix?.kind === 'allow') {
    t.equal(bare.fix.statement.Resource, '*')
    t.notOk(bare.fix.check.matches, 'an action without a service prefix is not a valid IAM action')
    t.match(bare.fix.check.mismatches.join(), /no service prefix/)
  }
  t.ok(bare.detail.some(l => /names no resource/.test(l)))

  const nobody = explainDenial({ ...base, principal: { arn: null, id: null, name: null, type: null, account: null, roleArn: null, sessionName: null } })
  t.match(nobody.summary, /^An unknown principal was denied/)

  const explicitNoStatements = explainDenial({ ...base, decision: 'explicit-deny', statements: [] })
  t.equal(explicitNoStatements.fix?.kind, 'change-deny')
  t.same(explicitNoStatements.fix?.kind === 'change-deny' && explicitNoStatements.fix.statements, [])

  const weird = explainDenial({
    ...base,
    decision: 'explicit-deny',
    statements: [{ statementId: null, effect: null, principals: [], principalGroups: [], actions: [], resources: [], conditions: [{ key: 'x:Y', values: [] }] }]
  })
  t.equal(weird.statements.length, 1)
  t.ok(weird.statements[0]!.why.some(w => /does not show x:Y/.test(w)))

  const allowed = explainDenial({ ...base, decision: 'allowed' })
  t.equal(allowed.fix, null)
  t.match(allowed.summary, /allowed/)
})

t.test('statementMatches is re-exported and checks a suggestion against another request', async t => {
  const stmt = suggestStatement(get('assumed-role-runinstances'))
  const other = statementMatches(stmt, { action: 'ec2:RunInstances', resource: 'arn:aws:ec2:eu-west-1:111122223333:instance/*', conditions: {} })
  t.notOk(other.matches)
  t.match(other.mismatches[0], /Resource/)
})
