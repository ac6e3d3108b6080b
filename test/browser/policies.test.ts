/**
 * The policy pages in real headless Chromium against the real server: the denial page's "Which
 * policy, and the fix", the what-if form with JavaScript off, /policies and /policies/:id.
 * Screenshots at 1400 and 390 px go to test/artifacts/.
 */
import t from 'tap'
import { buildTestApp } from '../helpers/build.js'
import { seedPolicyFixtures } from '../helpers/policies.js'
import path from 'node:path'
import { ARTIFACTS, axeViolations, launch, screenshot, serve } from './browser.js'

const app = await buildTestApp(t)
const ids = await seedPolicyFixtures(app)
const base = await serve(app)
const browser = await launch()
t.teardown(() => browser.close())

for (const width of [1400, 390]) {
  t.test(`pages at ${width} px`, async t => {
    const context = await browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled: false })
    t.teardown(() => context.close())
    const page = await context.newPage()
    page.setDefaultTimeout(10_000)
    const offsite: string[] = []
    page.on('request', r => { if (!r.url().startsWith(base)) offsite.push(r.url()) })

    await page.goto(`${base}/denials/${ids['near-miss-condition']}`)
    t.equal(await page.textContent('#fix-verified'), 'verified')
    t.equal(await page.locator('#fix-diff .diff-add').count(), 4)
    // The section itself fits the viewport (long ARNs wrap, documents scroll inside their own box).
    // The header's navigation is the pages branch's to fit (it already overflowed at 390 px before).
    const right = await page.evaluate("Math.max(...[...document.querySelectorAll('#policies, #policies > *')].map(e => e.getBoundingClientRect().right))")
    t.ok((right as number) <= width, `the section fits in ${width} px (right edge ${String(right)})`)
    await page.locator('#policies').scrollIntoViewIfNeeded()
    await screenshot(page, `policies-denial-near-miss-${width}`)
    await page.locator('#policies').screenshot({ path: path.join(ARTIFACTS, `policies-denial-section-${width}.png`) })

    // What-if without JavaScript: open the details, submit the form as it is (the fix): allowed.
    await page.click('#what-if summary')
    await Promise.all([page.waitForURL(`${base}/denials/${ids['near-miss-condition']}/what-if`), page.click('#what-if-form button[type="submit"]')])
    t.equal(await page.textContent('#what-if-decision'), 'allowed')
    await screenshot(page, `policies-what-if-${width}`)

    await page.goto(`${base}/denials/${ids['scp-explicit-deny']}`)
    t.equal(await page.locator('.stmt-deciding').count(), 1)
    await screenshot(page, `policies-denial-scp-${width}`)

    await page.goto(`${base}/policies`)
    t.equal(await page.locator('#policies-table tbody tr').count(), 12)
    await screenshot(page, `policies-list-${width}`)
    await page.click('#policies-table a:text("policy/DeployEc2")')
    t.equal(await page.locator('.stmt-near').count(), 2, 'AllowRunInstancesInEu (a condition) and AllowDescribe (an action)')
    await screenshot(page, `policies-policy-${width}`)
    t.same(offsite, [], 'nothing loaded from elsewhere')
  })
}

t.test('no serious accessibility violations on the policy pages', async t => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
  t.teardown(() => context.close())
  const page = await context.newPage()
  for (const url of [`/denials/${ids['near-miss-condition']}`, '/policies']) {
    await page.goto(`${base}${url}`)
    t.same(await axeViolations(page), [], url)
  }
})
