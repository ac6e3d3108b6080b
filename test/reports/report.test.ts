import t from 'tap'
import { ReportsRepository } from '../../server/db/repositories/reports.js'
import { buildReport, parseTeams, Redactor, render, resolvePeriod, Formats, type Report, type ReportGroup } from '../../server/reports/index.js'
import { tempDir } from '../helpers/files.js'
import { APPS, DATA, goldenDb, OTHER, PERIOD_ARGS, PLATFORM, SECRETS, TEAMS_YAML } from './fixture-data.js'

const dir = tempDir(t)
const { db } = goldenDb(dir)
t.teardown(() => db.close())
const repo = new ReportsRepository(db)
const teams = parseTeams(TEAMS_YAML, 'teams.yaml')
const period = resolvePeriod(PERIOD_ARGS.since, PERIOD_ARGS.until)
const now = new Date('2026-12-01T09:00:00Z')
const report = buildReport(repo, { period, teams, now })

const section = (r: Report, team: string): Report['teams'][number] => {
  const s = r.teams.find(x => x.team === team)
  if (!s) throw new Error(`no section ${team}`)
  return s
}
const find = (r: Report, action: string): ReportGroup | undefined => {
  for (const s of r.teams) for (const g of [...s.groups, ...s.quietGroups]) if (g.action === action) return g
  return undefined
}

t.test('period: the 30 days given, against the 30 before', async t => {
  t.same(period, { since: '2026-11-01T00:00:00.000Z', until: '2026-12-01T00:00:00.000Z', previousSince: '2026-10-02T00:00:00.000Z' })
  t.equal(report.days.length, 60)
  t.equal(report.days[report.periodStart], '2026-11-01')
})

t.test('sessions group under their role', async t => {
  const a = find(report, 'ec2:RunInstances')!
  t.equal(a.principal, `arn:aws:iam::${PLATFORM}:role/platform-deployer`)
  t.equal(a.occurrences, 8, 'three sessions, one group')
  t.equal(a.previousOccurrences, 2)
  t.equal(a.sessions, 3)
  t.equal(a.firstSeen, '2026-09-01T08:00:00.000Z', 'first seen in the whole history: since when')
  t.equal(a.lastSeen, '2026-12-05T09:07:00.000Z')
  t.equal(a.days.reduce((x, y) => x + y, 0), 10, 'the sparkline covers both periods')
  t.equal(a.days[report.days.indexOf('2026-11-04')], 1)
  const groups = report.teams.flatMap(s => s.groups).filter(g => g.action === 'ec2:RunInstances')
  t.equal(groups.length, 1)
  t.notMatch(a.explanation.summary, /ci-session/, 'the group sentence names the role, not one session')
  t.match(a.explanation.summary, /role\/platform-deployer/)
})

t.test('team attribution: first match wins, else unassigned', async t => {
  t.same(report.teams.map(s => s.team), ['platform', 'data', 'apps', 'unassigned'])
  t.same(section(report, 'platform').groups.map(g => g.action), ['ec2:RunInstances', 'dynamodb:PutItem'])
  t.same(section(report, 'data').groups.map(g => g.action), ['s3:PutBucketPolicy', 'iam:PassRole'])
  t.same(section(report, 'apps').groups.map(g => g.action), [])
  t.same(section(report, 'apps').quietGroups.map(g => g.action), ['kms:Decrypt'])
  t.same(section(report, 'unassigned').groups.map(g => [g.action, g.account]), [['s3:GetObject', OTHER]])
  for (const s of report.teams) for (const g of s.groups) t.equal(g.team, s.team)
  // The mapping is applied at build time: another file re-attributes the same history.
  const swapped = buildReport(repo, { period, teams: parseTeams('teams:\n  - name: everyone\n    principals: ["*"]\n', 'x.yaml'), now })
  t.same(swapped.teams.map(s => s.team), ['everyone'])
  t.equal(section(swapped, 'everyone').totals.groups, 7, 'no suppress rules now: E and G are back (D is quiet)')
})

t.test('status against the previous period', async t => {
  t.equal(find(report, 'ec2:RunInstances')!.status, 'growing')
  t.equal(find(report, 's3:PutBucketPolicy')!.status, 'ongoing')
  t.equal(find(report, 'iam:PassRole')!.status, 'new')
  t.equal(find(report, 'kms:Decrypt')!.status, 'quiet')
  t.equal(find(report, 's3:GetObject')!.status, 'new')
  t.same(section(report, 'data').newGroups.map(g => g.action), ['iam:PassRole'])
  t.same(report.totals, {
    occurrences: 8 + 5 + 2 + 1 + 1,
    previousOccurrences: 2 + 4 + 3,
    groups: 5,
    new: 3,
    growing: 1,
    ongoing: 1,
    quiet: 1,
    principals: 5,
    implicitGroups: 4,
    explicitGroups: 1,
    suppressedOccurrences: 8
  })
})

t.test('suppression: counted per rule; expired rules do not apply', async t => {
  t.same(report.suppressed.map(s => [s.rule.action, s.active, s.occurrences, s.groups]), [
    ['ec2:CreateTags', true, 6, 1],
    ['logs:*', true, 2, 1],
    ['dynamodb:*', false, 0, 0]
  ])
  t.equal(find(report, 'ec2:CreateTags'), undefined)
  t.equal(find(report, 'logs:CreateLogGroup'), undefined)
  t.ok(find(report, 'dynamodb:PutItem'), 'the expired rule lets it through')
  // A report whose period ends before the expiry date applies the rule.
  const early = buildReport(repo, { period: resolvePeriod('2026-09-01', '2026-09-30'), teams, now })
  t.equal(early.suppressed[2]!.active, true)
})

t.test('explanations, fixes, merged policy and explicit denies', async t => {
  const c = find(report, 'iam:PassRole')!
  t.equal(c.fix?.kind, 'allow')
  t.ok(c.explanation.hints.some(h => h.id === 'passrole-dependent-action'))
  const b = find(report, 's3:PutBucketPolicy')!
  t.equal(b.fix?.kind, 'change-deny')
  t.same(section(report, 'data').explicitDenies.map(e => [e.action, e.occurrences, e.statements]), [['s3:PutBucketPolicy', 5, ['statement 1 (no Sid)']]])
  const policy = section(report, 'data').policy!
  t.equal(policy.groups, 1)
  t.same(JSON.parse(policy.json).Statement, [{ Sid: 'AllowIamPassRole', Effect: 'Allow', Action: 'iam:PassRole', Resource: `arn:aws:iam::${DATA}:role/EC2_instance_Profile_role`, Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } }])
  t.same(JSON.parse(section(report, 'platform').policy!.json).Statement.map((s: { Action: string }) => s.Action), ['dynamodb:PutItem', 'ec2:RunInstances'])
  t.equal(section(report, 'apps').policy, null, 'quiet groups need no fix')
  t.same(section(report, 'platform').topServices, [{ value: 'ec2', occurrences: 8 }, { value: 'dynamodb', occurrences: 1 }])
})

t.test('one team only', async t => {
  const one = buildReport(repo, { period, teams, team: 'data', now })
  t.same(one.teams.map(s => s.team), ['data'])
  t.same(one.teams[0]!.groups.map(g => g.action), ['s3:PutBucketPolicy', 'iam:PassRole'])
  t.equal(one.totals.occurrences, 7)
  const unassigned = buildReport(repo, { period, teams, team: 'unassigned', now })
  t.same(unassigned.teams[0]!.groups.map(g => g.action), ['s3:GetObject'])
  t.throws(() => buildReport(repo, { period, teams, team: 'nobody' }), { code: 'WHYDENIED_UNKNOWN_TEAM', message: /no team "nobody" in teams.yaml: use one of platform, data, apps, unassigned/ })
})

t.test('limit lists the top groups and counts the rest', async t => {
  const r = buildReport(repo, { period, teams, limit: 1, now })
  t.same(section(r, 'platform').groups.map(g => g.action), ['ec2:RunInstances'])
  t.equal(section(r, 'platform').omittedGroups, 1)
  t.equal(section(r, 'platform').totals.groups, 2, 'totals still count every group')
})

t.test('JSON: every group carries the documented fields', async t => {
  const json = JSON.parse(render(report, 'json')) as Report
  const groups = json.teams.flatMap(s => [...s.groups, ...s.newGroups, ...s.quietGroups])
  t.ok(groups.length >= 6)
  for (const g of groups) {
    for (const k of ['team', 'principal', 'action', 'resource', 'decision', 'occurrences', 'sessions', 'firstSeen', 'lastSeen', 'status'] as const) {
      t.ok(k in g && g[k] !== undefined, `${g.action}: ${k}`)
    }
    t.ok(['new', 'ongoing', 'growing', 'quiet'].includes(g.status))
  }
})

t.test('redaction: stable pseudonyms, nothing identifying in any format', async t => {
  const redactor = new Redactor(Buffer.alloc(32, 7))
  const r = buildReport(repo, { period, teams, redact: redactor, now })
  t.equal(r.redacted, true)
  for (const format of Formats) {
    const text = render(r, format)
    for (const secret of SECRETS) t.notOk(text.includes(secret), `${format}: no "${secret}"`)
    t.notMatch(text, /\d{12}/, `${format}: no 12-digit number at all`)
  }
  const a = find(r, 'ec2:RunInstances')!
  t.match(a.principal, /^arn:aws:iam::acct-[a-z2-7]{8}:role\/role-[a-z2-7]{8}$/)
  t.equal(a.resource, `arn:aws:ec2:us-east-1:${redactor.account(PLATFORM)}:instance/*`, 'resource types and wildcards stay readable')
  t.equal(a.account, redactor.account(PLATFORM), 'same account, same pseudonym')
  t.not(redactor.account(PLATFORM), redactor.account(DATA), 'different accounts, different pseudonyms')
  t.equal(find(r, 'dynamodb:PutItem')!.account, a.account, 'stable across groups of one report')
  t.equal(a.occurrences, 8, 'counts are unchanged')
  t.not(new Redactor().account(PLATFORM), new Redactor().account(PLATFORM), 'each report draws its own key')
  t.equal(find(r, 'kms:Decrypt')!.account, redactor.account(APPS))
})

t.test('one-team reports pre-filter in SQL but keep first-match-wins', async t => {
  const cfg = parseTeams(`teams:
  - name: first
    accounts: ["${DATA}"]
  - name: second
    principals: ["arn:aws:iam::*:role/data-*", "arn:aws:sts::*:assumed-role/platform-deployer/*"]
`, 'order.yaml')
  const second = buildReport(repo, { period, teams: cfg, team: 'second', now })
  t.same(second.teams[0]!.groups.map(g => g.action), ['ec2:RunInstances', 'ec2:CreateTags'], 'data-analyst is in account DATA: team "first" wins it')
  const first = buildReport(repo, { period, teams: cfg, team: 'first', now })
  t.same(first.teams[0]!.groups.map(g => g.action).sort(), ['iam:PassRole', 's3:PutBucketPolicy'])
  const all = buildReport(repo, { period, teams: cfg, now })
  for (const s of all.teams) {
    const alone = buildReport(repo, { period, teams: cfg, team: s.team, now })
    t.same(alone.teams[0]!.groups.map(g => [g.action, g.occurrences]), s.groups.map(g => [g.action, g.occurrences]), `${s.team}: same groups alone as in the all-teams report`)
  }
})
