/**
 * The evaluation table: each case is an example from AWS's IAM or Organizations documentation (the
 * page is the first field), checked against our own evaluator. Statement cases ask whether one
 * statement applies to a request; policy cases ask what the whole evaluation decides.
 */
/* eslint-disable no-template-curly-in-string -- IAM policy variables are written ${key} in plain strings */
import t from 'tap'
import { statementVerdict, type MatchRequest, type PolicyStatement, type Verdict } from '../../../server/authz/policy-match.js'
import { evaluate } from '../../../server/authz/evaluate/engine.js'
import type { AppliedPolicy, PolicyType } from '../../../server/authz/evaluate/types.js'

const IAM = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/'
const OPS = IAM + 'reference_policies_elements_condition_operators.html'
const MULTI = IAM + 'reference_policies_condition-single-vs-multi-valued-context-keys.html'
const LOGIC = IAM + 'reference_policies_elements_condition_logic_multiple_context_keys_or_values.html'
const VARS = IAM + 'reference_policies_variables.html'
const ACTION = IAM + 'reference_policies_elements_action.html'
const NOTACTION = IAM + 'reference_policies_elements_notaction.html'
const RESOURCE = IAM + 'reference_policies_elements_resource.html'
const NOTRESOURCE = IAM + 'reference_policies_elements_notresource.html'
const PRINCIPAL = IAM + 'reference_policies_elements_principal.html'
const NOTPRINCIPAL = IAM + 'reference_policies_elements_notprincipal.html'
const EVAL = IAM + 'reference_policies_evaluation-logic_policy-eval-denyallow.html'
const CROSS = IAM + 'reference_policies_evaluation-logic-cross-account.html'
const BOUNDARY = IAM + 'access_policies_boundaries.html'
const REGION = IAM + 'reference_policies_examples_aws_deny-requested-region.html'
const SCPS = 'https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html'
const SCPEVAL = 'https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html'

type Ctx = Record<string, string[]>
interface StatementCase { page: string, name: string, statement: PolicyStatement, request: Partial<MatchRequest>, expect: Verdict, version?: string }

const allowAll = (Condition: PolicyStatement['Condition']): PolicyStatement => ({ Effect: 'Allow', Action: '*', Resource: '*', Condition })
const req = (conditions: Ctx, over: Partial<MatchRequest> = {}): Partial<MatchRequest> => ({ conditions, ...over })

const statements: StatementCase[] = [
  // String operators (condition operators page: the aws:PrincipalTag/job-category example and its variants).
  { page: OPS, name: 'StringEquals matches the exact value', statement: allowAll({ StringEquals: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } }), request: req({ 'aws:PrincipalTag/job-category': ['iamuser-admin'] }), expect: 'true' },
  { page: OPS, name: 'StringEquals is case-sensitive', statement: allowAll({ StringEquals: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } }), request: req({ 'aws:PrincipalTag/job-category': ['IAMUser-Admin'] }), expect: 'false' },
  { page: OPS, name: 'StringEquals with the key absent is false', statement: allowAll({ StringEquals: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } }), request: req({}), expect: 'false' },
  { page: OPS, name: 'condition key names are case-insensitive', statement: allowAll({ StringEquals: { 'AWS:PRINCIPALTAG/job-category': 'iamuser-admin' } }), request: req({ 'aws:PrincipalTag/job-category': ['iamuser-admin'] }), expect: 'true' },
  { page: OPS, name: 'StringNotEquals is true for another value', statement: allowAll({ StringNotEquals: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } }), request: req({ 'aws:PrincipalTag/job-category': ['dev'] }), expect: 'true' },
  { page: OPS, name: 'StringNotEquals is false for the value', statement: allowAll({ StringNotEquals: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } }), request: req({ 'aws:PrincipalTag/job-category': ['iamuser-admin'] }), expect: 'false' },
  { page: OPS, name: 'a negated operator is true when the key is absent', statement: allowAll({ StringNotEquals: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } }), request: req({}), expect: 'true' },
  { page: OPS, name: 'StringEqualsIgnoreCase ignores case', statement: allowAll({ StringEqualsIgnoreCase: { 'aws:PrincipalTag/job-category': 'IAMUSER-ADMIN' } }), request: req({ 'aws:PrincipalTag/job-category': ['iamuser-admin'] }), expect: 'true' },
  { page: OPS, name: 'StringNotEqualsIgnoreCase', statement: allowAll({ StringNotEqualsIgnoreCase: { 'aws:PrincipalTag/job-category': 'IAMUSER-ADMIN' } }), request: req({ 'aws:PrincipalTag/job-category': ['iamuser-admin'] }), expect: 'false' },
  { page: OPS, name: 'StringLike: the s3:prefix home/${aws:username}/ example', statement: allowAll({ StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/'] } }), request: req({ 's3:prefix': ['home/bob/'], 'aws:username': ['bob'] }), expect: 'true' },
  { page: OPS, name: 'StringLike: another user\'s prefix', statement: allowAll({ StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/'] } }), request: req({ 's3:prefix': ['home/alice/'], 'aws:username': ['bob'] }), expect: 'false' },
  { page: OPS, name: 'StringLike: the empty prefix', statement: allowAll({ StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/'] } }), request: req({ 's3:prefix': [''], 'aws:username': ['bob'] }), expect: 'true' },
  { page: OPS, name: 'StringLike * wildcard on a tag', statement: allowAll({ StringLike: { 'aws:PrincipalTag/job-category': 'iamuser-*' } }), request: req({ 'aws:PrincipalTag/job-category': ['iamuser-admin'] }), expect: 'true' },
  { page: OPS, name: 'StringLike ? matches one character', statement: allowAll({ StringLike: { 'aws:PrincipalTag/team': 'team-?' } }), request: req({ 'aws:PrincipalTag/team': ['team-12'] }), expect: 'false' },
  { page: OPS, name: 'StringNotLike with a matching value', statement: allowAll({ StringNotLike: { 'aws:PrincipalTag/job-category': 'iamuser-*' } }), request: req({ 'aws:PrincipalTag/job-category': ['iamuser-admin'] }), expect: 'false' },
  // Numeric (the s3:max-keys example).
  { page: OPS, name: 'NumericLessThanEquals s3:max-keys 10, request 10', statement: allowAll({ NumericLessThanEquals: { 's3:max-keys': '10' } }), request: req({ 's3:max-keys': ['10'] }), expect: 'true' },
  { page: OPS, name: 'NumericLessThanEquals s3:max-keys 10, request 11', statement: allowAll({ NumericLessThanEquals: { 's3:max-keys': '10' } }), request: req({ 's3:max-keys': ['11'] }), expect: 'false' },
  { page: OPS, name: 'NumericLessThanEquals, key absent', statement: allowAll({ NumericLessThanEquals: { 's3:max-keys': '10' } }), request: req({}), expect: 'false' },
  { page: OPS, name: 'NumericEquals', statement: allowAll({ NumericEquals: { 's3:max-keys': '10' } }), request: req({ 's3:max-keys': ['10'] }), expect: 'true' },
  { page: OPS, name: 'NumericNotEquals', statement: allowAll({ NumericNotEquals: { 's3:max-keys': '10' } }), request: req({ 's3:max-keys': ['10'] }), expect: 'false' },
  { page: OPS, name: 'NumericLessThan', statement: allowAll({ NumericLessThan: { 's3:max-keys': '10' } }), request: req({ 's3:max-keys': ['9'] }), expect: 'true' },
  { page: OPS, name: 'NumericGreaterThan', statement: allowAll({ NumericGreaterThan: { 's3:max-keys': '10' } }), request: req({ 's3:max-keys': ['10'] }), expect: 'false' },
  { page: OPS, name: 'NumericGreaterThanEquals', statement: allowAll({ NumericGreaterThanEquals: { 's3:max-keys': '10' } }), request: req({ 's3:max-keys': ['10'] }), expect: 'true' },
  { page: OPS, name: 'a non-number never compares', statement: allowAll({ NumericEquals: { 's3:max-keys': '10' } }), request: req({ 's3:max-keys': ['ten'] }), expect: 'false' },
  // Date (the aws:TokenIssueTime example).
  { page: OPS, name: 'DateGreaterThan aws:TokenIssueTime', statement: allowAll({ DateGreaterThan: { 'aws:TokenIssueTime': '2020-01-01T00:00:01Z' } }), request: req({ 'aws:TokenIssueTime': ['2026-11-01T00:00:00Z'] }), expect: 'true' },
  { page: OPS, name: 'DateGreaterThan, earlier token', statement: allowAll({ DateGreaterThan: { 'aws:TokenIssueTime': '2020-01-01T00:00:01Z' } }), request: req({ 'aws:TokenIssueTime': ['2019-12-31T00:00:00Z'] }), expect: 'false' },
  { page: OPS, name: 'DateLessThan with epoch seconds', statement: allowAll({ DateLessThan: { 'aws:CurrentTime': '1577836800' } }), request: req({ 'aws:CurrentTime': ['2019-06-01T00:00:00Z'] }), expect: 'true' },
  { page: OPS, name: 'DateEquals', statement: allowAll({ DateEquals: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }), request: req({ 'aws:CurrentTime': ['2020-01-01T00:00:00.000Z'] }), expect: 'true' },
  { page: OPS, name: 'DateNotEquals', statement: allowAll({ DateNotEquals: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }), request: req({ 'aws:CurrentTime': ['2020-01-01T00:00:00Z'] }), expect: 'false' },
  { page: OPS, name: 'DateLessThanEquals', statement: allowAll({ DateLessThanEquals: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }), request: req({ 'aws:CurrentTime': ['2020-01-01T00:00:00Z'] }), expect: 'true' },
  { page: OPS, name: 'DateGreaterThanEquals', statement: allowAll({ DateGreaterThanEquals: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }), request: req({ 'aws:CurrentTime': ['2019-12-31T23:59:59Z'] }), expect: 'false' },
  // Bool (the aws:SecureTransport example).
  { page: OPS, name: 'Bool aws:SecureTransport true', statement: allowAll({ Bool: { 'aws:SecureTransport': 'true' } }), request: req({ 'aws:SecureTransport': ['true'] }), expect: 'true' },
  { page: OPS, name: 'Bool aws:SecureTransport false', statement: allowAll({ Bool: { 'aws:SecureTransport': 'true' } }), request: req({ 'aws:SecureTransport': ['false'] }), expect: 'false' },
  { page: OPS, name: 'Bool with a JSON boolean value', statement: allowAll({ Bool: { 'aws:SecureTransport': false } }), request: req({ 'aws:SecureTransport': ['false'] }), expect: 'true' },
  { page: OPS, name: 'Bool, key absent', statement: allowAll({ Bool: { 'aws:SecureTransport': 'true' } }), request: req({}), expect: 'false' },
  // Binary (the base64 example).
  { page: OPS, name: 'BinaryEquals', statement: allowAll({ BinaryEquals: { key: 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } }), request: req({ key: ['QmluYXJ5VmFsdWVJbkJhc2U2NA=='] }), expect: 'true' },
  { page: OPS, name: 'BinaryEquals, other bytes', statement: allowAll({ BinaryEquals: { key: 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } }), request: req({ key: ['T3RoZXI='] }), expect: 'false' },
  // IP addresses (the 203.0.113.0/24 and 2001:DB8:1234:5678::/64 examples).
  { page: OPS, name: 'IpAddress in 203.0.113.0/24', statement: allowAll({ IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }), request: req({ 'aws:SourceIp': ['203.0.113.45'] }), expect: 'true' },
  { page: OPS, name: 'IpAddress outside 203.0.113.0/24', statement: allowAll({ IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }), request: req({ 'aws:SourceIp': ['198.51.100.7'] }), expect: 'false' },
  { page: OPS, name: 'IpAddress IPv6 range', statement: allowAll({ IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] } }), request: req({ 'aws:SourceIp': ['2001:db8:1234:5678::42'] }), expect: 'true' },
  { page: OPS, name: 'NotIpAddress', statement: allowAll({ NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }), request: req({ 'aws:SourceIp': ['198.51.100.7'] }), expect: 'true' },
  { page: OPS, name: 'IpAddress single address', statement: allowAll({ IpAddress: { 'aws:SourceIp': '203.0.113.8' } }), request: req({ 'aws:SourceIp': ['203.0.113.8'] }), expect: 'true' },
  // ARN operators (the aws:SourceArn SNS example).
  { page: OPS, name: 'ArnEquals aws:SourceArn', statement: allowAll({ ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:123456789012:TOPIC-ID' } }), request: req({ 'aws:SourceArn': ['arn:aws:sns:us-east-1:123456789012:TOPIC-ID'] }), expect: 'true' },
  { page: OPS, name: 'ArnLike with wildcards per part', statement: allowAll({ ArnLike: { 'aws:SourceArn': 'arn:aws:sns:*:123456789012:*' } }), request: req({ 'aws:SourceArn': ['arn:aws:sns:eu-west-1:123456789012:alerts'] }), expect: 'true' },
  { page: OPS, name: 'ArnLike: another account', statement: allowAll({ ArnLike: { 'aws:SourceArn': 'arn:aws:sns:*:123456789012:*' } }), request: req({ 'aws:SourceArn': ['arn:aws:sns:eu-west-1:210987654321:alerts'] }), expect: 'false' },
  { page: OPS, name: 'ArnLike: a wildcard does not span a colon', statement: allowAll({ ArnLike: { 'aws:SourceArn': 'arn:aws:sns:*:123456789012:alerts' } }), request: req({ 'aws:SourceArn': ['arn:aws:sns:eu-west-1:1:123456789012:alerts'] }), expect: 'false' },
  { page: OPS, name: 'ArnNotLike', statement: allowAll({ ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/AdminRole' } }), request: req({ 'aws:PrincipalArn': ['arn:aws:iam::123456789012:role/AdminRole'] }), expect: 'false' },
  // ...IfExists (the ec2:InstanceType example) and Null (the aws:TokenIssueTime example).
  { page: OPS, name: 'StringLikeIfExists, key present and matching', statement: allowAll({ StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } }), request: req({ 'ec2:InstanceType': ['t2.micro'] }), expect: 'true' },
  { page: OPS, name: 'StringLikeIfExists, key present, not matching', statement: allowAll({ StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } }), request: req({ 'ec2:InstanceType': ['c5.large'] }), expect: 'false' },
  { page: OPS, name: 'StringLikeIfExists, key absent', statement: allowAll({ StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } }), request: req({}), expect: 'true' },
  { page: OPS, name: 'Null true: temporary credentials absent', statement: allowAll({ Null: { 'aws:TokenIssueTime': 'true' } }), request: req({}), expect: 'true' },
  { page: OPS, name: 'Null true with the key present', statement: allowAll({ Null: { 'aws:TokenIssueTime': 'true' } }), request: req({ 'aws:TokenIssueTime': ['2026-11-01T00:00:00Z'] }), expect: 'false' },
  { page: OPS, name: 'Null false with the key present', statement: allowAll({ Null: { 'aws:TokenIssueTime': 'false' } }), request: req({ 'aws:TokenIssueTime': ['2026-11-01T00:00:00Z'] }), expect: 'true' },
  { page: OPS, name: 'BoolIfExists MFA absent', statement: allowAll({ BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } }), request: req({}), expect: 'true' },
  // Multivalued keys and set operators.
  { page: MULTI, name: 'ForAllValues:StringLike aws:TagKeys key1*', statement: allowAll({ 'ForAllValues:StringLike': { 'aws:TagKeys': 'key1*' } }), request: req({ 'aws:TagKeys': ['key1', 'key1-a'] }), expect: 'true' },
  { page: MULTI, name: 'ForAllValues: one value outside', statement: allowAll({ 'ForAllValues:StringLike': { 'aws:TagKeys': 'key1*' } }), request: req({ 'aws:TagKeys': ['key1', 'key2'] }), expect: 'false' },
  { page: MULTI, name: 'ForAllValues: key absent is true', statement: allowAll({ 'ForAllValues:StringLike': { 'aws:TagKeys': 'key1*' } }), request: req({}), expect: 'true' },
  { page: MULTI, name: 'ForAnyValue:StringEquals environment/cost-center', statement: allowAll({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } }), request: req({ 'aws:TagKeys': ['environment', 'owner'] }), expect: 'true' },
  { page: MULTI, name: 'ForAnyValue: none of them', statement: allowAll({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } }), request: req({ 'aws:TagKeys': ['owner'] }), expect: 'false' },
  { page: MULTI, name: 'ForAnyValue: key absent is false', statement: allowAll({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['environment', 'cost-center'] } }), request: req({}), expect: 'false' },
  { page: MULTI, name: 'ForAllValues:StringEquals dynamodb:Attributes subset', statement: allowAll({ 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['ID', 'Message', 'Tags'] } }), request: req({ 'dynamodb:Attributes': ['ID', 'Message'] }), expect: 'true' },
  { page: MULTI, name: 'ForAllValues:StringEquals dynamodb:Attributes not a subset', statement: allowAll({ 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['ID', 'Message', 'Tags'] } }), request: req({ 'dynamodb:Attributes': ['ID', 'PostDateTime'] }), expect: 'false' },
  { page: MULTI, name: 'ForAnyValue:StringEquals dynamodb:Attributes', statement: allowAll({ 'ForAnyValue:StringEquals': { 'dynamodb:Attributes': ['ID', 'PostDateTime'] } }), request: req({ 'dynamodb:Attributes': ['PostDateTime', 'Message'] }), expect: 'true' },
  { page: MULTI, name: 'ForAllValues:StringNotEquals: every value outside the list', statement: allowAll({ 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['admin'] } }), request: req({ 'aws:TagKeys': ['env', 'team'] }), expect: 'true' },
  { page: MULTI, name: 'ForAnyValue:StringNotEquals: one value outside the list', statement: allowAll({ 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['env'] } }), request: req({ 'aws:TagKeys': ['env'] }), expect: 'false' },
  // Several keys AND, several values OR.
  { page: LOGIC, name: 'two operators in one block: both must hold', statement: allowAll({ DateGreaterThan: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' } }), request: req({ 'aws:CurrentTime': ['2020-05-01T00:00:00Z'] }), expect: 'true' },
  { page: LOGIC, name: 'two operators, one false', statement: allowAll({ DateGreaterThan: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' } }), request: req({ 'aws:CurrentTime': ['2020-07-01T00:00:00Z'] }), expect: 'false' },
  { page: LOGIC, name: 'two keys under one operator: AND', statement: allowAll({ StringEquals: { 'aws:PrincipalTag/department': 'finance', 'aws:PrincipalTag/role': 'audit' } }), request: req({ 'aws:PrincipalTag/department': ['finance'], 'aws:PrincipalTag/role': ['dev'] }), expect: 'false' },
  { page: LOGIC, name: 'several values of one key: OR', statement: allowAll({ StringEquals: { 'aws:PrincipalTag/department': ['finance', 'hr', 'legal'] } }), request: req({ 'aws:PrincipalTag/department': ['hr'] }), expect: 'true' },
  { page: LOGIC, name: 'negated operator with several values: none may match', statement: allowAll({ StringNotEquals: { 'aws:PrincipalTag/department': ['finance', 'hr'] } }), request: req({ 'aws:PrincipalTag/department': ['hr'] }), expect: 'false' },
  // Policy variables.
  { page: VARS, name: '${aws:username} in a Resource', statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*' }, request: { action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/bob/notes.txt', conditions: { 'aws:username': ['bob'] } }, expect: 'true' },
  { page: VARS, name: '${aws:username}: another user\'s folder', statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*' }, request: { action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/alice/notes.txt', conditions: { 'aws:username': ['bob'] } }, expect: 'false' },
  { page: VARS, name: 'a role has no aws:username: the variable does not resolve', statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*' }, request: { action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/bob/x', conditions: {} }, expect: 'false' },
  { page: VARS, name: 'default value for a missing tag', statement: allowAll({ StringEquals: { 's3:prefix': '${aws:PrincipalTag/team, \'company-wide\'}' } }), request: req({ 's3:prefix': ['company-wide'] }), expect: 'true' },
  { page: VARS, name: '${*} is a literal asterisk', statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/${*}' }, request: { action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/other', conditions: {} }, expect: 'false' },
  { page: VARS, name: '${*} matches the asterisk itself', statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/${*}' }, request: { action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*', conditions: {} }, expect: 'true' },
  { page: VARS, name: 'Version 2008-10-17: ${aws:username} is literal text', version: '2008-10-17', statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*' }, request: { action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/bob/x', conditions: { 'aws:username': ['bob'] } }, expect: 'false' },
  { page: VARS, name: '${aws:PrincipalTag/...} in a condition', statement: allowAll({ StringEquals: { 'aws:ResourceTag/project': '${aws:PrincipalTag/project}' } }), request: req({ 'aws:ResourceTag/project': ['blue'], 'aws:PrincipalTag/project': ['blue'] }), expect: 'true' },
  // Action and NotAction.
  { page: ACTION, name: 'Action names are case-insensitive', statement: { Effect: 'Allow', Action: 'EC2:StartInstances', Resource: '*' }, request: { action: 'ec2:startinstances' }, expect: 'true' },
  { page: ACTION, name: 'wildcard inside an action name: iam:*AccessKey*', statement: { Effect: 'Allow', Action: 'iam:*AccessKey*', Resource: '*' }, request: { action: 'iam:CreateAccessKey' }, expect: 'true' },
  { page: ACTION, name: 'iam:*AccessKey* does not cover iam:CreateUser', statement: { Effect: 'Allow', Action: 'iam:*AccessKey*', Resource: '*' }, request: { action: 'iam:CreateUser' }, expect: 'false' },
  { page: NOTACTION, name: 'Allow NotAction iam:* covers s3', statement: { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }, request: { action: 's3:ListAllMyBuckets' }, expect: 'true' },
  { page: NOTACTION, name: 'Allow NotAction iam:* does not cover iam', statement: { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }, request: { action: 'iam:CreateUser' }, expect: 'false' },
  // Resource and NotResource.
  { page: RESOURCE, name: 'a wildcard in the resource path', statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*' }, request: { action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/a/b/c.txt' }, expect: 'true' },
  { page: RESOURCE, name: 'resource part is case-sensitive', statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*' }, request: { action: 's3:GetObject', resource: 'arn:aws:s3:::AMZN-S3-DEMO-BUCKET/a' }, expect: 'false' },
  { page: RESOURCE, name: 'users in any path of an account', statement: { Effect: 'Allow', Action: 'iam:*', Resource: 'arn:aws:iam::123456789012:user/*' }, request: { action: 'iam:GetUser', resource: 'arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Bob' }, expect: 'true' },
  { page: RESOURCE, name: '? matches exactly one character', statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/file?.txt' }, request: { action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/file10.txt' }, expect: 'false' },
  { page: NOTRESOURCE, name: 'Allow s3:* NotResource the payroll folder: another object', statement: { Effect: 'Allow', Action: 's3:*', NotResource: ['arn:aws:s3:::HRBucket/Payroll', 'arn:aws:s3:::HRBucket/Payroll/*'] }, request: { action: 's3:GetObject', resource: 'arn:aws:s3:::HRBucket/Policies/a.pdf' }, expect: 'true' },
  { page: NOTRESOURCE, name: 'Allow s3:* NotResource the payroll folder: payroll', statement: { Effect: 'Allow', Action: 's3:*', NotResource: ['arn:aws:s3:::HRBucket/Payroll', 'arn:aws:s3:::HRBucket/Payroll/*'] }, request: { action: 's3:GetObject', resource: 'arn:aws:s3:::HRBucket/Payroll/2026.csv' }, expect: 'false' },
  // Principal and NotPrincipal (resource-based policies).
  { page: PRINCIPAL, name: 'an account principal covers its users', statement: { Effect: 'Allow', Principal: { AWS: '123456789012' }, Action: 's3:GetObject', Resource: '*' }, request: { action: 's3:GetObject', caller: { arn: 'arn:aws:iam::123456789012:user/bob', roleArn: null, account: '123456789012' } }, expect: 'true' },
  { page: PRINCIPAL, name: 'arn:aws:iam::ACCOUNT:root is the account', statement: { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 's3:GetObject', Resource: '*' }, request: { action: 's3:GetObject', caller: { arn: 'arn:aws:iam::210987654321:user/eve', roleArn: null, account: '210987654321' } }, expect: 'false' },
  { page: PRINCIPAL, name: 'a role principal covers its sessions', statement: { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:role/role-name' }, Action: 's3:GetObject', Resource: '*' }, request: { action: 's3:GetObject', caller: { arn: 'arn:aws:sts::123456789012:assumed-role/role-name/session', roleArn: 'arn:aws:iam::123456789012:role/role-name', account: '123456789012' } }, expect: 'true' },
  { page: PRINCIPAL, name: 'Principal "*" is everyone', statement: { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }, request: { action: 's3:GetObject', caller: { arn: 'arn:aws:iam::210987654321:user/eve', roleArn: null, account: '210987654321' } }, expect: 'true' },
  { page: NOTPRINCIPAL, name: 'Deny NotPrincipal: the listed user is not denied', statement: { Effect: 'Deny', NotPrincipal: { AWS: ['arn:aws:iam::444455556666:user/Bob', 'arn:aws:iam::444455556666:root'] }, Action: 's3:*', Resource: '*' }, request: { action: 's3:GetObject', caller: { arn: 'arn:aws:iam::444455556666:user/Bob', roleArn: null, account: '444455556666' } }, expect: 'false' },
  { page: NOTPRINCIPAL, name: 'Deny NotPrincipal: anyone else is denied', statement: { Effect: 'Deny', NotPrincipal: { AWS: ['arn:aws:iam::444455556666:user/Bob'] }, Action: 's3:*', Resource: '*' }, request: { action: 's3:GetObject', caller: { arn: 'arn:aws:iam::444455556666:user/Alice', roleArn: null, account: '444455556666' } }, expect: 'true' },
  // The region and SCP examples.
  { page: REGION, name: 'Deny outside eu-central-1/eu-west-1: us-east-1 is denied', statement: { Effect: 'Deny', NotAction: ['iam:*', 'organizations:*', 'sts:*'], Resource: '*', Condition: { StringNotEquals: { 'aws:RequestedRegion': ['eu-central-1', 'eu-west-1'] } } }, request: { action: 'ec2:RunInstances', conditions: { 'aws:RequestedRegion': ['us-east-1'] } }, expect: 'true' },
  { page: REGION, name: 'Deny outside regions: eu-west-1 passes', statement: { Effect: 'Deny', NotAction: ['iam:*', 'organizations:*', 'sts:*'], Resource: '*', Condition: { StringNotEquals: { 'aws:RequestedRegion': ['eu-central-1', 'eu-west-1'] } } }, request: { action: 'ec2:RunInstances', conditions: { 'aws:RequestedRegion': ['eu-west-1'] } }, expect: 'false' },
  { page: REGION, name: 'Deny outside regions: global iam exempted', statement: { Effect: 'Deny', NotAction: ['iam:*', 'organizations:*', 'sts:*'], Resource: '*', Condition: { StringNotEquals: { 'aws:RequestedRegion': ['eu-central-1', 'eu-west-1'] } } }, request: { action: 'iam:CreateUser', conditions: { 'aws:RequestedRegion': ['us-east-1'] } }, expect: 'false' },
  { page: SCPS, name: 'region SCP with the ArnNotLike admin-role exception', statement: { Effect: 'Deny', NotAction: ['iam:*', 'sts:*'], Resource: '*', Condition: { StringNotEquals: { 'aws:RequestedRegion': ['eu-central-1'] }, ArnNotLike: { 'aws:PrincipalARN': ['arn:aws:iam::*:role/Role1AllowedToBypassThisSCP'] } } }, request: { action: 's3:CreateBucket', conditions: { 'aws:RequestedRegion': ['us-east-1'], 'aws:PrincipalArn': ['arn:aws:iam::123456789012:role/Role1AllowedToBypassThisSCP'] } }, expect: 'false' },
  { page: SCPS, name: 'deny instance types other than t2.micro', statement: { Effect: 'Deny', Action: 'ec2:RunInstances', Resource: 'arn:aws:ec2:*:*:instance/*', Condition: { StringNotEquals: { 'ec2:InstanceType': 't2.micro' } } }, request: { action: 'ec2:RunInstances', resource: 'arn:aws:ec2:us-east-1:123456789012:instance/*', conditions: { 'ec2:InstanceType': ['m5.large'] } }, expect: 'true' },
  { page: SCPS, name: 'deny leaving the organization', statement: { Effect: 'Deny', Action: 'organizations:LeaveOrganization', Resource: '*' }, request: { action: 'organizations:LeaveOrganization' }, expect: 'true' }
]

for (const c of statements) {
  t.test(`${c.name} (${c.page.split('/').pop()})`, async t => {
    const request: MatchRequest = { action: 's3:GetObject', resource: '*', conditions: {}, ...c.request }
    const v = statementVerdict(c.statement, request, { variables: (c.version ?? '2012-10-17') === '2012-10-17' })
    t.equal(v.verdict, c.expect, v.mismatches.join('; '))
  })
}

interface PolicyCase { page: string, name: string, policies: Array<[PolicyType, PolicyStatement[]]>, request: Partial<MatchRequest>, accounts?: [string, string], expect: string }
const allow = (Action: string, Resource = '*'): PolicyStatement => ({ Effect: 'Allow', Action, Resource })
const deny = (Action: string, Resource = '*'): PolicyStatement => ({ Effect: 'Deny', Action, Resource })
const FULL = allow('*')

const policyCases: PolicyCase[] = [
  { page: EVAL, name: 'no policy allows: implicit deny', policies: [['identity', [allow('s3:ListBucket')]]], request: { action: 'ec2:RunInstances' }, expect: 'implicit-deny' },
  { page: EVAL, name: 'an identity Allow allows', policies: [['identity', [allow('ec2:*')]]], request: { action: 'ec2:RunInstances' }, expect: 'allowed' },
  { page: EVAL, name: 'an explicit Deny overrides the Allow', policies: [['identity', [allow('ec2:*'), deny('ec2:RunInstances')]]], request: { action: 'ec2:RunInstances' }, expect: 'explicit-deny' },
  { page: EVAL, name: 'a Deny in another policy also wins', policies: [['identity', [allow('*')]], ['identity', [deny('ec2:*')]]], request: { action: 'ec2:RunInstances' }, expect: 'explicit-deny' },
  { page: SCPEVAL, name: 'an SCP that does not allow: implicit deny although IAM allows', policies: [['scp', [allow('s3:*')]], ['identity', [FULL]]], request: { action: 'ec2:RunInstances' }, expect: 'implicit-deny' },
  { page: SCPEVAL, name: 'FullAWSAccess plus an identity Allow', policies: [['scp', [FULL]], ['identity', [allow('ec2:RunInstances')]]], request: { action: 'ec2:RunInstances' }, expect: 'allowed' },
  { page: SCPEVAL, name: 'an SCP Deny wins over FullAWSAccess', policies: [['scp', [FULL]], ['scp', [deny('ec2:*')]], ['identity', [FULL]]], request: { action: 'ec2:RunInstances' }, expect: 'explicit-deny' },
  { page: SCPEVAL, name: 'an SCP grants nothing by itself', policies: [['scp', [FULL]]], request: { action: 'ec2:RunInstances' }, expect: 'implicit-deny' },
  { page: BOUNDARY, name: 'boundary allows s3/cloudwatch/ec2, identity allows iam:CreateUser: denied', policies: [['boundary', [{ Effect: 'Allow', Action: ['s3:*', 'cloudwatch:*', 'ec2:*'], Resource: '*' }]], ['identity', [allow('iam:CreateUser')]]], request: { action: 'iam:CreateUser' }, expect: 'implicit-deny' },
  { page: BOUNDARY, name: 'boundary and identity both allow: allowed', policies: [['boundary', [{ Effect: 'Allow', Action: ['s3:*', 'cloudwatch:*', 'ec2:*'], Resource: '*' }]], ['identity', [allow('ec2:RunInstances')]]], request: { action: 'ec2:RunInstances' }, expect: 'allowed' },
  { page: BOUNDARY, name: 'the boundary grants nothing by itself', policies: [['boundary', [FULL]]], request: { action: 'ec2:RunInstances' }, expect: 'implicit-deny' },
  { page: BOUNDARY, name: 'a Deny in the boundary wins', policies: [['boundary', [FULL, deny('iam:*')]], ['identity', [FULL]]], request: { action: 'iam:CreateUser' }, expect: 'explicit-deny' },
  { page: EVAL, name: 'a session policy must allow too', policies: [['session', [allow('s3:*')]], ['identity', [FULL]]], request: { action: 'ec2:RunInstances' }, expect: 'implicit-deny' },
  { page: EVAL, name: 'same account: a resource policy alone allows', policies: [['resource', [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:user/bob' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }]]], request: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }, expect: 'allowed' },
  { page: CROSS, name: 'cross account: the resource policy alone is not enough', policies: [['resource', [{ Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }]]], request: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }, accounts: ['111122223333', '444455556666'], expect: 'implicit-deny' },
  { page: CROSS, name: 'cross account: identity and resource policy both allow', policies: [['identity', [allow('s3:GetObject', 'arn:aws:s3:::b/*')]], ['resource', [{ Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }]]], request: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }, accounts: ['111122223333', '444455556666'], expect: 'allowed' },
  { page: CROSS, name: 'cross account: the identity policy alone is not enough', policies: [['identity', [allow('s3:GetObject', 'arn:aws:s3:::b/*')]]], request: { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' }, accounts: ['111122223333', '444455556666'], expect: 'implicit-deny' },
  { page: EVAL, name: 'an RCP Deny wins', policies: [['rcp', [FULL, deny('s3:*')]], ['identity', [FULL]]], request: { action: 's3:GetObject' }, expect: 'explicit-deny' }
]

for (const c of policyCases) {
  t.test(`${c.name} (${c.page.split('/').pop()})`, async t => {
    const policies: AppliedPolicy[] = c.policies.map(([policyType, Statement], i) => ({
      ref: `p${i}`, policyArn: null, policyName: `p${i}`, policyType, attachedTo: 'x', account: null, document: { Version: '2012-10-17', Statement }
    }))
    const request: MatchRequest = { action: null, resource: '*', conditions: {}, caller: { arn: 'arn:aws:iam::111122223333:user/bob', roleArn: null, account: '111122223333' }, ...c.request }
    const e = evaluate({ request, policies, principalAccount: c.accounts?.[0] ?? null, resourceAccount: c.accounts?.[1] ?? null })
    t.equal(e.decision, c.expect, e.reasons.join(' | '))
  })
}

t.test('the table has at least 80 cases from the documentation', async t => {
  t.ok(statements.length + policyCases.length >= 80, `${statements.length + policyCases.length} cases`)
})
