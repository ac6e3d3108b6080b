/**
 * What the pages say (issue 13, items 7–10): identifiers that break only after ":" and "/", hint labels
 * kept intact, one summary sentence, the decode result explained like the denial page, report plurals
 * and dates, empty-report guidance, and one definition of "30 days" on the dashboard and in reports.
 */
import t from 'tap'
import { parseEnvelope } from '../../../server/authz/parse.js'
import { breakableHtml, elideMiddle } from '../../../server/render/helpers.js'
import { hintText } from '../../../server/routes/pages/denial.js'
import { buildTestApp } from '../../helpers/build.js'
import { denialIdFor, fixtureText, html, postForm, seedFixtures, texts } from './support.js'

const DAY = 86_400_000
const message = (fixture: string): ReturnType<typeof parseEnvelope>['message'] => parseEnvelope(JSON.parse(fixtureText(fixture))).message
/** The visible text of an HTML fragment: tags dropped, entities of Handlebars' escaping undone. */
const textOf = (fragment: string): string => fragment.replace(/<[^>]+>/g, '').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/&#x3D;/g, '=').replace(/&#x60;/g, '`')

t.test('identifiers break only after ":" and "/": every other run is kept whole, and escaped', async t => {
  const arn = 'arn:aws:iam::111122223333:role/platform-builder'
  const out = breakableHtml(arn)
  t.equal(out, '<span class="seg">arn:</span><wbr><span class="seg">aws:</span><wbr><span class="seg">iam::</span><wbr><span class="seg">111122223333:</span><wbr><span class="seg">role/</span><wbr><span class="seg">platform-builder</span>')
  t.equal(textOf(out), arn, 'the text is unchanged')
  // Every <wbr> follows a ":", a "/" or a space: the account ID and the hyphenated name stay whole.
  for (const m of out.matchAll(/<wbr>/g)) t.match(textOf(out.slice(0, m.index)), /[:/\s]$/)
  const hostile = "arn:aws:s3:::bucket/'; DROP TABLE x; --<img src=x onerror=alert(1)>"
  const h = breakableHtml(hostile)
  t.notMatch(h, /<img/, 'markup in the value is escaped')
  t.equal(textOf(h), hostile)
  const long = 'arn:aws:s3:::b/' + 'k'.repeat(80)
  t.match(breakableHtml(long), /<span class="seg-long">k{80}<\/span>$/, 'an over-long segment may break (seg-long), rather than overflow')
  t.equal(breakableHtml(''), '')
})

t.test('long identifiers are shortened in the middle, keeping the specific end', async t => {
  const arn = 'arn:aws:sts::111122223333:assumed-role/' + 'x'.repeat(200) + '/session-name'
  const short = elideMiddle(arn, 80)
  t.equal(Array.from(short).length, 80)
  t.ok(short.startsWith('arn:aws:sts::111122223333:'), 'the account stays')
  t.ok(short.endsWith('/session-name'), 'and the session name')
  t.match(short, '…')
  t.equal(elideMiddle('short', 80), 'short')
  t.equal(elideMiddle(null), '')
})

t.test('a condition key filtered on but absent from the facet still lists its values, in a facet of its own', async t => {
  const app = await buildTestApp(t)
  await seedFixtures(app)
  const doc = html(await app.inject({ url: '/denials?condition=aws:NoSuchKey' }))
  const own = doc.querySelector('#facet-values-0')!
  t.equal(own.querySelector('h3')!.text, 'Values of aws:NoSuchKey')
  t.equal(doc.querySelectorAll('.facet-children').length, 0)
})

t.test('hints: the "Hint:" label is dropped without capitalising an identifier', async t => {
  t.equal(hintText('Hint: iam:PassRole was checked while EC2 …'), 'iam:PassRole was checked while EC2 …', 'never "Iam:PassRole"')
  t.equal(hintText('Hint: if the identity policy already allows this, …'), 'If the identity policy already allows this, …')
  t.equal(hintText('Hint: the resource belongs to account 1'), 'The resource belongs to account 1')
  t.equal(hintText('Hint: a matched statement has no Sid'), 'A matched statement has no Sid')
  t.equal(hintText('no label here'), 'No label here')
  t.equal(hintText('Hint: ec2:RunInstances …'), 'ec2:RunInstances …')
})

t.test('the denial page: hint labels intact, the summary sentence once', async t => {
  const app = await buildTestApp(t)
  await seedFixtures(app)
  const doc = html(await app.inject({ url: `/denials/${denialIdFor(app, 'seed-passrole.json')}` }))
  const hint = doc.querySelector('.hint[data-hint="passrole-dependent-action"]')!
  t.equal(hint.querySelector('.hint-label')!.text, 'Hint')
  t.match(hint.text.replace(/\s+/g, ' '), /^Hint iam:PassRole was checked while EC2/, 'the action as written after the label')
  t.notMatch(doc.querySelector('main')!.text, /Iam:PassRole/)
  const main = doc.querySelector('main')!.text.replace(/\s+/g, ' ')
  t.equal(main.split('was denied iam:PassRole').length - 1, 1, 'the one-sentence summary appears once')
  t.equal(doc.querySelectorAll('.why-summary').length, 0)
})

t.test('the decode result: the same summary, explanation and fix as the denial page, the raw JSON folded', async t => {
  const app = await buildTestApp(t)
  const minted = await app.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: fixtureText('seed-passrole.json'), headers: { 'content-type': 'application/json' } })
  const res = await postForm(app, '/import/decode', [{ name: 'text', value: `Encoded authorization failure message: ${minted.json().EncodedMessage as string}` }])
  t.equal(res.statusCode, 200)
  const doc = html(res)
  const item = doc.querySelector('#decode-result #decoded-1')!
  const denialPage = html(await app.inject({ url: item.querySelector('h3 a')!.getAttribute('href')! }))
  t.equal(item.querySelector('.summary')!.text, denialPage.querySelector('#summary')!.text, 'the summary sentence of the denial page')
  t.same(texts(item, '.hint'), texts(denialPage, '.hint'), 'its hints')
  t.same(texts(item, '.why-detail li'), texts(denialPage, '.why-detail li'), 'its explanation')
  t.equal(item.querySelector('#decoded-1-suggested-policy')!.text, denialPage.querySelector('#suggested-policy')!.text, 'its suggested policy')
  t.match(item.querySelector('#decoded-1-policy-check')!.text, 'Matches this request')
  t.equal(item.querySelector('button.copy-button')!.getAttribute('data-copy-target'), 'decoded-1-suggested-policy', 'the copy button copies this item\'s policy')
  const raw = item.querySelector('details.raw-json')!
  t.notOk(raw.hasAttribute('open'), 'the raw JSON is folded')
  t.equal(JSON.parse(raw.querySelector('pre')!.text).context.action, 'iam:PassRole')
  const ids = doc.querySelectorAll('[id]').map(e => e.getAttribute('id'))
  t.equal(new Set(ids).size, ids.length, 'every id on the page is unique')
})

t.test('reports: plurals agree with their numbers; periods as dates, the exact instants in a tooltip and a footnote', async t => {
  const app = await buildTestApp(t)
  app.repos.writer.storeBatch([{ message: message('kms-decrypt.json'), source: 'one', line: 1, observedAt: '2026-11-10T12:00:00.000Z' }], [], null)
  const q = 'since=2026-11-01&until=2026-11-30'
  const doc = html(await app.inject({ url: `/reports?${q}` }))
  const figures = doc.querySelectorAll('#report .wr-figures li').map(li => li.text)
  t.ok(figures.includes('1occurrence'), '"1 occurrence"')
  t.ok(figures.includes('1group'), '"1 group"')
  t.ok(figures.includes('1principal'), '"1 principal"')
  t.notOk(figures.some(f => /^1(occurrences|groups|principals)$/.test(f)), 'never "1 occurrences", "1 groups", "1 principals"')
  t.ok(figures.includes('0before') && figures.includes('0growing'))
  t.equal(doc.querySelector('#report .wr-group p b')!.text, '1 occurrence (0 in the previous period)')

  const meta = doc.querySelector('#report .wr-meta')!
  t.notMatch(meta.text, /T\d\d:\d\d|\.\d{3}Z/, 'no ISO timestamps with milliseconds in the text')
  t.match(meta.text, /Period 2026-11-01 to 2026-11-30\*, compared with 2026-10-02 to 2026-10-31\. Generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/)
  const times = meta.querySelectorAll('time')
  t.equal(times[0]!.getAttribute('datetime'), '2026-11-01T00:00:00.000Z')
  t.equal(times[0]!.getAttribute('title'), '2026-11-01 00:00:00 UTC', 'the exact instant in a tooltip')
  t.equal(times[1]!.getAttribute('title'), 'up to 2026-12-01 00:00:00 UTC', 'the end, exclusive: the date shown is the last whole day')
  t.equal(doc.querySelector('#report-period-exact')!.text, '* Exact period: from 2026-11-01 00:00:00 UTC up to (not including) 2026-12-01 00:00:00 UTC; the previous period from 2026-10-02 00:00:00 UTC up to 2026-11-01 00:00:00 UTC.')

  const md = (await app.inject({ url: `/reports/download?${q}&format=md` })).body
  t.match(md, '**1** occurrence in 1 group (0 before)')
  t.match(md, '1 occurrence in 1 group (0 before); 1 new, 0 growing, 0 ongoing, 0 gone quiet; 1 principal.')
  t.match(md, '- 1 occurrence (0 in the previous period), 1 session/principal')
  t.notMatch(md, /\b1 (occurrences|groups|principals)\b/)
})

t.test('reports: an empty database and an empty period each say what to do', async t => {
  const app = await buildTestApp(t)
  const empty = html(await app.inject({ url: '/reports' }))
  const guide = empty.querySelector('#report-guidance')!
  t.match(guide.text, 'No denials stored yet')
  t.ok(guide.querySelector('a[href="/import"]'), 'links to the Import page')
  t.match(guide.querySelector('code')!.text, 'whydenied import FILE')
  t.match(empty.querySelector('#report-empty')!.text, 'No denial occurred in this period or in the one before it')
  t.equal(empty.querySelectorAll('#report .wr-figures').length, 0, 'no row of zeros')

  app.repos.writer.storeBatch([{ message: message('kms-decrypt.json'), source: 'old', line: 1, observedAt: '2020-01-01T00:00:00.000Z' }], [], null)
  const quiet = html(await app.inject({ url: '/reports?since=30d' }))
  const hint = quiet.querySelector('#report-guidance')!
  t.match(hint.text, 'Nothing to report for this period')
  t.equal(hint.querySelector('a')!.getAttribute('href'), '/reports?since=90d', 'offers a longer period')
})

t.test('"30 days" is one period: the same instant range, the same count on the dashboard and in the report', async t => {
  const app = await buildTestApp(t)
  const now = Date.now()
  const rollingStart = now - 30 * DAY
  // Where an older dashboard started its 30 days: midnight UTC 29 days before today (later than now − 30 × 24 h).
  const midnightStart = Math.floor(now / DAY) * DAY - 29 * DAY
  const between = rollingStart + Math.min(10 * 60_000, (midnightStart - rollingStart) / 2)
  const at = (ms: number, i: number): { message: ReturnType<typeof message>, source: string, line: number, observedAt: string } =>
    ({ message: message(i % 2 === 0 ? 'kms-decrypt.json' : 'seed-passrole.json'), source: 'period', line: i + 1, observedAt: new Date(ms).toISOString() })
  app.repos.writer.storeBatch([
    at(between, 0), // inside "the last 30 days" only when it counts back 30 × 24 hours
    at(rollingStart - 60 * 60_000, 1), // an hour too early for either
    at(now - 5 * DAY, 2),
    at(now - 29 * DAY - 60 * 60_000, 3),
    at(now - 60_000, 4)
  ], [], null)
  const dashboard = (await app.inject({ url: '/?format=json' })).json()
  const report = (await app.inject({ url: '/reports?since=30d&format=json' })).json()
  const list = (await app.inject({ url: '/api/denials?since=30d' })).json()
  t.equal(dashboard.totals.occurrences, 4)
  t.equal(report.totals.occurrences, dashboard.totals.occurrences, 'the report counts what the dashboard counts')
  t.ok(Math.abs(Date.parse(dashboard.since) - Date.parse(report.period.since)) < 60_000, 'from the same instant')
  t.ok(Math.abs(Date.parse(dashboard.until) - Date.parse(report.period.until)) < 60_000, 'to the same instant')
  t.equal(list.total, 2, 'the list\'s since=30d covers the same range (both denials)')

  const page = html(await app.inject({ url: '/' }))
  t.match(page.querySelector('#period-note')!.text, /The last 30 days: from \d{4}-\d\d-\d\d \d\d:\d\d UTC up to now .*720 hours; reports and the denial list count since=30d the same way/, 'the dashboard says which')
  const form = html(await app.inject({ url: '/reports' }))
  t.match(form.querySelector('#r-since-hint')!.text, '30d: the 30 × 24 hours up to now, as on the dashboard', 'and so does the report form')
})
