import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { canonicalJson, contentHash, normaliseAction, parseEnvelope, parsePrincipal, RecordError } from '../../server/authz/parse.js'
import { DECODED_FIXTURES } from '../helpers/files.js'

const fixture = (name: string): { DecodedMessage: string } => JSON.parse(readFileSync(path.join(DECODED_FIXTURES, `${name}.json`), 'utf8'))
const decoded = (name: string): Record<string, unknown> => JSON.parse(fixture(name).DecodedMessage)

t.test('every fixture parses, and the raw JSON is the DecodedMessage verbatim', async t => {
  for (const f of readdirSync(DECODED_FIXTURES)) {
    const env = JSON.parse(readFileSync(path.join(DECODED_FIXTURES, f), 'utf8'))
    const { message } = parseEnvelope(env)
    t.equal(message.raw, env.DecodedMessage, `${f}: raw kept byte for byte`)
    t.match(message.contentHash, /^[0-9a-f]{64}$/)
  }
})

t.test('the seed article message: PassRole, implicit deny, every condition as a row', async t => {
  const { message: m } = parseEnvelope(fixture('seed-passrole'))
  t.equal(m.decision, 'implicit-deny')
  t.equal(m.action, 'iam:PassRole')
  t.equal(m.service, 'iam')
  t.equal(m.resource, 'arn:aws:iam::111122223333:role/EC2_instance_Profile_role')
  t.equal(m.region, 'us-east-2')
  t.same(m.principal, {
    arn: 'arn:aws:iam::111122223333:user/test-user', id: 'AIDAEXAMPLEUSERID01', name: 'AWS-User', type: 'user', account: '111122223333', roleArn: null, sessionName: null
  })
  t.equal(m.conditions.length, 7)
  t.same(m.conditions[0], { key: 'aws:Region', value: 'us-east-2', position: 0, valueIndex: 0 })
})

t.test('the five envelopes give the same denial', async t => {
  const obj = decoded('seed-passrole')
  const text = fixture('seed-passrole').DecodedMessage
  const forms = [
    { DecodedMessage: text },
    obj,
    JSON.parse(JSON.stringify(obj, null, 2)),
    { DecodedMessage: obj, observedAt: '2026-11-01T10:00:00Z', source: 'ticket-42' },
    { DecodedMessage: JSON.stringify(obj, null, 4) }
  ]
  const hashes = new Set(forms.map(f => parseEnvelope(f).message.contentHash))
  t.equal(hashes.size, 1, 'pretty, compact, string and object forms hash alike')
  const env = parseEnvelope(forms[3])
  t.equal(env.observedAt, '2026-11-01T10:00:00.000Z')
  t.equal(env.source, 'ticket-42')
})

t.test('assumed-role principals keep role and session apart; multi-value and JSON-text values', async t => {
  const { message: m } = parseEnvelope(fixture('assumed-role-runinstances'))
  t.equal(m.principal.type, 'assumed-role')
  t.equal(m.principal.roleArn, 'arn:aws:iam::111122223333:role/platform-deployer')
  t.equal(m.principal.sessionName, 'ci-deploy-4711')
  t.equal(m.principal.account, '111122223333')
  t.equal(m.region, 'us-east-1', 'aws:RequestedRegion wins')
  const team = m.conditions.filter(c => c.key === 'ec2:ResourceTag/team')
  t.same(team.map(c => [c.value, c.valueIndex]), [['platform', 0], ['shared', 1]])
  const sg = m.conditions.find(c => c.key === 'ec2:SecurityGroupIds')
  t.equal(sg?.value, '["sg-0123456789abcdef0","sg-0fedcba9876543210"]', 'JSON text stored as that text')
})

t.test('unprefixed action is normalised from aws:Service, the original kept', async t => {
  const { message: m } = parseEnvelope(fixture('unprefixed-action'))
  t.equal(m.action, 'ec2:CreateVolume')
  t.equal(m.actionRaw, 'CreateVolume')
  t.equal(m.service, 'ec2')
  t.same(normaliseAction('PutObject', null, 'arn:aws:s3:::bucket/key'), { action: 's3:PutObject', service: 's3' }, 'service from the resource ARN')
  t.same(normaliseAction('Describe', null, '*'), { action: 'Describe', service: null }, 'unknown service: kept as is')
})

t.test('explicit deny: matched statements with empty Sid and SCOPE_POLICY_ISSUER; failures', async t => {
  const { message: m } = parseEnvelope(fixture('boundary-deny-with-failure'))
  t.equal(m.decision, 'explicit-deny')
  t.equal(m.statements.length, 1)
  t.equal(m.statements[0]!.statementId, '')
  t.same(m.statements[0]!.principals, ['SCOPE_POLICY_ISSUER'])
  t.same(m.statements[0]!.conditions, [{ key: 'iam:PermissionsBoundary', values: ['arn:aws:iam::111122223333:policy/boundary'] }])
  t.same(m.failures, [{ failureType: 'PolicyEvaluation', message: 'boundary condition not satisfied' }])
})

t.test('missing optional parts and unknown fields', async t => {
  const { message: m } = parseEnvelope(fixture('minimal-no-conditions'))
  t.same(m.conditions, [])
  t.equal(m.principal.id, null)
  t.equal(m.principal.name, null)
  t.equal(m.region, null)
  t.match(m.raw, /"futureField"/, 'unknown fields stay in the raw JSON')
  const noPrincipal = parseEnvelope({ allowed: false, explicitDeny: false, context: { action: 'ec2:X' } })
  t.equal(noPrincipal.message.principal.arn, null)
  t.equal(parseEnvelope({ allowed: true, explicitDeny: false, context: { action: 's3:GetObject' } }).message.decision, 'allowed')
})

t.test('a message with no action is refused, not stored as a denial of nothing', async t => {
  for (const context of [{}, { action: null }, { action: '' }, { action: '  ' }, { principal: { arn: 'arn:aws:iam::123456789012:user/a' }, resource: '*' }]) {
    t.throws(() => parseEnvelope({ allowed: false, explicitDeny: false, context }), { name: 'RecordError', message: /^no action: "context\.action" is (missing|empty).*\(field context\.action\)$/ }, JSON.stringify(context))
  }
  t.throws(() => parseEnvelope({ DecodedMessage: '{"allowed":false,"explicitDeny":true,"context":{"resource":"*"}}' }), /no action: "context.action" is missing/, 'in a DecodedMessage string too')
})

t.test('principal ARNs of every kind', async t => {
  t.match(parsePrincipal('arn:aws:iam::123456789012:root', null, null), { type: 'root', account: '123456789012' })
  t.match(parsePrincipal('arn:aws:sts::123456789012:federated-user/bob', null, null), { type: 'federated-user' })
  t.match(parsePrincipal('arn:aws-cn:sts::123456789012:assumed-role/r/s', null, null), { roleArn: 'arn:aws-cn:iam::123456789012:role/r', sessionName: 's' })
  t.match(parsePrincipal('AIDAONLYANID', null, null), { type: null, account: null })
})

t.test('rejections name the cause and the field', async t => {
  const cases: Array<[unknown, RegExp]> = [
    [[1], /expected a JSON object, got an array/],
    ['text', /expected a JSON object, got a string/],
    [{ foo: 1 }, /not a decoded authorization message.*\{foo\}/],
    [{}, /empty object/],
    [{ DecodedMessage: 42 }, /DecodedMessage must be a JSON string or object.*field DecodedMessage/],
    [{ DecodedMessage: '' }, /DecodedMessage is empty/],
    [{ DecodedMessage: '{"allowed":false,' }, /DecodedMessage is not valid JSON/],
    [{ DecodedMessage: '{"allowed":false,"explicitDeny":false,(...)}' }, /elided/],
    [{ DecodedMessage: '{"a":1}' }, /does not hold a decoded authorization message/],
    [{ DecodedMessage: '{"allowed":false,"explicitDeny":false,"context":[]}' }, /"context" must be an object/],
    [{ DecodedMessage: '{"allowed":"no","explicitDeny":false,"context":{}}' }, /"allowed" must be true or false/],
    [{ allowed: false, explicitDeny: false, context: { action: 5 } }, /"action" must be a string.*field context.action/],
    [{ allowed: false, explicitDeny: false, context: { conditions: { items: [{ values: {} }] } } }, /condition needs a string "key".*context.conditions.items\[0\]/],
    [{ allowed: false, explicitDeny: false, context: { action: 'a\u0000b' } }, /NUL character.*\$\.context\.action/],
    [{ allowed: false, explicitDeny: false, context: { action: 'a\ud800' } }, /unpaired surrogate/],
    [{ DecodedMessage: '{"allowed":false,"explicitDeny":false,"context":{}}', observedAt: 'yesterday' }, /observedAt "yesterday" is not an ISO-8601/],
    [{ DecodedMessage: '{"allowed":false,"explicitDeny":false,"context":{}}', observedAt: '2026-11-01T10:00:00' }, /time zone/],
    [{ DecodedMessage: '{"allowed":false,"explicitDeny":false,"context":{}}', source: 5 }, /source must be a string/]
  ]
  for (const [input, re] of cases) {
    t.throws(() => parseEnvelope(input), re, JSON.stringify(input).slice(0, 60))
    try { parseEnvelope(input) } catch (err) { t.ok(err instanceof RecordError) }
  }
})

t.test('hostile nesting is refused without overflowing the stack', async t => {
  let deep: unknown = 'x'
  for (let i = 0; i < 100_000; i++) deep = [deep]
  t.throws(() => parseEnvelope({ allowed: false, explicitDeny: false, context: { extra: deep } }), /nesting deeper than 64/)
})

t.test('hostile values are kept as text', async t => {
  const { message: m } = parseEnvelope(fixture('hostile-values'))
  t.match(m.principal.id, '<script>')
  t.equal(m.resource, "arn:aws:s3:::bucket/'; DROP TABLE denials; --")
  t.ok(m.conditions.some(c => c.value.includes('‮')), 'odd but well-formed Unicode is fine')
})

t.test('canonical JSON sorts keys at every level', async t => {
  t.equal(canonicalJson({ b: [1, { d: 1, c: 2 }], a: 'x' }), '{"a":"x","b":[1,{"c":2,"d":1}]}')
  t.equal(contentHash({ a: 1, b: 2 }), contentHash({ b: 2, a: 1 }))
})
