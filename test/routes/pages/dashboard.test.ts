/** GET / : totals for a period, denials per day as a chart, most recurring denials, latest imports; JSON twin. */
import t from 'tap'
import { buildTestApp, sqlOf } from '../../helpers/build.js'
import { parseEnvelope } from '../../../server/authz/parse.js'
import { fixtureText, html, seedFixtures, seedSynthetic, texts } from './support.js'

t.test('an empty database shows an empty state that points at the import page and the CLI, instead of zeros', async t => {
  const app = await buildTestApp(t)
  const res = await app.inject({ url: '/' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/html/)
  const doc = html(res)
  t.equal(doc.querySelector('h1')?.text, 'Dashboard')
  const empty = doc.querySelector('#empty-state')!
  t.equal(empty.querySelector('h2')?.text, 'No denials yet')
  t.ok(empty.querySelector('a[href="/import"]'), 'links to the import page')
  t.match(texts(empty, 'code').join(' '), /whydenied import FILE/, 'names the CLI command')
  t.same(texts(doc, '.stat-value'), [], 'no row of zeros')
  t.notOk(doc.querySelector('.chart'), 'no empty chart')

  // A period with nothing in it (while the database holds older denials): the chart's axis has no "0" at its top.
  app.repos.writer.storeBatch([{ message: parseEnvelope(JSON.parse(fixtureText('kms-decrypt.json'))).message, source: 'old', line: 1, observedAt: '2020-01-01T00:00:00Z' }], [], null)
  const week = html(await app.inject({ url: '/?period=7d' }))
  t.notOk(week.querySelector('#empty-state'), 'not empty any more')
  t.same(texts(week, '.stat-value'), ['0', '0', '0', '0'])
  t.match(week.querySelector('.chart figcaption')?.text, /No occurrences/)
  t.same(texts(week, '.chart .chart-y span'), [], 'no maximum label: "0" appears once, not twice')
  t.equal(week.querySelectorAll('.chart text').length, 0, 'no SVG text either')
  t.match(week.querySelector('.chart .chart-empty')?.text, 'Nothing in this period')
})

t.test('with data: totals, chart bars, most recurring denials and latest imports', async t => {
  const app = await buildTestApp(t)
  await seedFixtures(app)
  await seedSynthetic(app, 400, 20)
  const json = (await app.inject({ url: '/?format=json' })).json()
  const doc = html(await app.inject({ url: '/' }))

  t.same(texts(doc, '.stat-label'), ['Denials', 'Occurrences', 'Principals', 'Accounts'])
  const values = texts(doc, '.stat-value').map(v => Number(v.replace(/,/g, '')))
  t.same(values, [json.totals.denials, json.totals.occurrences, json.totals.principals, json.totals.accounts])
  t.ok(json.totals.occurrences >= 400, 'the synthetic occurrences fall in the last 30 days')
  t.ok(json.totals.accounts >= 2)

  const bars = doc.querySelectorAll('.chart svg rect.chart-bar')
  t.ok(bars.length >= 10, 'one bar per day with occurrences')
  const titled = bars.map(b => b.querySelector('title')?.text ?? '')
  t.ok(titled.every(s => /^\d{4}-\d{2}-\d{2}: [\d,]+ occurrences?$/.test(s)), 'every bar says its day and count')
  const perDayTotal = json.perDay.reduce((n: number, d: { count: number }) => n + d.count, 0)
  t.equal(perDayTotal, json.totals.occurrences)
  t.ok(doc.querySelector('.chart svg')?.getAttribute('aria-label'), 'the chart has a text alternative')

  const rows = doc.querySelectorAll('#recurring-h ~ .table-wrap tbody tr')
  t.equal(rows.length, 10)
  const counts = rows.map(r => Number(r.querySelector('td.num')!.text.replace(/,/g, '')))
  t.same(counts, [...counts].sort((a, b) => b - a), 'ranked by occurrences in the period')
  t.equal(counts[0], json.mostRecurring[0].periodOccurrences)
  t.match(rows[0]!.querySelector('a.denial-link')?.getAttribute('href'), /^\/denials\/\d+$/)

  const sources = texts(doc, '.imports-table tbody td.arn')
  t.equal(sources[0], 'synthetic.ndjson', 'newest import first')
  t.ok(sources.includes('seed-passrole.json') || sources.length === 8, 'the latest imports are listed')
})

t.test('the period selector changes the totals and keeps its state in the URL', async t => {
  const app = await buildTestApp(t)
  await seedSynthetic(app, 300, 60)
  const week = (await app.inject({ url: '/?period=7d&format=json' })).json()
  const all = (await app.inject({ url: '/?period=all&format=json' })).json()
  t.equal(week.period, '7d')
  t.equal(all.since, null)
  t.ok(week.totals.occurrences < all.totals.occurrences, 'a shorter period counts fewer occurrences')
  t.equal(all.totals.occurrences, 300)
  // The period's totals, counted the slow way from the occurrences themselves.
  const db = sqlOf(t, app)
  const direct = db.prepare<[string], { occurrences: number, denials: number, principals: number, accounts: number }>(
    `SELECT count(*) AS occurrences, count(DISTINCT o.denial_id) AS denials, count(DISTINCT coalesce(d.role_arn, d.principal_arn)) AS principals,
       count(DISTINCT d.principal_account) AS accounts FROM occurrences o JOIN denials d ON d.id = o.denial_id WHERE o.observed_at >= ?`).get(week.since)!
  t.same(week.totals, direct, 'the 7-day totals equal a direct count over its occurrences')
  for (const p of [week, (await app.inject({ url: '/?format=json' })).json()]) {
    const grouped = db.prepare<[string], { id: number, n: number }>(
      'SELECT denial_id AS id, count(*) AS n FROM occurrences WHERE observed_at >= ? GROUP BY denial_id ORDER BY n DESC, denial_id DESC LIMIT 10').all(p.since)
    t.same(p.mostRecurring.map((r: { id: number, periodOccurrences: number }) => ({ id: r.id, n: r.periodOccurrences })), grouped,
      `most recurring (${p.period}) equals grouping every occurrence of the period`)
  }
  const doc = html(await app.inject({ url: '/?period=7d' }))
  const current = doc.querySelector('nav[aria-label="Period"] a[aria-current="page"]')
  t.equal(current?.text, '7 days')
  t.same(doc.querySelectorAll('nav[aria-label="Period"] a').map(a => a.getAttribute('href')), ['/?period=7d', '/', '/?period=90d', '/?period=365d', '/?period=all'])
  t.equal(Number(doc.querySelectorAll('.stat-value')[1]!.text.replace(/,/g, '')), week.totals.occurrences)
})

t.test('an unknown period is a 400 page', async t => {
  const app = await buildTestApp(t)
  const res = await app.inject({ url: '/?period=forever' })
  t.equal(res.statusCode, 400)
  t.match(res.headers['content-type'], /text\/html/)
  t.ok(html(res).querySelector('#error-message'))
})
