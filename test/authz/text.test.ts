/** The plain-text access-denied parser: every documented wording, as a table. */
import t from 'tap'
import { messageFromText, parseDenialText, type TextDenial } from '../../server/authz/text.js'

type Row = [string, string, Partial<TextDenial>]

const U = 'arn:aws:iam::111122223333:user/mary'
const R = 'arn:aws:sts::111122223333:assumed-role/platform-deployer/ci-17'
const table: Row[] = [
  ['implicit, identity-based, no resource', `User: ${U} is not authorized to perform: codecommit:ListRepositories because no identity-based policy allows the codecommit:ListRepositories action`,
    { principalArn: U, action: 'codecommit:ListRepositories', resource: null, decision: 'implicit-deny', policyType: 'identity', policyArn: null }],
  ['implicit, resource-based, quoted S3 resource, assumed role', `User: ${R} is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::logs/a b.txt" because no resource-based policy allows the s3:GetObject action`,
    { principalArn: R, action: 's3:GetObject', resource: 'arn:aws:s3:::logs/a b.txt', decision: 'implicit-deny', policyType: 'resource' }],
  ['implicit, permissions boundary', `User: ${U} is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::111122223333:user/new because no permissions boundary allows the iam:CreateUser action`,
    { resource: 'arn:aws:iam::111122223333:user/new', decision: 'implicit-deny', policyType: 'boundary' }],
  ['implicit, session policy', `User: ${R} is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:eu-west-1:111122223333:jobs because no session policy allows the sqs:SendMessage action`,
    { policyType: 'session', decision: 'implicit-deny' }],
  ['implicit, service control policy', `User: ${U} is not authorized to perform: codecommit:ListRepositories because no service control policy allows the codecommit:ListRepositories action`,
    { policyType: 'scp', decision: 'implicit-deny' }],
  ['implicit, VPC endpoint policy', `User: ${U} is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::b/k" because no VPC endpoint policy allows the s3:GetObject action`,
    { policyType: 'vpc-endpoint', decision: 'implicit-deny', resource: 'arn:aws:s3:::b/k' }],
  ['explicit, identity-based', `User: ${U} is not authorized to perform: iam:DeleteRole on resource: arn:aws:iam::111122223333:role/admin with an explicit deny in an identity-based policy`,
    { resource: 'arn:aws:iam::111122223333:role/admin', decision: 'explicit-deny', policyType: 'identity', policyArn: null }],
  ['explicit, resource-based', `User: ${U} is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::team-logs" with an explicit deny in a resource-based policy`,
    { resource: 'arn:aws:s3:::team-logs', decision: 'explicit-deny', policyType: 'resource' }],
  ['explicit, SCP, no resource', `User: ${U} is not authorized to perform: codecommit:ListRepositories with an explicit deny in a service control policy`,
    { resource: null, decision: 'explicit-deny', policyType: 'scp' }],
  ['explicit, RCP', `User: ${U} is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::x/y" with an explicit deny in a resource control policy`,
    { decision: 'explicit-deny', policyType: 'rcp' }],
  ['explicit, VPC endpoint policy', `User: ${R} is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::p/y" with an explicit deny in a VPC endpoint policy`,
    { decision: 'explicit-deny', policyType: 'vpc-endpoint' }],
  ['explicit, permissions boundary', `User: ${U} is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:111122223333:instance/* with an explicit deny in a permissions boundary`,
    { resource: 'arn:aws:ec2:us-east-1:111122223333:instance/*', decision: 'explicit-deny', policyType: 'boundary' }],
  ['explicit, session policy', `User: ${R} is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::b" with an explicit deny in a session policy`,
    { decision: 'explicit-deny', policyType: 'session' }],
  ['enhanced: SCP ARN', `User: ${U} is not authorized to perform: ec2:StopInstances on resource: arn:aws:ec2:us-east-1:111122223333:instance/i-0123 with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-a1b2c3d4`,
    { decision: 'explicit-deny', policyType: 'scp', policyArn: 'arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-a1b2c3d4', resource: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0123' }],
  ['enhanced: identity policy ARN, trailing full stop', `User: ${U} is not authorized to perform: logs:DeleteLogGroup on resource: arn:aws:logs:us-east-1:111122223333:log-group:audit with an explicit deny in an identity-based policy: arn:aws:iam::111122223333:policy/DenyAudit.`,
    { decision: 'explicit-deny', policyType: 'identity', policyArn: 'arn:aws:iam::111122223333:policy/DenyAudit', resource: 'arn:aws:logs:us-east-1:111122223333:log-group:audit' }],
  ['older form, no reason', `User: ${U} is not authorized to perform: iam:GetUser on resource: user mary`,
    { resource: 'user mary', decision: 'implicit-deny', policyType: null }],
  ['service principal', 'User: events.amazonaws.com is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:111122223333:function:f because no resource-based policy allows the lambda:InvokeFunction action',
    { principalArn: 'events.amazonaws.com', action: 'lambda:InvokeFunction', policyType: 'resource' }],
  ['DynamoDB AccessDeniedException with the CLI prefix', `An error occurred (AccessDeniedException) when calling the GetItem operation: User: ${R} is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/orders because no identity-based policy allows the dynamodb:GetItem action`,
    { principalArn: R, action: 'dynamodb:GetItem', resource: 'arn:aws:dynamodb:eu-west-1:111122223333:table/orders', policyType: 'identity' }],
  ['Java SDK suffix', `User: ${U} is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/t (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: AccessDeniedException)`,
    { resource: 'arn:aws:dynamodb:eu-west-1:111122223333:table/t', policyType: null }],
  ['KMS ciphertext wording', `An error occurred (AccessDeniedException) when calling the Decrypt operation: User: ${R} is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access`,
    { action: 'kms:Decrypt', resource: null, policyType: 'resource', decision: 'implicit-deny' }],
  ['KMS key ARN', `User: ${R} is not authorized to perform: kms:Encrypt on resource: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab because no resource-based policy allows the kms:Encrypt action`,
    { resource: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', policyType: 'resource' }],
  ['Lambda', `User: ${U} is not authorized to perform: lambda:GetFunction on resource: arn:aws:lambda:us-east-1:111122223333:function:f because no identity-based policy allows the lambda:GetFunction action`,
    { action: 'lambda:GetFunction', policyType: 'identity' }],
  ['STS AssumeRole', `An error occurred (AccessDenied) when calling the AssumeRole operation: User: ${U} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444455556666:role/x`,
    { action: 'sts:AssumeRole', resource: 'arn:aws:iam::444455556666:role/x', policyType: null }],
  ['inside a JSON log line', `{"level":"error","msg":"User: ${U} is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::b because no identity-based policy allows the s3:ListBucket action","t":1}`,
    { resource: 'arn:aws:s3:::b', policyType: 'identity' }]
]

for (const [name, text, want] of table) {
  t.test(name, async t => {
    const r = parseDenialText(text)
    if (r === null || !r.ok) { t.fail(`not parsed: ${JSON.stringify(r)}`); return }
    t.match(r.denial, want)
    t.ok(r.denial.sentence.includes('is not authorized to perform'), 'the sentence is kept')
    t.notMatch(r.denial.sentence, /^An error occurred/, 'without the CLI prefix')
    const m = messageFromText(r.denial)
    t.equal(m.kind, 'text')
    t.equal(m.policyType, r.denial.policyType)
    t.equal(m.raw, r.denial.sentence)
  })
}

t.test('a sentence with its reason cut at the action', async t => {
  const r = parseDenialText(`User: ${U} is not authorized to perform: s3:ListBucket because no identity-based policy allows the s3:ListBucket action; retrying`)
  t.ok(r?.ok)
  if (r?.ok) t.match(r.denial.sentence, /s3:ListBucket action$/)
})

t.test('lines that say nothing about a denial are not messages', async t => {
  t.equal(parseDenialText('2026-11-28 INFO retrying in 2s'), null)
  t.equal(parseDenialText(''), null)
})

t.test('"Access Denied" with nothing to parse: refused with what is missing', async t => {
  for (const text of ['An error occurred (AccessDenied) when calling the GetObject operation: Access Denied', 'AccessDeniedException', 'Access Denied']) {
    const r = parseDenialText(text)
    t.equal(r?.ok, false, text)
    if (r !== null && !r.ok) t.match(r.reason, /names no principal, action or resource/)
  }
  const noAction = parseDenialText('You are not authorized to perform this operation.')
  t.equal(noAction?.ok, false)
  if (noAction !== null && !noAction.ok) t.match(noAction.reason, /names no action/)
  const encoded = parseDenialText('An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: abc')
  if (encoded !== null && !encoded.ok) t.match(encoded.reason, /decode it first/)
  else t.fail('refused')
})

t.test('hostile text: long lines, HTML, template syntax', async t => {
  t.equal(parseDenialText('x'.repeat(70_000)), null, 'a huge line without the words: not a message')
  const long = parseDenialText(`Access Denied ${'x'.repeat(70_000)}`)
  t.equal(long?.ok, false)
  const html = parseDenialText('User: <script>alert(1)</script> is not authorized to perform: s3:GetObject on resource: {{constructor}} because no identity-based policy allows the s3:GetObject action')
  t.ok(html?.ok, 'parsed as data')
  if (html?.ok) {
    t.equal(html.denial.principalArn, '<script>alert(1)</script>')
    t.equal(html.denial.resource, '{{constructor}}')
  }
  // Backtracking: a line of many "on resource" phrases is parsed in linear time.
  const start = performance.now()
  parseDenialText(`User: a is not authorized to perform: s3:x on resource: ${'a '.repeat(30_000)}`)
  t.ok(performance.now() - start < 1000)
})

t.test('one denial whatever the wording around it; different policies are different denials', async t => {
  const a = parseDenialText(`ERROR User: ${U} is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::b/k" because no identity-based policy allows the s3:GetObject action`)
  const b = parseDenialText(`An error occurred (AccessDenied) when calling the GetObject operation: User: ${U} is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k because no identity-based policy allows the s3:GetObject action`)
  const c = parseDenialText(`User: ${U} is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k with an explicit deny in a service control policy`)
  if (!a?.ok || !b?.ok || !c?.ok) { t.fail('parsed'); return }
  t.equal(messageFromText(a.denial).contentHash, messageFromText(b.denial).contentHash)
  t.not(messageFromText(a.denial).contentHash, messageFromText(c.denial).contentHash)
  const m = messageFromText(a.denial)
  t.equal(m.principal.account, '111122223333')
  t.equal(m.service, 's3')
})

t.test('assumed-role sessions split into role and session', async t => {
  const r = parseDenialText(`User: ${R} is not authorized to perform: s3:GetObject because no identity-based policy allows the s3:GetObject action`)
  if (!r?.ok) { t.fail('parsed'); return }
  const m = messageFromText(r.denial)
  t.equal(m.principal.roleArn, 'arn:aws:iam::111122223333:role/platform-deployer')
  t.equal(m.principal.sessionName, 'ci-17')
})
