import t from 'tap'
import { conditionMismatch, globMatch, statementMatches, type MatchRequest, type PolicyStatement } from '../../server/authz/policy-match.js'

const req = (over: Partial<MatchRequest> = {}): MatchRequest => ({
  action: 'ec2:RunInstances',
  resource: 'arn:aws:ec2:us-east-1:111122223333:instance/*',
  conditions: { 'aws:RequestedRegion': ['us-east-1'], 'aws:SecureTransport': ['true'], 'aws:TagKeys': ['team', 'env'], 'aws:username': ['bob'] },
  ...over
})
const allow = (over: Partial<PolicyStatement>): PolicyStatement => ({ Effect: 'Allow', Action: 'ec2:RunInstances', Resource: '*', ...over })

t.test('globMatch: * and ? only, no regex syntax', async t => {
  t.ok(globMatch('arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a/b.txt'))
  t.ok(globMatch('a?c', 'abc'))
  t.notOk(globMatch('a?c', 'ac'))
  t.ok(globMatch('*', ''))
  t.notOk(globMatch('a.c', 'abc'), 'a dot is a dot')
  t.notOk(globMatch('(a+)+$', 'aaaa'), 'regex syntax is literal')
  t.notOk(globMatch('Bucket', 'bucket'), 'case-sensitive by default')
  t.ok(globMatch('Bucket', 'bucket', true))
  const start = Date.now()
  t.notOk(globMatch('*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)))
  t.ok(Date.now() - start < 1000, 'hostile pattern stays fast')
})

t.test('actions: wildcards, case-insensitive; NotAction', async t => {
  t.ok(statementMatches(allow({ Action: 'EC2:run*' }), req()).matches)
  t.ok(statementMatches(allow({ Action: ['s3:*', 'ec2:Run?nstances'] }), req()).matches)
  const r = statementMatches(allow({ Action: 's3:*' }), req())
  t.notOk(r.matches)
  t.match(r.mismatches[0], /Action "s3:\*" does not cover "ec2:RunInstances"/)
  t.notOk(statementMatches({ Effect: 'Allow', NotAction: 'ec2:*', Resource: '*' }, req()).matches)
  t.ok(statementMatches({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }, req()).matches)
  t.match(statementMatches(allow({ Action: 'CreateVolume' }), req({ action: 'CreateVolume' })).mismatches.join(), /no service prefix/)
  t.match(statementMatches(allow({}), req({ action: null })).mismatches.join(), /names no action/)
})

t.test('resources: ARN globs, case-sensitive, * and missing resources', async t => {
  t.ok(statementMatches(allow({ Resource: 'arn:aws:ec2:*:111122223333:instance/*' }), req()).matches)
  t.ok(statementMatches(allow({ Resource: 'arn:aws:ec2:us-east-?:*:*' }), req()).matches)
  t.notOk(statementMatches(allow({ Resource: 'arn:aws:ec2:*:444455556666:*' }), req()).matches)
  t.notOk(statementMatches(allow({ Resource: 'arn:aws:s3:::Bucket/*' }), req({ resource: 'arn:aws:s3:::bucket/x' })).matches)
  t.ok(statementMatches(allow({ Resource: '*' }), req({ resource: '*' })).matches)
  t.ok(statementMatches(allow({ Resource: '*' }), req({ resource: null })).matches)
  const r = statementMatches(allow({ Resource: 'arn:aws:ec2:*:*:instance/*' }), req({ resource: null }))
  t.match(r.mismatches.join(), /does not cover no resource/)
  t.notOk(statementMatches({ Effect: 'Allow', Action: '*', NotResource: 'arn:aws:ec2:*' }, req()).matches)
  // eslint-disable-next-line no-template-curly-in-string -- an IAM policy variable, not a template
  t.ok(statementMatches(allow({ Resource: 'arn:aws:iam::*:user/${aws:username}' }), req({ resource: 'arn:aws:iam::111122223333:user/bob' })).matches, 'policy variables')
})

t.test('condition operators', async t => {
  const r = req()
  t.equal(conditionMismatch('StringEquals', 'aws:requestedregion', 'us-east-1', r), null, 'keys compare case-insensitively')
  t.match(conditionMismatch('StringEquals', 'aws:RequestedRegion', ['eu-west-1'], r), /request has "us-east-1", the statement wants "eu-west-1"/)
  t.equal(conditionMismatch('StringNotEquals', 'aws:RequestedRegion', ['eu-west-1'], r), null)
  t.not(conditionMismatch('StringNotEquals', 'aws:RequestedRegion', ['us-east-1'], r), null)
  t.equal(conditionMismatch('StringLike', 'aws:RequestedRegion', 'us-*', r), null)
  t.not(conditionMismatch('StringLike', 'aws:RequestedRegion', 'US-*', r), null)
  t.equal(conditionMismatch('StringEqualsIgnoreCase', 'aws:RequestedRegion', 'US-EAST-1', r), null)
  t.equal(conditionMismatch('Bool', 'aws:SecureTransport', true, r), null)
  t.not(conditionMismatch('Bool', 'aws:SecureTransport', 'false', r), null)
  t.equal(conditionMismatch('ArnLike', 'aws:PrincipalArn', 'arn:aws:iam::*:role/data-*', { ...r, conditions: { 'aws:PrincipalArn': ['arn:aws:iam::1:role/data-x'] } }), null)
  t.equal(conditionMismatch('ArnEquals', 'aws:SourceArn', 'arn:aws:sns:*:*:t', { ...r, conditions: { 'aws:SourceArn': ['arn:aws:sns:us-east-1:1:t'] } }), null)
  t.equal(conditionMismatch('NumericLessThanEquals', 'ec2:VolumeSize', '500', { ...r, conditions: { 'ec2:VolumeSize': ['500'] } }), null)
  t.not(conditionMismatch('NumericLessThan', 'ec2:VolumeSize', '100', { ...r, conditions: { 'ec2:VolumeSize': ['500'] } }), null)
  t.equal(conditionMismatch('DateLessThan', 'aws:CurrentTime', '2027-01-01T00:00:00Z', { ...r, conditions: { 'aws:CurrentTime': ['2026-11-01T00:00:00Z'] } }), null)
})

t.test('missing keys: IfExists, negated operators, Null', async t => {
  const r = req()
  t.match(conditionMismatch('StringEquals', 'iam:PassedToService', 'ec2.amazonaws.com', r), /request has no iam:PassedToService/)
  t.equal(conditionMismatch('StringEqualsIfExists', 'iam:PassedToService', 'ec2.amazonaws.com', r), null)
  t.not(conditionMismatch('StringEqualsIfExists', 'aws:RequestedRegion', 'eu-west-1', r), null, 'IfExists still tests a present key')
  t.equal(conditionMismatch('StringNotEquals', 'aws:SourceVpc', 'vpc-1', r), null, 'a negated operator holds when the key is absent')
  t.equal(conditionMismatch('Null', 'aws:SourceVpc', 'true', r), null)
  t.not(conditionMismatch('Null', 'aws:RequestedRegion', 'true', r), null)
  t.equal(conditionMismatch('Null', 'aws:RequestedRegion', 'false', r), null)
  t.match(conditionMismatch('IpAddress', 'aws:SourceIp', '10.0.0.0/8', r), /request has no aws:SourceIp/)
  t.equal(conditionMismatch('IpAddress', 'aws:SourceIp', '10.0.0.0/8', { ...r, conditions: { 'aws:SourceIp': ['10.1.2.3'] } }), null)
  t.match(conditionMismatch('Frobnicate', 'aws:SourceIp', 'x', r), /not a condition operator whydenied knows/)
})

t.test('set operators ForAnyValue / ForAllValues', async t => {
  const r = req()
  t.equal(conditionMismatch('ForAnyValue:StringEquals', 'aws:TagKeys', ['env', 'owner'], r), null)
  t.not(conditionMismatch('ForAnyValue:StringEquals', 'aws:TagKeys', ['owner'], r), null)
  t.not(conditionMismatch('ForAnyValue:StringEquals', 'aws:Missing', ['owner'], r), null, 'ForAnyValue over no values is false')
  t.equal(conditionMismatch('ForAllValues:StringEquals', 'aws:TagKeys', ['team', 'env', 'owner'], r), null)
  t.not(conditionMismatch('ForAllValues:StringEquals', 'aws:TagKeys', ['team'], r), null)
  t.equal(conditionMismatch('ForAllValues:StringEquals', 'aws:Missing', ['team'], r), null, 'ForAllValues over no values is true')
  t.equal(conditionMismatch('ForAllValues:StringLike', 'aws:TagKeys', ['t*', 'e*'], r), null)
})

t.test('statementMatches reports every mismatch, with a Map request too', async t => {
  const conditions = new Map([['aws:RequestedRegion', ['us-east-1']]])
  const res = statementMatches({
    Effect: 'Allow',
    Action: 's3:GetObject',
    Resource: 'arn:aws:s3:::b/*',
    Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' }, Bool: { 'aws:SecureTransport': 'true' } }
  }, { action: 'ec2:RunInstances', resource: 'arn:aws:ec2:us-east-1:1:instance/*', conditions })
  t.notOk(res.matches)
  t.equal(res.mismatches.length, 4)
  t.same(statementMatches({ Effect: 'Allow', Action: 'ec2:*', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': ['us-east-1'] } } },
    { action: 'ec2:RunInstances', resource: '*', conditions }), { matches: true, mismatches: [] })
})
