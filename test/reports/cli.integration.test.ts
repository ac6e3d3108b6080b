import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { runCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/files.js'
import { DATA, PLATFORM, SECRETS, writeGolden } from './fixture-data.js'

const dir = tempDir(t)
const db = path.join(dir, 'cli.db')
const { ndjson, teams } = writeGolden(dir)
const base = ['report', '--db', db, '--teams', teams, '--since', '2026-11-01', '--until', '2026-11-30']

t.before(async () => {
  const r = await runCli(['import', '--db', db, '--no-progress', ndjson])
  if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`)
})

t.test('json: groups with the documented fields and known answers', async t => {
  const r = await runCli([...base, '--format', 'json'])
  t.equal(r.code, 0, r.stderr)
  const report = JSON.parse(r.stdout)
  t.same(report.teams.map((s: { team: string }) => s.team), ['platform', 'data', 'apps', 'unassigned'])
  const a = report.teams[0].groups[0]
  t.match(a, { team: 'platform', principal: `arn:aws:iam::${PLATFORM}:role/platform-deployer`, action: 'ec2:RunInstances', decision: 'implicit-deny', occurrences: 8, sessions: 3, status: 'growing' })
  t.equal(report.totals.suppressedOccurrences, 8)
})

t.test('md: headings, tables and the fix block', async t => {
  const r = await runCli([...base, '--format', 'md'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^# Recurring denials, all teams, 2026-11-01 to 2026-11-30$/m)
  t.match(r.stdout, /^## Team data$/m)
  t.match(r.stdout, /^#### 1\. `s3:PutBucketPolicy` on `arn:aws:s3:::analytics-raw-bucket` \(ongoing\)$/m)
  t.match(r.stdout, /```json\n\{\n {2}"Version": "2012-10-17"/)
  t.match(r.stdout, /\| action `ec2:CreateTags` \| known noise from the tagging job \| 2027-01-01 \| 6 \|/)
})

t.test('csv: a header and one row per listed group', async t => {
  const r = await runCli([...base, '--format', 'csv'])
  t.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trimEnd().split('\r\n')
  t.equal(lines[0], 'team,list,status,principal,account,action,resource,decision,occurrences,previousOccurrences,sessions,firstSeen,lastSeen,sids,fix,suggestedPolicy')
  t.equal(lines.length, 1 + 6, 'A, H, B, C, D (quiet), F')
  t.ok(lines.some(l => l.startsWith(`data,recurring,new,arn:aws:iam::${DATA}:user/carol,${DATA},iam:PassRole,`)))
  t.ok(lines.some(l => l.startsWith('apps,quiet,quiet,')))
})

t.test('html to a file with --out; one team; redacted', async t => {
  const out = path.join(dir, 'report.html')
  const r = await runCli([...base, '--team', 'data', '--redact', '--out', out])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, '', 'nothing on stdout with --out')
  t.match(r.stderr, /report written to/)
  const html = readFileSync(out, 'utf8')
  t.match(html, /^<!doctype html>/)
  t.match(html, /Team data/)
  t.notMatch(html, /Team platform/)
  t.match(html, /<svg class="wr-spark"/)
  for (const s of SECRETS) t.notOk(html.includes(s), `no "${s}"`)
})

t.test('every format redacts', async t => {
  const formats = ['md', 'json', 'csv']
  const runs = await Promise.all(formats.map(format => runCli([...base, '--format', format, '--redact'])))
  runs.forEach((r, i) => {
    t.equal(r.code, 0, r.stderr)
    for (const s of SECRETS) t.notOk(r.stdout.includes(s), `${formats[i]}: no "${s}"`)
  })
})

t.test('without a teams file everything is unassigned; WHYDENIED_TEAMS works too', async t => {
  const [bare, env] = await Promise.all([
    runCli(['report', '--db', db, '--since', '2026-11-01', '--until', '2026-11-30', '--format', 'json']),
    runCli(['report', '--db', db, '--since', '2026-11-01', '--until', '2026-11-30', '--format', 'json'], { env: { WHYDENIED_TEAMS: teams } })
  ])
  t.equal(bare.code, 0, bare.stderr)
  t.same(JSON.parse(bare.stdout).teams.map((s: { team: string }) => s.team), ['unassigned'])
  t.equal(JSON.parse(env.stdout).teams.length, 4)
})

t.test('clear errors', async t => {
  const broken = path.join(dir, 'broken.yaml')
  writeFileSync(broken, 'teams:\n  - name: x\n    accounts: ["1234"]\n')
  const [badFormat, unknown, bad, period] = await Promise.all([
    runCli([...base, '--format', 'pdf']),
    runCli([...base, '--team', 'nobody']),
    runCli([...base.slice(0, 3), '--teams', broken, '--format', 'json']),
    runCli([...base, '--since', 'yesterday'])
  ])
  t.equal(badFormat.code, 1)
  t.match(badFormat.stderr, /option '--format <format>' argument 'pdf' is invalid\. Allowed choices are html, md, json, csv/)
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /no team "nobody"/)
  t.equal(bad.code, 1)
  t.match(bad.stderr, /broken\.yaml: teams\[0\]\.accounts\[0\]: "1234" is not a 12-digit AWS account ID/)
  t.equal(period.code, 1)
  t.match(period.stderr, /not a date/)
})
