/** Reading the exports: authorization details whole and in pages, default versions only, URL-encoded documents, org policies, resource policies, bad and hostile input. */
import t from 'tap'
import { mergeContent, readExport, supersede } from '../../../server/authz/evaluate/snapshot.js'
import { readPolicyDocument, DocumentLimits } from '../../../server/authz/evaluate/document.js'
import { exportOf } from './fixtures.js'

t.test('authorization details: principals, groups, inline and managed policies, boundary, tags', async t => {
  const { parts, rejected } = exportOf('authorization-details.json')
  t.same(rejected, [])
  const p = parts[0]!
  if (p.kind !== 'authorization-details') throw new Error('kind')
  t.same(p.accounts, ['111122223333'])
  t.same(p.content.principals.map(x => [x.type, x.name]).sort(), [['role', 'ci-deployer'], ['role', 'data-analyst'], ['user', 'alice']])
  const alice = p.content.principals.find(x => x.name === 'alice')!
  t.same(alice.groups, ['arn:aws:iam::111122223333:group/developers'])
  t.same(alice.tags, { team: 'blue' })
  t.equal(p.content.principals.find(x => x.name === 'data-analyst')!.boundary, 'arn:aws:iam::111122223333:policy/DeveloperBoundary')
  const deploy = p.content.policies.find(x => x.name === 'DeployEc2')!
  t.equal(deploy.versionId, 'v3', 'only the default version is in force')
  t.equal(deploy.document.Statement[0]!.Sid, 'AllowRunInstancesInEu', 'URL-encoded documents are decoded')
  t.same(deploy.attachedTo.sort(), ['arn:aws:iam::111122223333:role/service/ci-deployer', 'arn:aws:iam::111122223333:user/engineering/alice'])
  t.equal(p.content.policies.find(x => x.name === 'DevReadOnly')!.versionId, 'v2', 'a default version that is not the first')
  t.ok(p.content.policies.some(x => x.ref === 'inline:arn:aws:iam::111122223333:user/engineering/alice:alice-inline'))
})

t.test('pages merge into the same content as the whole export', async t => {
  const whole = exportOf('authorization-details.json').parts[0]!
  const a = exportOf('authorization-details-page1.json').parts[0]!
  const b = exportOf('authorization-details-page2.json').parts[0]!
  if (whole.kind !== 'authorization-details' || a.kind !== 'authorization-details' || b.kind !== 'authorization-details') throw new Error('kind')
  const merged = mergeContent(a.content, b.content)
  t.equal(merged.principals.length, whole.content.principals.length)
  t.equal(merged.policies.length, whole.content.policies.length)
})

t.test('describe-policy: SCPs with Content as a JSON string', async t => {
  const p = exportOf('scp-deny-outside-eu.json').parts[0]!
  if (p.kind !== 'org-policy') throw new Error('kind')
  t.equal(p.policy.kind, 'scp')
  t.equal(p.policy.name, 'DenyOutsideEU')
  t.equal(p.policy.document.Statement[0]!.Sid, 'DenyOutsideEU')
})

t.test('a bucket policy needs --resource; with it, it is a resource policy', async t => {
  const text = JSON.stringify({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::shared/*' }] }) })
  t.match(readExport(text, 'bucket.json', null).rejected[0], { source: 'bucket.json', reason: /Policy: a resource policy needs --resource ARN/ })
  const p = readExport(text, 'bucket.json', 'arn:aws:s3:::shared').parts[0]!
  t.equal(p.kind, 'resource')
  if (p.kind === 'resource') t.same(p.policy.attachedTo, ['arn:aws:s3:::shared'])
})

t.test('bad input: a reason naming the file and the field; the good parts are kept', async t => {
  const bad = {
    UserDetailList: [{ UserName: 'x', Arn: 'arn:aws:iam::111122223333:user/x', UserPolicyList: [{ PolicyName: 'p', PolicyDocument: { Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] } }] }],
    Policies: [{ PolicyName: 'NoDefault', Arn: 'arn:aws:iam::111122223333:policy/NoDefault', PolicyVersionList: [{ Document: {}, IsDefaultVersion: false }] }],
    RoleDetailList: [{ RoleName: 'r' }]
  }
  const { parts, rejected } = readExport(JSON.stringify(bad), 'details.json', null)
  t.same(rejected.map(r => r.reason), [
    'UserDetailList[0].UserPolicyList[0].PolicyDocument.Statement[0].Effect: Effect must be "Allow" or "Deny", got "Maybe"',
    'RoleDetailList[0].Arn: missing or not a string',
    'Policies[0].PolicyVersionList: no version has "IsDefaultVersion": true'
  ])
  t.ok(rejected.every(r => r.source === 'details.json'))
  if (parts[0]?.kind === 'authorization-details') t.equal(parts[0].content.principals.length, 1, 'the user is kept without its bad policy')
  t.match(readExport('{"Policy": {"PolicySummary": {"Type": "TAG_POLICY", "Name": "t"}, "Content": "{}"}}', 'tag.json', null).rejected[0]?.reason, /Policy.PolicySummary.Type: "TAG_POLICY" is not a policy that decides access/)
  t.match(readExport('not json', 'x.json', null).rejected[0]?.reason, /not valid JSON/)
  t.match(readExport('{"Hello": 1}', 'x.json', null).rejected[0]?.reason, /not a policy export.*\{Hello\}/)
})

t.test('hostile documents are bounded', async t => {
  t.throws(() => readPolicyDocument({ Statement: Array.from({ length: DocumentLimits.maxStatements + 1 }, () => ({ Effect: 'Allow', Action: '*', Resource: '*' })) }), /more than 500 statements/)
  t.throws(() => readPolicyDocument({ Statement: { Effect: 'Allow', Action: 'a'.repeat(5000), Resource: '*' } }), /longer than 4096/)
  t.throws(() => readPolicyDocument('%7Bnot-json'), /not valid JSON|does not decode/)
  t.throws(() => readPolicyDocument({ Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: 'x' } } }), /Condition.StringEquals: expected an object of condition keys/)
  t.throws(() => readPolicyDocument({ Statement: { Effect: 'Allow', Action: [], Resource: '*' } }), /an empty list/)
  // A pathological wildcard still evaluates quickly (the matcher has no regex backtracking).
  const doc = readPolicyDocument({ Statement: { Effect: 'Allow', Action: '*a*a*a*a*a*a*a*a*a*a*b', Resource: '*' } })
  t.equal(doc.Statement.length, 1)
  const proto = readPolicyDocument('{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"__proto__": ["x"], "constructor": "y"}}}}')
  const eq = proto.Statement[0]!.Condition!.StringEquals!
  t.same(Object.keys(eq), ['__proto__', 'constructor'], '"__proto__" stays a plain key')
  t.equal(Object.getPrototypeOf(eq), Object.prototype)
})

t.test('supersede: SCPs replace SCPs, details replace details, resource policies by resource', async t => {
  const details = exportOf('authorization-details.json').parts[0]!
  const scp = exportOf('scp-deny-outside-eu.json').parts[0]!
  if (details.kind !== 'authorization-details' || scp.kind !== 'org-policy') throw new Error('kind')
  const first = supersede(null, { details: details.content, scps: [scp.policy], rcps: null, resources: [] })
  const leave = exportOf('scp-deny-leave-org.json').parts[0]!
  if (leave.kind !== 'org-policy') throw new Error('kind')
  const second = supersede(first, { details: null, scps: [leave.policy], rcps: null, resources: [] })
  t.same(second.policies.filter(p => p.kind === 'scp').map(p => p.name), ['DenyLeaveOrganization'])
  t.equal(second.principals.length, first.principals.length, 'the principals are carried over')
})

t.test('describe-policy: an RCP is read as an RCP', async t => {
  const rcp = { Policy: { PolicySummary: { Id: 'p-rcp1', Arn: 'arn:aws:organizations::999988887777:policy/o-x/resource_control_policy/p-rcp1', Name: 'EnforceTls', Type: 'RESOURCE_CONTROL_POLICY', AwsManaged: false }, Content: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'DenyInsecure', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*', Condition: { BoolIfExists: { 'aws:SecureTransport': 'false' } } }] }) } }
  const p = readExport(JSON.stringify(rcp), 'rcp.json', null).parts[0]!
  if (p.kind !== 'org-policy') throw new Error('kind')
  t.equal(p.policy.kind, 'rcp')
  t.same(p.policy.document.Statement[0]!.Principal, '*')
})
