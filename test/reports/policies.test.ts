/** Team reports with a policy snapshot: the suggested fix names the resolved policy, and the fixes are grouped by policy. */
import t from 'tap'
import { buildTestApp } from '../helpers/build.js'
import { seedPolicyFixtures } from '../helpers/policies.js'
import { buildReport, EMPTY_TEAMS, render, resolvePeriod } from '../../server/reports/index.js'
import { fixResolver } from '../../server/services/policies.js'
import { html } from '../routes/pages/support.js'
import { Importer } from '../../server/services/importer.js'
import { readTextRecords } from '../../server/ingest/index.js'
import { generate } from '../../fixtures/generate.js'

t.test('the suggested fix is the resolved policy\'s, grouped by policy; left out when redacting', async t => {
  const app = await buildTestApp(t)
  await seedPolicyFixtures(app)
  const period = resolvePeriod('2026-11-01', '2026-11-30')
  const report = buildReport(app.repos.reports, { period, teams: EMPTY_TEAMS, resolveFix: fixResolver(app.repos), limit: 0 })
  const section = report.teams[0]!
  const near = section.groups.find(g => g.action === 'ec2:RunInstances')!
  t.match(near.resolvedFix, { policy: 'arn:aws:iam::111122223333:policy/DeployEc2', policyType: 'identity', kind: 'edit-statement', verified: true })
  const deploy = section.fixesByPolicy.find(p => p.policy === 'arn:aws:iam::111122223333:policy/DeployEc2')!
  t.same(deploy.fixes.map(f => f.action), ['ec2:RunInstances'])
  t.ok(section.fixesByPolicy.some(p => p.policyType === 'scp'), 'the SCP fix is grouped under the SCP')
  const alice = section.fixesByPolicy.find(p => p.policy === 'alice-inline (inline)')
  t.ok(alice, 'an inline policy is named by its name')

  const md = render(report, 'md')
  t.match(md, /Suggested fix in identity policy `arn:aws:iam::111122223333:policy\/DeployEc2` \(verified against the principal's other denials\)/)
  t.match(md, /### Fixes by policy/)
  const page = html(render(report, 'html'))
  t.match(page.querySelector('.wr-resolved')?.text, /Suggested fix in (identity|scp|boundary) policy/)
  t.ok(page.querySelectorAll('.wr-fix-policy').length >= 3)

  const redacted = buildReport(app.repos.reports, { period, teams: EMPTY_TEAMS, resolveFix: fixResolver(app.repos), limit: 0, redact: true })
  t.ok(redacted.teams[0]!.groups.every(g => g.resolvedFix === null))
  t.same(redacted.teams[0]!.fixesByPolicy, [])
})

t.test('a denial whose account no snapshot covers gets no fix, and is not read whole for it', async t => {
  const app = await buildTestApp(t)
  await seedPolicyFixtures(app)
  // Denials of other accounts too.
  await new Importer(app.repos.writer, app.repos.imports).run(readTextRecords([...generate(40, { seed: 9, end: '2026-11-20T00:00:00Z', days: 10 })].join('\n'), 'more.ndjson'))
  const resolve = fixResolver(app.repos)
  const all = app.repos.search.search({}, { limit: 500, facets: false }).items
  const isCovered = (id: number): boolean => {
    const account = app.repos.denials.principalAccount(id)
    return account != null && app.repos.policies.latestFor(account) !== null
  }
  const covered = all.filter(d => isCovered(d.id))
  const others = all.filter(d => !isCovered(d.id))
  t.ok(covered.length > 0 && others.length > 0, `${covered.length} denials in a snapshot's account, ${others.length} elsewhere`)
  const reads: number[] = []
  const get = app.repos.denials.get.bind(app.repos.denials)
  app.repos.denials.get = (id: number) => { reads.push(id); return get(id) }
  t.teardown(() => { app.repos.denials.get = get })
  for (const d of others) t.equal(resolve(d.id), null, `denial ${d.id} (account ${String(app.repos.denials.principalAccount(d.id))})`)
  t.same(reads, [], 'none read whole')
  t.ok(covered.some(d => resolve(d.id) !== null), 'a covered denial still gets its fix')
  t.ok(reads.length > 0, 'read whole for it')
  t.equal(resolve(999_999), null, 'no such denial')
})

t.test('the report page and API carry the resolved fixes', async t => {
  const app = await buildTestApp(t)
  await seedPolicyFixtures(app)
  const res = await app.inject({ url: '/api/reports?since=2026-11-01&until=2026-11-30' })
  t.equal(res.statusCode, 200, res.body)
  t.ok(res.json().teams[0].fixesByPolicy.length >= 3)
})
