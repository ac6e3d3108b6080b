/**
 * The browser workflow in real headless Chromium against the real server: import by upload and by
 * paste, filter by a condition through facet clicks, open a denial, copy the suggested policy.
 * Screenshots of each page go to test/artifacts/.
 */
import path from 'node:path'
import t from 'tap'
import { buildTestApp, DECODED_FIXTURES } from '../helpers/build.js'
import { generate } from '../../fixtures/generate.js'
import { FIXTURE_FILES } from '../routes/pages/support.js'
import { launch, screenshot, serve } from './browser.js'

const app = await buildTestApp(t)
const base = await serve(app)
const browser = await launch()
t.teardown(() => browser.close())
const context = await browser.newContext({ viewport: { width: 1360, height: 900 } })
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
const page = await context.newPage()
page.setDefaultTimeout(10_000)
const errors: string[] = []
page.on('pageerror', e => errors.push(e.message))
page.on('console', m => { if (m.type() === 'error') errors.push(m.text()) })

t.test('import by upload', async t => {
  await page.goto(`${base}/import`)
  await page.setInputFiles('#files', FIXTURE_FILES.map(f => path.join(DECODED_FIXTURES, f)))
  await Promise.all([page.waitForResponse(r => r.url() === `${base}/import` && r.request().method() === 'POST'), page.click('#upload-form button[type="submit"]')])
  t.equal(await page.textContent('#count-imported'), String(FIXTURE_FILES.length))
  t.equal(await page.textContent('#count-rejected'), '0')
  await screenshot(page, 'import-upload')
})

t.test('import by paste, with a bad line reported', async t => {
  await page.goto(`${base}/import`)
  const lines = [...generate(150, { end: new Date().toISOString(), days: 20 })]
  lines.splice(3, 0, '{"DecodedMessage": "(...) truncated by a web page"}')
  await page.fill('#paste-text', lines.join('\n'))
  await page.fill('#paste-source', 'pasted-from-ticket')
  await Promise.all([page.waitForResponse(r => r.url() === `${base}/import` && r.request().method() === 'POST'), page.click('#paste-form button[type="submit"]')])
  t.equal(await page.textContent('#count-imported'), '150')
  t.equal(await page.textContent('#count-rejected'), '1')
  const reject = await page.locator('.rejects-table tbody tr').first().locator('td').allTextContents()
  t.equal(reject[0], 'pasted-from-ticket')
  t.equal(reject[1], '4')
  t.ok((reject[2] ?? '').length > 10, 'the reason is shown')
  await screenshot(page, 'import-paste-summary')
})

t.test('dashboard', async t => {
  await page.goto(`${base}/`)
  t.equal(await page.textContent('h1'), 'Dashboard')
  t.ok(await page.locator('.chart-bar').count() > 5)
  await screenshot(page, 'dashboard')
})

t.test('filter by a condition through facet clicks, and remove it again', async t => {
  await page.goto(`${base}/denials`)
  await screenshot(page, 'denials')
  const total = Number((await page.textContent('#result-total'))!.replace(/\D/g, ''))
  // The key's link lands back on its facet, where its values now appear under it.
  await Promise.all([page.waitForURL(/condition=aws%3AService#facet-conditionKey$/), page.click('#facet-conditionKey a[title="aws:Service"]')])
  await Promise.all([page.waitForURL(/condition=aws%3AService%3Ds3/), page.locator('#facet-conditionKey .facet-children', { hasText: 'Values of aws:Service' }).locator('a[title="s3"]').click()])
  const api = await (await fetch(`${base}/api/denials?condition=aws:Service=s3`)).json() as { total: number }
  const shown = Number((await page.textContent('#result-total'))!.replace(/\D/g, ''))
  t.equal(shown, api.total)
  t.ok(shown > 0 && shown < total)
  t.equal(await page.inputValue('#f-condition-0'), 'aws:Service=s3', 'the form shows the filter')
  await screenshot(page, 'denials-filtered')
  // Click the active key again: the filter is gone.
  await Promise.all([page.waitForURL(`${base}/denials#facet-conditionKey`), page.click('#facet-conditionKey a.active')])
  t.equal(Number((await page.textContent('#result-total'))!.replace(/\D/g, '')), total)
})

t.test('filter with the form, open a denial, copy the suggested policy', async t => {
  await page.goto(`${base}/denials`)
  await page.click('details.more-filters > summary')
  await page.fill('#f-action', 'iam:PassRole')
  await page.fill('#f-condition-0', 'aws:Region=us-east-2')
  await Promise.all([page.waitForURL(/action=iam%3APassRole/), page.click('details.more-filters button[type="submit"]')])
  t.match(page.url(), /condition=aws%3ARegion%3Dus-east-2/)
  await Promise.all([page.waitForURL(/\/denials\/\d+$/), page.locator('a.denial-link').first().click()])
  t.match(await page.textContent('#summary'), 'was denied iam:PassRole')
  t.match(await page.textContent('#policy-check'), 'Matches this request')
  const button = page.locator('button[data-copy-target="suggested-policy"]')
  t.ok(await button.isVisible(), 'the script shows the copy button')
  await button.click()
  await page.waitForFunction("document.querySelector('#fix .copy-status')?.textContent === 'Copied'")
  const clip = await page.evaluate<string>('navigator.clipboard.readText()')
  const shown = await page.textContent('#suggested-policy')
  t.equal(clip, shown)
  t.match(JSON.parse(clip).Statement[0], { Effect: 'Allow', Action: 'iam:PassRole' })
  await screenshot(page, 'denial-implicit')
})

t.test('an explicit deny page', async t => {
  await page.goto(`${base}/denials?decision=explicit-deny&action=ec2:RunInstances`)
  await Promise.all([page.waitForURL(/\/denials\/\d+$/), page.locator('a.denial-link').first().click()])
  t.match(await page.textContent('#change-deny'), 'No Allow is suggested')
  t.equal(await page.locator('#suggested-policy').count(), 0)
  await screenshot(page, 'denial-explicit')
})

t.test('the pages work without JavaScript', async t => {
  const noJs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1360, height: 900 } })
  t.teardown(() => noJs.close())
  const p = await noJs.newPage()
  await p.goto(`${base}/denials`)
  await Promise.all([p.waitForURL(/condition=/), p.click('#facet-conditionKey a[title="aws:Service"]')])
  await Promise.all([p.waitForURL(/\/denials\/\d+$/), p.locator('a.denial-link').first().click()])
  t.ok(await p.locator('#raw-json').isVisible(), 'the raw JSON is there to select')
  t.notOk(await p.locator('button[data-copy-target="raw-json"]').isVisible(), 'no dead copy button without the script')
  await p.goto(`${base}/import`)
  await p.fill('#paste-text', JSON.stringify({ DecodedMessage: JSON.stringify({ allowed: false, explicitDeny: false, context: { principal: { arn: 'arn:aws:iam::111122223333:user/nojs' }, action: 's3:ListBucket', resource: 'arn:aws:s3:::nojs' } }) }))
  await Promise.all([p.waitForResponse(r => r.url() === `${base}/import` && r.request().method() === 'POST'), p.click('#paste-form button[type="submit"]')])
  t.equal(await p.textContent('#count-imported'), '1')
})

t.test('no script error on any page', async t => {
  t.same(errors, [])
})
