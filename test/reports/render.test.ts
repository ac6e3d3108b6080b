/** One report renderer: the report partials in the /reports page and in the standalone file, no unescaped output. */
import t from 'tap'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseEnvelope } from '../../server/authz/parse.js'
import { ReportsRepository } from '../../server/db/repositories/reports.js'
import { buildReport, parseTeams, renderHtml, reportView, resolvePeriod } from '../../server/reports/index.js'
import { COMPILE_OPTIONS, createHandlebars } from '../../server/render/handlebars.js'
import { buildTestApp, ROOT, tempDir } from '../helpers/build.js'
import { goldenDb, goldenLines, TEAMS_YAML } from './fixture-data.js'

t.test('only the layout writes unescaped HTML ({{{body}}}); the report is drawn by partials', async t => {
  const views = path.join(ROOT, 'views')
  const unescaped: string[] = []
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const f = path.join(dir, e.name)
      if (e.isDirectory()) walk(f)
      else if (e.name.endsWith('.hbs')) for (const m of readFileSync(f, 'utf8').matchAll(/\{\{\{[^}]*\}\}\}|\{\{&[^}]*\}\}/g)) unescaped.push(`${path.relative(views, f)}: ${m[0]}`)
    }
  }
  walk(views)
  t.same(unescaped, ['layouts/main.hbs: {{{body}}}'])
  t.match(readFileSync(path.join(views, 'reports', 'page.hbs'), 'utf8'), /\{\{> report report\}\}/)
  t.match(readFileSync(path.join(views, 'reports', 'standalone.hbs'), 'utf8'), /\{\{> report\}\}/)
})

t.test('the page and the standalone file show the same report markup', async t => {
  const dir = tempDir(t)
  const teamsFile = path.join(dir, 'teams.yaml')
  writeFileSync(teamsFile, TEAMS_YAML)
  const app = await buildTestApp(t, { teamsFile })
  app.repos.writer.storeBatch(goldenLines().map((line, i) => {
    const env = parseEnvelope(JSON.parse(line))
    return { message: env.message, source: 'golden', line: i + 1, observedAt: env.observedAt }
  }), [], null)
  const q = 'since=2026-11-01&until=2026-11-30&team=data'
  // Built a few milliseconds apart: only the generation time may differ.
  const article = (html: string): string => html.slice(html.indexOf('<article class="wr">'), html.indexOf('</article>') + 10).replace(/Generated [0-9: -]+UTC/, 'Generated …')
  const page = article((await app.inject(`/reports?${q}`)).body)
  const file = article((await app.inject(`/reports/download?${q}&format=html`)).body)
  t.match(page, /^<article class="wr">\n<h1>Recurring denials, team data/)
  t.match(page, /<svg class="wr-chart" viewBox="0 0 1000 140" preserveAspectRatio="none"/, 'the chart takes the report\'s width')
  t.equal(page, file)
})

t.test('the standalone file: the stylesheet inlined, values escaped, nulls shown as (none)', async t => {
  const dir = tempDir(t)
  const { db } = goldenDb(dir)
  t.teardown(() => db.close())
  const report = buildReport(new ReportsRepository(db), { period: resolvePeriod('2026-11-01', '2026-11-30'), teams: parseTeams(TEAMS_YAML, 'teams.yaml') })
  const group = report.teams[0]!.groups[0]!
  group.resource = null
  group.action = '<b>"x"</b>'
  const html = renderHtml(report)
  t.match(html, /^<!doctype html>\n/)
  t.ok(html.includes(readFileSync(path.join(ROOT, 'views', 'reports', 'report.css'), 'utf8')), 'views/reports/report.css, as is')
  t.match(html, /<h4>1\. <code>&lt;b&gt;&quot;x&quot;&lt;\/b&gt;<\/code> on <span class="wr-muted">\(none\)<\/span> <span class="wr-status wr-status-growing">growing<\/span><\/h4>/)
  t.notMatch(html, /<b>"x"/)
  // The view-model is the same object the page draws.
  t.equal(reportView(report).teams[0]!.groups[0]!.resource, null)
})

t.test('createHandlebars: every partial, the formatting helpers only, bidi controls shown', async t => {
  const hb = createHandlebars()
  for (const name of ['report', 'report-team', 'report-group', 'report-list', 'report-figures', 'report-code', 'report-css', 'chart', 'chart-svg', 'header']) {
    t.ok(hb.partials[name], `partial ${name}`)
  }
  const tpl = hb.compile('{{num n}} {{day d}} {{> report-code v}}', COMPILE_OPTIONS)
  t.throws(() => hb.compile('{{json v}}', COMPILE_OPTIONS)({ v: {} }), /You specified knownHelpersOnly/, 'no helper beyond the formatting ones')
  t.equal(tpl({ n: 12345, d: '2026-11-04T10:00:00Z', v: { text: 'a\u202Eb' } }), '12,345 2026-11-04 <code><span class="seg">a\\u202Eb</span></code>')
  t.equal(tpl({ n: 1, d: '', v: null }), '1  <span class="wr-muted">(none)</span>')
})
