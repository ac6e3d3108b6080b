import t from 'tap'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { loadTeamsFile, parseTeams, Redactor, resolvePeriod, statusOf } from '../../server/reports/index.js'
import { TeamsFileError } from '../../server/errors.js'
import { principalMatches, ruleActive, ruleMatcher, ruleMatches, teamOf, teamPrefilter, type SuppressRule } from '../../server/reports/teams.js'
import { topK } from '../../server/reports/build.js'
import { mergeStatements } from '../../server/reports/policy.js'
import { csvCell, mdCode, mdText } from '../../server/reports/render/text.js'
import { daysOf } from '../../server/reports/period.js'
import { statementMatches, type PolicyStatement } from '../../server/authz/policy-match.js'
import { tempDir } from '../helpers/files.js'

t.test('status: new, ongoing, growing (>= 1.5x and >= +3), quiet', async t => {
  t.equal(statusOf(0, 0), null)
  t.equal(statusOf(0, 5), 'quiet')
  t.equal(statusOf(2, 0), 'new')
  t.equal(statusOf(3, 2), 'ongoing', '1.5x but only +1')
  t.equal(statusOf(6, 4), 'ongoing', '1.5x but only +2')
  t.equal(statusOf(7, 4), 'growing')
  t.equal(statusOf(4, 1), 'growing')
  t.equal(statusOf(1003, 1000), 'ongoing', '+3 but not 1.5x')
  t.equal(statusOf(5, 5), 'ongoing')
  t.equal(statusOf(1, 9), 'ongoing', 'fewer is still ongoing while it happens')
})

t.test('periods', async t => {
  const now = new Date('2026-11-28T12:00:00Z')
  t.same(resolvePeriod(undefined, undefined, now), { since: '2026-10-29T12:00:00.000Z', until: '2026-11-28T12:00:00.000Z', previousSince: '2026-09-29T12:00:00.000Z' })
  t.same(resolvePeriod('7d', '2026-10-31', now), { since: '2026-10-25T00:00:00.000Z', until: '2026-11-01T00:00:00.000Z', previousSince: '2026-10-18T00:00:00.000Z' }, 'a span counts back from --until')
  t.throws(() => resolvePeriod('2026-12-01', '2026-11-01', now), { code: 'WHYDENIED_BAD_PERIOD', message: /period is empty/ })
  t.throws(() => resolvePeriod('soon', undefined, now), { code: 'WHYDENIED_BAD_PERIOD' })
  t.same(daysOf({ since: '2026-11-01T00:00:00.000Z', until: '2026-11-04T00:00:00.000Z' }), ['2026-11-01', '2026-11-02', '2026-11-03'])
})

t.test('teams file: YAML and JSON, validated with file and field', async t => {
  const dir = tempDir(t)
  const json = path.join(dir, 'teams.json')
  writeFileSync(json, JSON.stringify({ teams: [{ name: 'a', accounts: ['012345678901'] }] }))
  t.same(loadTeamsFile(json).teams, [{ name: 'a', accounts: ['012345678901'], principals: [] }])
  t.same(loadTeamsFile(path.resolve(import.meta.dirname, '../../fixtures/teams.yaml')).teams.map(x => x.name), ['platform', 'data', 'apps'], 'the example file is valid')
  const bad = (text: string, field: RegExp): void => {
    let error: unknown = null
    try { parseTeams(text, 'bad.yaml') } catch (err) { error = err }
    t.ok(error instanceof TeamsFileError, `${field.source}: a TeamsFileError`)
    t.match((error as Error | null)?.message, /^bad\.yaml/, 'names the file')
    t.match((error as Error | null)?.message, field)
  }
  bad('teams: [', /not valid YAML/)
  bad('- a', /must be a mapping/)
  bad('suppress: []', /teams: is missing/)
  bad('teams:\n  - name: a\n    acounts: ["111122223333"]', /teams\[0\]\.acounts: is not a known field/)
  bad('teams:\n  - name: a', /teams\[0\]: team "a" needs accounts or principals/)
  bad('teams:\n  - name: a\n    accounts: ["12"]', /teams\[0\]\.accounts\[0\]: "12" is not a 12-digit/)
  bad('teams:\n  - name: a\n    principals: ["platform-*"]', /teams\[0\]\.principals\[0\]: "platform-\*" is not an ARN glob/)
  bad('teams:\n  - name: a\n    accounts: ["111122223333"]\n  - name: a\n    accounts: ["111122223334"]', /teams\[1\]\.name: "a" is used by an earlier team/)
  bad('teams:\n  - name: unassigned\n    accounts: ["111122223333"]', /reserved/)
  bad('teams: []\nsuppress:\n  - reason: x', /suppress\[0\]: needs at least one of action, principal, resource/)
  bad('teams: []\nsuppress:\n  - action: "s3:*"\n    until: "next year"', /suppress\[0\]\.until: must be a date YYYY-MM-DD/)
  // What the schema expects, named at the field.
  bad('teams: 3', /: teams: must be a list$/)
  bad('teams:\n  - 3', /: teams\[0\]: must be a mapping$/)
  bad('teams:\n  - name: 3\n    accounts: ["111122223333"]', /: teams\[0\]\.name: must be a string$/)
  bad('teams:\n  - name: "  "\n    accounts: ["111122223333"]', /: teams\[0\]\.name: must be a non-empty string$/)
  bad('teams:\n  - name: a\n    accounts: [true]', /: teams\[0\]\.accounts\[0\]: must be a string or a whole number$/)
  bad('teams:\n  - name: a\n    accounts: "111122223333"', /: teams\[0\]\.accounts: must be a list or empty$/)
  bad('teams: []\nsuppress:\n  - action: ""', /: suppress\[0\]\.action: must be a non-empty string$/)
  bad('teams: []\nsuppress:\n  - action: "s3:*"\n    reason: 5', /: suppress\[0\]\.reason: must be a string$/)
  bad('teams: []\nsuppress:\n  - actoin: "s3:*"', /: suppress\[0\]\.actoin: is not a known field \(expected action, principal, resource, reason, until\)$/)
  bad('teams: []\nextra: 1', /: extra: is not a known field \(expected teams, suppress\)$/)
  t.same(parseTeams('teams:\n  - name: a\n    accounts:\n    principals: ["*"]\nsuppress:\n  - action: "s3:*"\n    until: 2027-01-01\n', 'ok.yaml'), {
    teams: [{ name: 'a', accounts: [], principals: ['*'] }],
    suppress: [{ action: 's3:*', reason: null, until: '2027-01-01' }],
    file: 'ok.yaml'
  }, 'empty lists and an unquoted date are accepted')
  t.throws(() => loadTeamsFile(path.join(dir, 'missing.yaml')), { message: /missing\.yaml: no such file/ })
  t.equal(parseTeams('teams:\n  - name: a\n    accounts: [111122223333]').teams[0]!.accounts[0], '111122223333', 'an unquoted 12-digit ID still works')
})

t.test('team matching: first wins, role globs cover sessions', async t => {
  const cfg = parseTeams(`teams:
  - name: one
    principals: ["arn:aws:iam::*:role/platform-*"]
  - name: two
    accounts: ["111122223333"]
  - name: three
    principals: ["arn:aws:sts::*:assumed-role/etl/*"]
`)
  t.equal(teamOf(cfg, 'arn:aws:iam::111122223333:role/platform-deployer', '111122223333'), 'one', 'first match wins')
  t.equal(teamOf(cfg, 'arn:aws:iam::111122223333:user/bob', '111122223333'), 'two')
  t.equal(teamOf(cfg, 'arn:aws:iam::444455556666:role/etl', '444455556666'), 'three', 'an assumed-role glob covers its role')
  t.equal(teamOf(cfg, 'arn:aws:iam::444455556666:role/other', '444455556666'), 'unassigned')
  t.equal(teamOf(cfg, null, null), 'unassigned')
  t.ok(principalMatches('arn:aws:iam::*:role/platform-*', 'arn:aws:iam::1:role/platform-x'))
  t.notOk(principalMatches('arn:aws:iam::*:role/Platform-*', 'arn:aws:iam::1:role/platform-x'), 'ARNs are case-sensitive')
})

t.test('suppress rules: every given glob must match; until is inclusive', async t => {
  const rule = { action: 'EC2:Create*', principal: 'arn:aws:iam::*:role/ci-*', reason: null, until: '2026-12-31' }
  const g = { principal: 'arn:aws:iam::1:role/ci-runner', action: 'ec2:CreateTags', resource: 'arn:aws:ec2:us-east-1:1:instance/i-1' }
  t.ok(ruleMatches(rule, g))
  t.notOk(ruleMatches(rule, { ...g, principal: 'arn:aws:iam::1:role/app' }))
  t.notOk(ruleMatches({ ...rule, resource: 'arn:aws:s3:::*' }, g))
  t.ok(ruleMatches({ resource: '*', reason: null, until: null }, { ...g, resource: null }))
  t.ok(ruleActive(rule, '2027-01-01T00:00:00.000Z'), 'a period ending at midnight after the until day')
  t.notOk(ruleActive(rule, '2027-01-01T00:00:00.001Z'))
  t.ok(ruleActive({ ...rule, until: null }, '2099-01-01T00:00:00.000Z'))
})

t.test('the matcher for a scan\'s codes agrees with ruleMatches, deciding each action and principal once', async t => {
  const principals = [null, 'arn:aws:iam::1:role/ci-runner', 'arn:aws:iam::1:role/app', 'arn:aws:sts::1:assumed-role/ci-x/s']
  const actions = [null, 'ec2:CreateTags', 'EC2:createtags', 's3:GetObject', '']
  const resources = [null, 'arn:aws:ec2:us-east-1:1:instance/i-1', 'arn:aws:s3:::logs/a', '*']
  // Every combination of codes (0: null), each group with its own resource.
  const groups: Array<{ p: number, a: number, r: string | null }> = []
  for (let p = 0; p < principals.length; p++) for (let a = 0; a < actions.length; a++) for (const r of resources) groups.push({ p, a, r })
  const names = { principal: groups.map(g => g.p), action: groups.map(g => g.a), principals, actions }
  const rules: SuppressRule[] = [
    { action: 'EC2:Create*', principal: 'arn:aws:iam::*:role/ci-*', reason: null, until: null },
    { action: 'ec2:createtags', reason: null, until: null },
    { principal: 'arn:aws:iam::1:role/app', resource: 'arn:aws:s3:::*', reason: null, until: null },
    { resource: '*', reason: null, until: null },
    { action: '*', principal: '*', reason: null, until: null }
  ]
  for (const rule of rules) {
    let resourceReads = 0
    const matches = ruleMatcher(rule, names, g => { resourceReads++; return groups[g]!.r })
    const got = groups.map((_, g) => matches(g))
    const want = groups.map(g => ruleMatches(rule, { principal: g.p === 0 ? null : principals[g.p]!, action: g.a === 0 ? null : actions[g.a]!, resource: g.r }))
    t.same(got, want, `${JSON.stringify(rule)}: as ruleMatches`)
    if (rule.resource === undefined || rule.resource === '*') t.equal(resourceReads, 0, 'no resource read when the rule names none')
  }
})

t.test('merged policy stays least-privilege', async t => {
  const s = (Action: string, Resource: string, Condition?: PolicyStatement['Condition']): PolicyStatement => ({ Effect: 'Allow', Action, Resource, ...(Condition ? { Condition } : {}) })
  const input = [
    s('s3:GetObject', 'arn:aws:s3:::a/*'),
    s('s3:PutObject', 'arn:aws:s3:::a/*'),
    s('s3:GetObject', 'arn:aws:s3:::b/*'),
    s('ec2:RunInstances', 'arn:aws:ec2:us-east-1:1:instance/*'),
    s('iam:PassRole', 'arn:aws:iam::1:role/r', { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } }),
    s('iam:PassRole', 'arn:aws:iam::1:role/q', { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } }),
    s('iam:PassRole', 'arn:aws:iam::1:role/p', { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } }),
    s('s3:GetObject', 'arn:aws:s3:::a/*')
  ]
  const merged = mergeStatements(input)
  t.same(merged.map(m => [m.Action, m.Resource]), [
    ['ec2:RunInstances', 'arn:aws:ec2:us-east-1:1:instance/*'],
    ['iam:PassRole', ['arn:aws:iam::1:role/p', 'arn:aws:iam::1:role/r']],
    ['iam:PassRole', 'arn:aws:iam::1:role/q'],
    [['s3:GetObject', 's3:PutObject'], 'arn:aws:s3:::a/*'],
    ['s3:GetObject', 'arn:aws:s3:::b/*']
  ])
  // Every input is still allowed; nothing new is: s3:PutObject on b/* stays denied.
  const allows = (action: string, resource: string, conditions: Record<string, string[]> = {}): boolean =>
    merged.some(m => statementMatches(m, { action, resource, conditions }).matches)
  for (const i of input) t.ok(allows(i.Action as string, i.Resource as string, { 'iam:PassedToService': [Object.values(i.Condition?.StringEquals ?? {})[0] as string ?? ''] }))
  t.notOk(allows('s3:PutObject', 'arn:aws:s3:::b/x'))
  t.notOk(allows('iam:PassRole', 'arn:aws:iam::1:role/q', { 'iam:PassedToService': ['ec2.amazonaws.com'] }))
  const inputResources = new Set(input.map(i => i.Resource as string))
  t.ok(merged.every(m => [m.Resource].flat().every(r => inputResources.has(r!))), 'no resource (or wildcard) that was not suggested')
  t.equal(new Set(merged.map(m => m.Sid)).size, merged.length, 'Sids are unique')
})

t.test('redactor: ARN shapes and values', async t => {
  const r = new Redactor(Buffer.alloc(32, 1))
  const acct = r.account('111122223333')!
  t.match(acct, /^acct-[a-z2-7]{8}$/)
  t.equal(r.arn('arn:aws:iam::111122223333:role/platform-deployer'), `arn:aws:iam::${acct}:role/${r.pseudonym('role', 'platform-deployer')}`)
  t.match(r.arn('arn:aws:sts::111122223333:assumed-role/deployer/ci-7'), new RegExp(`^arn:aws:sts::${acct}:assumed-role/role-[a-z2-7]{8}/session-[a-z2-7]{8}$`))
  t.equal(r.arn('arn:aws:ec2:us-east-1:111122223333:instance/*'), `arn:aws:ec2:us-east-1:${acct}:instance/*`)
  t.match(r.arn('arn:aws:s3:::my-bucket/path/file.txt'), /^arn:aws:s3:::res-[a-z2-7]{8}\/res-[a-z2-7]{8}\/res-[a-z2-7]{8}$/, 'a bucket name is not a type word')
  t.match(r.arn('arn:aws:iam::*:role/data-*'), /^arn:aws:iam::\*:role\/role-[a-z2-7]{8}\*$/, 'globs keep their wildcards')
  t.match(r.arn('arn:aws:lambda:us-east-1:111122223333:function:resize'), /:function:res-[a-z2-7]{8}$/)
  t.equal(r.conditionValue('aws:RequestedRegion', 'eu-west-1'), 'eu-west-1', 'request shape stays')
  t.match(r.conditionValue('aws:userid', 'AIDAEXAMPLE'), /^val-/)
  t.equal(r.value('SCOPE_POLICY_ISSUER'), 'SCOPE_POLICY_ISSUER')
  t.equal(r.value('*'), '*')
})

t.test('text escaping for Markdown and CSV', async t => {
  t.equal(mdText('<img src=x> *bold* [a](b) | x'), '&lt;img src=x&gt; \\*bold\\* \\[a\\](b) \\| x')
  t.equal(mdCode('a`b'), '`` a`b ``')
  t.equal(mdCode('x|y'), '`x\\|y`')
  t.equal(csvCell('=cmd()'), "\"'=cmd()\"")
  t.equal(csvCell('a,b'), '"a,b"')
  t.equal(csvCell('say "hi"'), '"say ""hi"""')
  t.equal(csvCell('plain'), 'plain')
})

t.test('teamPrefilter: accounts and globs, assumed-role globs as role globs, none for "*" or unassigned', async t => {
  const cfg = parseTeams(`teams:
  - name: a
    accounts: ["111122223333"]
    principals: ["arn:aws:sts::*:assumed-role/etl/*"]
  - name: b
    principals: ["*"]
`)
  t.same(teamPrefilter(cfg, 'a'), { accounts: ['111122223333'], globs: ['arn:aws:sts::*:assumed-role/etl/*', 'arn:aws:iam::*:role/etl'] })
  t.equal(teamPrefilter(cfg, 'b'), null)
  t.equal(teamPrefilter(cfg, 'unassigned'), null)
})

t.test('topK equals sorting everything and taking k', async t => {
  let seed = 7
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  const items = Array.from({ length: 2000 }, (_, i) => ({ n: Math.floor(rnd() * rnd() * 50), name: `g${i % 97}-${i}` }))
  const cmp = (a: { n: number, name: string }, b: { n: number, name: string }): number => b.n - a.n || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  for (const k of [0, 1, 5, 50, 1999, 2000, 5000]) {
    const want = items.slice().sort(cmp)
    t.same(topK(items, k, x => x.n, cmp), k > 0 ? want.slice(0, k) : want, `k=${k}`)
  }
})
