import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseEnvelope } from '../../server/authz/parse.js'
import { buildTestApp, DECODED_FIXTURES, tempDir } from '../helpers/build.js'
import { goldenLines, SECRETS, TEAMS_YAML } from './fixture-data.js'

const dir = tempDir(t)
const teamsFile = path.join(dir, 'teams.yaml')
writeFileSync(teamsFile, TEAMS_YAML)
const app = await buildTestApp(t, { teamsFile })
const records = goldenLines().map((line, i) => {
  const env = parseEnvelope(JSON.parse(line))
  return { message: env.message, source: 'golden', line: i + 1, observedAt: env.observedAt }
})
const hostile = parseEnvelope(JSON.parse(readFileSync(path.join(DECODED_FIXTURES, 'hostile-values.json'), 'utf8')))
records.push({ message: hostile.message, source: 'hostile', line: 1, observedAt: '2026-11-20T10:00:00.000Z' })
app.repos.writer.storeBatch(records, [], null)
const Q = 'since=2026-11-01&until=2026-11-30'
/** Every href of a page, with Handlebars' entity escaping undone. */
const hrefs = (html: string): string[] => [...html.matchAll(/href="([^"]*)"/g)].map(m => m[1]!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&'))

t.test('GET /reports renders the report in the layout, with the form and downloads', async t => {
  const res = await app.inject(`/reports?${Q}`)
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/html/)
  t.match(res.headers['content-security-policy'], /default-src 'self'/)
  const body = res.body
  t.match(body, /<title>Team reports · whydenied<\/title>/)
  t.match(body, /<a href="\/reports" aria-current="page">Reports<\/a>/, 'the nav marks the page')
  t.match(body, /<select id="r-team" name="team">/)
  for (const team of ['platform', 'data', 'apps', 'unassigned']) t.match(body, new RegExp(`<option value="${team}">${team}</option>`))
  t.match(body, /<input id="r-redact" name="redact" type="checkbox" value="1">/)
  for (const f of ['html', 'md', 'json', 'csv']) t.ok(hrefs(body).includes(`/reports/download?since=2026-11-01&until=2026-11-30&format=${f}`), `download ${f}`)
  t.match(body, /<link rel="stylesheet" href="\/reports\/report.css">/)
  t.match(body, /<h2 class="wr-team" id="team-platform">Team platform<\/h2>/)
  t.match(body, /<svg class="wr-spark"/)
  t.notMatch(body, /\sstyle=/, 'no inline style: the CSP allows none')
  t.notMatch(body, /<img src=x/, 'hostile values are escaped')
  // Shown as text (the {{arn}} helper's segments and <wbr> aside).
  t.match(body.replace(/<\/?(span|wbr)\b[^>]*>/g, ''), /user\/\{\{constructor\.constructor\(&#x27;alert\(3\)&#x27;\)\(\)\}\}/)
})

t.test('the form: one team, redaction', async t => {
  const res = await app.inject(`/reports?${Q}&team=data&redact=1`)
  t.equal(res.statusCode, 200)
  t.match(res.body, /<option value="data" selected>data<\/option>/)
  t.match(res.body, /type="checkbox" value="1" checked>/)
  t.match(res.body, /Team data/)
  t.notMatch(res.body, /Team platform/)
  const report = res.body.slice(res.body.indexOf('id="report"'))
  for (const s of SECRETS) t.notOk(report.includes(s), `no "${s}"`)
  t.ok(hrefs(res.body).includes('/reports/download?team=data&since=2026-11-01&until=2026-11-30&redact=1&format=csv'))
})

t.test('JSON twins: ?format=json and /api/reports', async t => {
  const twin = await app.inject(`/reports?${Q}&format=json`)
  t.equal(twin.statusCode, 200)
  const a = twin.json()
  t.same(a.teams.map((s: { team: string }) => s.team), ['platform', 'data', 'apps', 'unassigned'])
  t.match(a.teams[0].groups[0], { team: 'platform', action: 'ec2:RunInstances', occurrences: 8, sessions: 3, status: 'growing' })
  const api = await app.inject(`/api/reports?${Q}&team=data`)
  t.equal(api.statusCode, 200)
  t.same(api.json().teams.map((s: { team: string }) => s.team), ['data'])
})

t.test('downloads in every format', async t => {
  const expect: Record<string, RegExp> = { html: /^<!doctype html>/, md: /^# Recurring denials/, json: /^\{\n {2}"title"/, csv: /^team,list,status,/ }
  for (const [format, start] of Object.entries(expect)) {
    const res = await app.inject(`/reports/download?${Q}&format=${format}`)
    t.equal(res.statusCode, 200, format)
    t.match(res.headers['content-disposition'], new RegExp(`^attachment; filename="whydenied-report-all-teams-2026-11-01\\.${format}"$`))
    t.match(res.body, start)
  }
  const html = await app.inject(`/reports/download?${Q}&format=html`)
  t.match(html.headers['content-type'], /^text\/html/)
  t.notMatch(html.body, /<script|https?:\/\//)
  const red = await app.inject(`/reports/download?${Q}&format=md&redact=1`)
  t.match(red.headers['content-disposition'], /-redacted\.md"/)
  for (const s of SECRETS) t.notOk(red.body.includes(s), `md: no "${s}"`)
  const css = await app.inject('/reports/report.css')
  t.match(css.headers['content-type'], /^text\/css/)
  t.match(css.body, /@page \{ size: A4/)
})

t.test('bad input: a page with the problem, JSON errors for the API', async t => {
  const page = await app.inject(`/reports?${Q}&team=nobody`)
  t.equal(page.statusCode, 400)
  t.match(page.body, /<div class="notice notice-error" role="alert" id="report-problem">no team &quot;nobody&quot;|no team &#34;nobody&#34;/)
  t.match(page.body, /<form method="get" action="\/reports"/, 'the form is still there')
  const api = await app.inject(`/api/reports?${Q}&team=nobody`)
  t.equal(api.statusCode, 400)
  t.equal(api.json().code, 'WHYDENIED_UNKNOWN_TEAM')
  const period = await app.inject('/api/reports?since=tomorrow')
  t.equal(period.statusCode, 400)
  t.equal(period.json().code, 'WHYDENIED_BAD_PERIOD')
  const format = await app.inject(`/reports/download?${Q}&format=pdf`)
  t.equal(format.statusCode, 400)
})

t.test('the teams file is read for every report', async t => {
  writeFileSync(teamsFile, 'teams:\n  - name: everyone\n    principals: ["*"]\n')
  t.teardown(() => writeFileSync(teamsFile, TEAMS_YAML))
  const res = await app.inject(`/api/reports?${Q}`)
  t.same(res.json().teams.map((s: { team: string }) => s.team), ['everyone'])
  writeFileSync(teamsFile, 'teams: [')
  const broken = await app.inject(`/reports?${Q}`)
  t.equal(broken.statusCode, 400)
  t.match(broken.body, /teams\.yaml: is not valid YAML/)
})

t.test('a broken teams file stops startup', async t => {
  const bad = path.join(dir, 'bad.yaml')
  writeFileSync(bad, 'teams:\n  - name: x\n')
  await t.rejects(buildTestApp(t, { teamsFile: bad }), { message: /bad\.yaml: teams\[0\]: team "x" needs accounts or principals/ })
})
