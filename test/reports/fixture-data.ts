/**
 * Golden data for report tests: a small history with known answers, as NDJSON envelopes
 * ({"DecodedMessage": "...", "observedAt": "..."}), and helpers to store it.
 *
 * Reported period: 2026-11-01 .. 2026-11-30 (inclusive), previous: 2026-10-02 .. 2026-10-31.
 *   A platform-deployer (3 sessions) ec2:RunInstances implicit   now 8, before 2  → growing, team platform (account)
 *   B data-analyst (SCP) s3:PutBucketPolicy explicit              now 5, before 4  → ongoing, team data (role glob)
 *   C user carol iam:PassRole implicit (ec2)                      now 2, before 0  → new, team data (user glob)
 *   D app-runtime kms:Decrypt implicit                            now 0, before 3  → quiet, team apps
 *   E platform-deployer ec2:CreateTags                            now 6            → suppressed by rule 0
 *   F user zed-the-user in an unknown account s3:GetObject        now 1            → new, unassigned
 *   G ci-runner logs:CreateLogGroup                               now 2            → suppressed by rule 1
 *   H user dave dynamodb:PutItem (rule 2 has expired)             now 1            → new, team platform
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseEnvelope } from '../../server/authz/parse.js'
import { openDatabase, type DB } from '../../server/db/connection.js'
import { repositoriesOn } from '../../server/db/index.js'

export const PLATFORM = '111122223333'
export const DATA = '444455556666'
export const APPS = '777788889999'
export const OTHER = '999900001111'

export const TEAMS_YAML = `teams:
  - name: platform
    accounts: ["${PLATFORM}"]
    principals: ["arn:aws:iam::*:role/platform-*"]
  - name: data
    principals: ["arn:aws:iam::*:role/data-*", "arn:aws:iam::${DATA}:user/*"]
  - name: apps
    accounts: ["${APPS}"]
suppress:
  - action: "ec2:CreateTags"
    reason: "known noise from the tagging job"
    until: "2027-01-01"
  - action: "logs:*"
    principal: "arn:aws:iam::*:role/ci-runner"
    reason: "runner log groups"
  - action: "dynamodb:*"
    reason: "expired rule"
    until: "2026-10-01"
`

/** Everything identifying in the data: none of it may survive --redact. */
export const SECRETS = [PLATFORM, DATA, APPS, OTHER, 'platform-deployer', 'data-analyst', 'app-runtime', 'ci-runner', 'carol', 'zed-the-user',
  'dave', 'ci-session-alpha', 'ci-session-bravo', 'ci-session-charlie', 'i-0fedcba987654321', 'analytics-raw-bucket', 'AROAPLATFORMDEPLOYER',
  'AIDACAROLEXAMPLE', 'AIDAZEDEXAMPLE', 'AROADATAANALYST', 'alice-analyst', 'EC2_instance_Profile_role', '1234abcd-12ab-34cd-56ef-1234567890ab',
  'orders-table', 'private-reports', 'build-logs']

const list = (vals: string[]): { items: Array<{ value: string }> } => ({ items: vals.map(value => ({ value })) })
const cond = (kv: Record<string, string[]>): { items: Array<{ key: string, values: ReturnType<typeof list> }> } => ({ items: Object.entries(kv).map(([key, v]) => ({ key, values: list(v) })) })

function message (o: { principal: Record<string, string>, action: string, resource: string, conditions: Record<string, string[]>, explicit?: boolean, statements?: unknown[] }): string {
  return JSON.stringify({
    allowed: false,
    explicitDeny: o.explicit ?? false,
    matchedStatements: { items: o.statements ?? [] },
    failures: { items: [] },
    context: { principal: o.principal, action: o.action, resource: o.resource, conditions: cond(o.conditions) }
  })
}

const session = (role: string, acct: string, s: string, id: string): Record<string, string> => ({ id: `${id}:${s}`, arn: `arn:aws:sts::${acct}:assumed-role/${role}/${s}` })

const A = (s: string): string => message({
  principal: session('platform-deployer', PLATFORM, s, 'AROAPLATFORMDEPLOYER'),
  action: 'ec2:RunInstances',
  resource: `arn:aws:ec2:us-east-1:${PLATFORM}:instance/*`,
  conditions: { 'aws:RequestedRegion': ['us-east-1'], 'aws:Service': ['ec2'], 'aws:Account': [PLATFORM] }
})
const B = message({
  principal: session('data-analyst', DATA, 'alice-analyst', 'AROADATAANALYST'),
  action: 's3:PutBucketPolicy',
  resource: 'arn:aws:s3:::analytics-raw-bucket',
  explicit: true,
  statements: [{ statementId: '', effect: 'DENY', principals: list(['SCOPE_POLICY_ISSUER']), principalGroups: list([]), actions: list(['s3:PutBucketPolicy']), resources: list(['*']), conditions: cond({ 'aws:PrincipalArn': ['arn:aws:iam::*:role/data-*'] }) }],
  conditions: { 'aws:Service': ['s3'], 'aws:Account': [DATA], 'aws:Resource': ['analytics-raw-bucket'] }
})
const C = message({
  principal: { id: 'AIDACAROLEXAMPLE', name: 'carol', arn: `arn:aws:iam::${DATA}:user/carol` },
  action: 'iam:PassRole',
  resource: `arn:aws:iam::${DATA}:role/EC2_instance_Profile_role`,
  conditions: { 'aws:Service': ['ec2'], 'iam:RoleName': ['EC2_instance_Profile_role'], 'aws:Account': [DATA] }
})
const D = message({
  principal: session('app-runtime', APPS, 'i-0fedcba987654321', 'AROAAPPRUNTIME'),
  action: 'kms:Decrypt',
  resource: `arn:aws:kms:us-east-1:${APPS}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  conditions: { 'aws:Service': ['kms'], 'kms:CallerAccount': [APPS] }
})
const E = message({
  principal: session('platform-deployer', PLATFORM, 'ci-session-alpha', 'AROAPLATFORMDEPLOYER'),
  action: 'ec2:CreateTags',
  resource: `arn:aws:ec2:us-east-1:${PLATFORM}:instance/i-0fedcba987654321`,
  conditions: { 'aws:Service': ['ec2'] }
})
const F = message({
  principal: { id: 'AIDAZEDEXAMPLE', name: 'zed-the-user', arn: `arn:aws:iam::${OTHER}:user/zed-the-user` },
  action: 's3:GetObject',
  resource: 'arn:aws:s3:::private-reports/2026/q3.csv',
  conditions: { 'aws:Service': ['s3'], 'aws:userid': ['AIDAZEDEXAMPLE'] }
})
const G = message({
  principal: session('ci-runner', PLATFORM, 'ci-session-bravo', 'AROACIRUNNER'),
  action: 'logs:CreateLogGroup',
  resource: `arn:aws:logs:us-east-1:${PLATFORM}:log-group:build-logs`,
  conditions: { 'aws:Service': ['logs'] }
})
const H = message({
  principal: { id: 'AIDADAVEEXAMPLE', name: 'dave', arn: `arn:aws:iam::${PLATFORM}:user/dave` },
  action: 'dynamodb:PutItem',
  resource: `arn:aws:dynamodb:us-east-1:${PLATFORM}:table/orders-table`,
  conditions: { 'aws:Service': ['dynamodb'] }
})

const at = (day: string, i: number): string => `${day}T${String(8 + (i % 10)).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}:00Z`

/** The golden history as NDJSON envelope lines. */
export function goldenLines (): string[] {
  const out: string[] = []
  const add = (msg: string, days: string[]): void => { days.forEach((d, i) => out.push(JSON.stringify({ DecodedMessage: msg, observedAt: at(d, i) }))) }
  add(A('ci-session-alpha'), ['2026-11-02', '2026-11-03', '2026-11-10', '2026-11-20', '2026-10-10', '2026-10-20'])
  add(A('ci-session-bravo'), ['2026-11-04', '2026-11-05', '2026-11-06'])
  add(A('ci-session-charlie'), ['2026-11-29'])
  add(B, ['2026-11-01', '2026-11-08', '2026-11-15', '2026-11-22', '2026-11-30', '2026-10-05', '2026-10-12', '2026-10-19', '2026-10-26'])
  add(C, ['2026-11-12', '2026-11-13'])
  add(D, ['2026-10-03', '2026-10-04', '2026-10-30'])
  add(E, ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06'])
  add(F, ['2026-11-25'])
  add(G, ['2026-11-07', '2026-11-08'])
  add(H, ['2026-11-14'])
  // Outside both periods: must not count anywhere.
  add(A('ci-session-alpha'), ['2026-09-01', '2026-12-05'])
  return out
}

export const PERIOD_ARGS = { since: '2026-11-01', until: '2026-11-30' }

/** A database file holding the golden history (stored through the repository, as an import does). */
export function goldenDb (dir: string): { file: string, db: DB } {
  const file = path.join(dir, 'golden.db')
  const db = openDatabase(file)
  const repo = repositoriesOn(db).writer
  const records = goldenLines().map((line, i) => {
    const env = parseEnvelope(JSON.parse(line))
    return { message: env.message, source: 'golden', line: i + 1, observedAt: env.observedAt }
  })
  repo.storeBatch(records, [], null)
  return { file, db }
}

export function writeGolden (dir: string): { ndjson: string, teams: string } {
  const ndjson = path.join(dir, 'golden.ndjson')
  writeFileSync(ndjson, goldenLines().join('\n') + '\n')
  const teams = path.join(dir, 'teams.yaml')
  writeFileSync(teams, TEAMS_YAML)
  return { ndjson, teams }
}
