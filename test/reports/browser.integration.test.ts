/** The standalone HTML report in real headless Chromium with every network request blocked. */
import t from 'tap'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium } from 'playwright-core'
import { findChromium, missing, skipUnless } from '../helpers/binaries.js'
import { parseEnvelope } from '../../server/authz/parse.js'
import { repositoriesOn } from '../../server/db/index.js'
import { ReportsRepository } from '../../server/db/repositories/reports.js'
import { buildReport, parseTeams, render, resolvePeriod } from '../../server/reports/index.js'
import { DECODED_FIXTURES, ROOT, tempDir } from '../helpers/files.js'
import { goldenDb, TEAMS_YAML } from './fixture-data.js'

const dir = tempDir(t)
const { db } = goldenDb(dir)
t.teardown(() => db.close())
// The hostile fixture too: its values must stay text in the standalone file.
const hostile = parseEnvelope(JSON.parse(readFileSync(path.join(DECODED_FIXTURES, 'hostile-values.json'), 'utf8')))
repositoriesOn(db).writer.storeBatch([{ message: hostile.message, source: 'hostile', line: 1, observedAt: '2026-11-20T10:00:00Z' }], [], null)
const report = buildReport(new ReportsRepository(db), { period: resolvePeriod('2026-11-01', '2026-11-30'), teams: parseTeams(TEAMS_YAML, 'teams.yaml') })
const file = path.join(dir, 'report.html')
const html = render(report, 'html')
writeFileSync(file, html)

t.test('the file itself names no URL and carries no script', async t => {
  t.notMatch(html, /<script/i)
  t.notMatch(html, /\bhttps?:\/\//i)
  t.notMatch(html, /\bsrc=|\bhref=|url\(|@import/i)
  t.match(html, /@page \{ size: A4/)
  t.match(html, /Content-Security-Policy" content="default-src 'none'/)
  // Identifiers come in segments that break only after ":" and "/" (<span>, <wbr>): the text without them.
  const text = html.replace(/<\/?(span|wbr)\b[^>]*>/g, '')
  t.match(text, /user\/\{\{constructor\.constructor\(&#x27;alert\(3\)&#x27;\)\(\)\}\}/, 'hostile values are escaped (by Handlebars)')
  t.match(text, /bucket\/&#x27;; DROP TABLE denials; --/)
})

const found = findChromium()
t.test('opens offline in Chromium and renders its charts', { skip: skipUnless(found) }, async t => {
  if (!found.ok) return t.fail(missing(found))
  const browser = await chromium.launch({
    executablePath: found.path,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
  })
  t.teardown(() => browser.close())
  const context = await browser.newContext()
  const attempted: string[] = []
  await context.route('**/*', async route => {
    const url = route.request().url()
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue()
    attempted.push(url)
    return route.abort()
  })
  const page = await context.newPage()
  const dialogs: string[] = []
  page.on('dialog', d => { dialogs.push(d.message()); void d.dismiss() })
  const requests: string[] = []
  page.on('request', r => { requests.push(r.url()) })
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' })

  t.equal(await page.title(), report.title)
  const sparks = page.locator('svg.wr-spark')
  t.ok(await sparks.count() >= 5, 'a sparkline per listed group')
  t.ok(await sparks.first().isVisible(), 'sparklines are visible')
  const box = await sparks.first().boundingBox()
  t.ok(box !== null && box.width > 50 && box.height > 10, 'and have a size')
  t.ok(await page.locator('svg.wr-spark rect').count() > 0, 'with bars')
  t.ok(await page.locator('svg.wr-chart').first().isVisible(), 'the per-day chart renders')
  t.ok(await page.locator('svg.wr-chart rect').count() > 0)
  t.equal(await page.locator('h2.wr-team').count(), 4)
  t.match(await page.locator('body').innerText(), /user\/\{\{constructor\.constructor\('alert\(3\)'\)\(\)\}\}/, 'template syntax in data stays text')
  t.equal(await page.locator('img').count(), 0, 'no element injected by the hostile fixture')
  // Printing on A4 works (a PDF with at least one page).
  const pdf = await page.pdf({ format: 'A4', printBackground: true })
  t.ok(pdf.length > 1000 && pdf.subarray(0, 5).toString() === '%PDF-')
  mkdirSync(path.join(ROOT, 'test', 'artifacts'), { recursive: true })
  await page.screenshot({ path: path.join(ROOT, 'test', 'artifacts', 'report-standalone.png'), fullPage: true })

  t.same(attempted, [], 'no network request was attempted')
  t.same(requests.filter(u => !u.startsWith('file:') && !u.startsWith('data:')), [])
  t.same(dialogs, [], 'no script ran')
})
