/**
 * GET /denials : the filter form has every filter of GET /api/denials; facets add a filter on click and
 * remove it on the next click; condition keys drill down into their values; keyset pagination and
 * sorting; the whole state in the query string; the JSON twin.
 */
import t from 'tap'
import { buildTestApp } from '../../helpers/build.js'
import { html, seedFixtures, seedSynthetic, texts } from './support.js'

const decodeHref = (href: string | undefined): URL => new URL(href ?? '', 'http://x')

t.test('an empty database: "no denials yet", with the Import page and the CLI command', async t => {
  const app = await buildTestApp(t)
  const doc = html(await app.inject({ url: '/denials' }))
  const empty = doc.querySelector('#empty-state')!
  t.equal(empty.querySelector('h2')?.text, 'No denials yet')
  t.ok(empty.querySelector('a[href="/import"]'), 'links to the Import page')
  t.match(texts(empty, 'code').join(' '), /whydenied import FILE/)
  t.notMatch(doc.text, /No denial matches these filters/, 'no talk of filters: none is set')
  t.notOk(doc.querySelector('.facets'), 'no empty sidebar')
})

t.test('denial list', async t => {
  const app = await buildTestApp(t)
  await seedFixtures(app)
  await seedSynthetic(app, 300)

  t.test('the filter form carries every filter of the API, and submits with GET', async t => {
    const doc = html(await app.inject({ url: '/denials' }))
    const form = doc.querySelector('form.filters')!
    t.equal(form.getAttribute('method'), 'get')
    t.equal(form.getAttribute('action'), '/denials')
    const names = new Set(form.querySelectorAll('input, select').map(e => e.getAttribute('name')))
    for (const n of ['q', 'action', 'service', 'principal', 'account', 'resource', 'condition', 'decision', 'since', 'until', 'sort', 'limit']) {
      t.ok(names.has(n), `field ${n}`)
    }
    for (const input of form.querySelectorAll('input, select')) {
      const id = input.getAttribute('id')
      t.ok(id && form.querySelector(`label[for="${id}"]`), `${input.getAttribute('name')} has a label`)
    }
  })

  t.test('the form is compact: one search line; every other filter folded in a closed <details>, chips for the active ones', async t => {
    const doc = html(await app.inject({ url: '/denials' }))
    const form = doc.querySelector('form.filters')!
    const line = form.querySelector('.search-line')!
    t.same(line.querySelectorAll('input').map(i => i.getAttribute('name')), ['q'], 'the search line holds the text search only')
    t.ok(line.querySelector('button[type="submit"]'), 'and its button')
    const more = form.querySelector('details.more-filters')!
    t.match(more.querySelector('summary')!.text, /^More filters/)
    t.notOk(more.hasAttribute('open'), 'closed by default')
    const folded = new Set(more.querySelectorAll('input, select').map(e => e.getAttribute('name')))
    for (const n of ['action', 'service', 'principal', 'account', 'resource', 'condition', 'decision', 'since', 'until', 'sort', 'limit']) t.ok(folded.has(n), `${n} is under More filters`)
    t.notOk(doc.querySelector('.chips'), 'no chips without filters')

    const filtered = html(await app.inject({ url: '/denials?action=iam:PassRole&since=30d' }))
    t.notOk(filtered.querySelector('details.more-filters')!.hasAttribute('open'), 'still closed: the chips show the filters')
    t.same(texts(filtered, 'form.filters .chips .chip > span'), ['Action: iam:PassRole', 'Since: 30d'])
    t.equal(filtered.querySelector('form.filters .clear-all')?.getAttribute('href'), '/denials')

    const bad = await app.inject({ url: '/denials?since=not-a-date' })
    t.equal(bad.statusCode, 400)
    t.ok(html(bad).querySelector('details.more-filters')!.hasAttribute('open'), 'open when a filter is refused, so its field is in view')
    const badDoc = html(bad)
    t.notOk(badDoc.querySelector('#result-total'), 'no "0 denials" under a refused filter')
    t.ok(badDoc.querySelector('.notice-error + form.filters'), 'the reason comes first, above the form')
  })

  t.test('no match under filters: says so, with a link that clears them (not the empty-database text)', async t => {
    const doc = html(await app.inject({ url: '/denials?action=nope:Nothing' }))
    t.match(doc.querySelector('.empty-results')?.text, 'No denial matches these filters')
    t.equal(doc.querySelector('.empty-results a')?.getAttribute('href'), '/denials')
    t.notOk(doc.querySelector('#empty-state'))
  })

  t.test('results: the same items as the API, each linking to its page', async t => {
    const api = (await app.inject({ url: '/api/denials?limit=50' })).json()
    const doc = html(await app.inject({ url: '/denials' }))
    const links = doc.querySelectorAll('.results tbody a.denial-link').map(a => a.getAttribute('href'))
    t.same(links, api.items.map((i: { id: number }) => `/denials/${i.id}`))
    t.match(doc.querySelector('#result-total')?.text, new RegExp(`^${api.total.toLocaleString('en-US')} denials$`))
  })

  t.test('an empty form submission (every field blank) is the unfiltered list, not an error', async t => {
    const res = await app.inject({ url: '/denials?q=&action=&service=&principal=&account=&resource=&decision=&since=&until=&condition=&sort=lastSeen&limit=' })
    t.equal(res.statusCode, 200)
    const all = (await app.inject({ url: '/api/denials' })).json()
    t.match(html(res).querySelector('#result-total')?.text, all.total.toLocaleString('en-US'))
  })

  t.test('the form shows the current filters, and each is a chip that removes it', async t => {
    const url = '/denials?action=iam:PassRole&condition=aws:Service&decision=implicit-deny'
    const doc = html(await app.inject({ url }))
    t.equal(doc.querySelector('#f-action')?.getAttribute('value'), 'iam:PassRole')
    t.equal(doc.querySelector('#f-decision option[selected]')?.getAttribute('value'), 'implicit-deny')
    t.equal(doc.querySelector('#f-condition-0')?.getAttribute('value'), 'aws:Service')
    t.equal(doc.querySelector('#f-condition-1')?.getAttribute('value'), '', 'one empty field to add a condition')
    const chips = doc.querySelectorAll('.chips .chip')
    t.same(chips.map(c => c.querySelector('span')!.text), ['Action: iam:PassRole', 'Decision: Implicit deny', 'Condition: aws:Service'])
    const removeAction = decodeHref(chips[0]!.querySelector('a')!.getAttribute('href'))
    t.equal(removeAction.searchParams.get('action'), null)
    t.same(removeAction.searchParams.getAll('condition'), ['aws:Service'])
  })

  t.test('facets: counts under the current filters; a click adds the filter, the next removes it', async t => {
    const api = (await app.inject({ url: '/api/denials' })).json()
    const doc = html(await app.inject({ url: '/denials' }))
    const service = doc.querySelector('#facet-service')!
    const first = service.querySelector('a.facet-value')!
    t.equal(first.querySelector('.count')!.text, String(api.facets.service[0].count))
    const href = first.getAttribute('href')!
    t.equal(decodeHref(href).searchParams.get('service'), api.facets.service[0].value)

    const filtered = await app.inject({ url: href })
    const fdoc = html(filtered)
    const active = fdoc.querySelector('#facet-service a.facet-value.active')!
    t.ok(active, 'the chosen value is marked active')
    t.equal(active.getAttribute('aria-current'), 'true')
    t.equal(active.getAttribute('href'), '/denials', 'clicking it again removes the filter')
    const apiFiltered = (await app.inject({ url: `/api/denials?service=${api.facets.service[0].value}` })).json()
    t.match(fdoc.querySelector('#result-total')?.text, apiFiltered.total.toLocaleString('en-US'))
  })

  t.test('condition keys: click a key to require it, then drill into its values', async t => {
    const doc = html(await app.inject({ url: '/denials' }))
    const key = doc.querySelectorAll('#facet-conditionKey a.facet-value').find(a => a.getAttribute('title') === 'aws:Service')
    t.ok(key, 'aws:Service is a condition key facet')
    const keyHref = key!.getAttribute('href')!
    t.same(decodeHref(keyHref).searchParams.getAll('condition'), ['aws:Service'])
    t.equal(decodeHref(keyHref).hash, '#facet-conditionKey', 'the link lands on the facet that was clicked, not the top of the page')

    const keyDoc = html(await app.inject({ url: keyHref }))
    // Where the user clicked: right under the chosen key, inside the condition-key facet.
    const chosen = keyDoc.querySelector('#facet-conditionKey a.facet-value.active')!
    t.equal(chosen.getAttribute('title'), 'aws:Service')
    const drill = chosen.parentNode!.querySelector('.facet-children')
    t.ok(drill, 'the values of the chosen key are listed under it')
    t.equal(drill!.querySelector('.facet-children-title')?.text, 'Values of aws:Service')
    t.same(keyDoc.querySelectorAll('.facet > h3').map(h => h.text).filter(h => h.startsWith('Values of')), [], 'not in a facet of their own at the bottom')
    const s3 = drill!.querySelectorAll('a.facet-value').find(a => a.getAttribute('title') === 's3')!
    t.ok(s3)
    const valueHref = s3.getAttribute('href')!
    t.same(decodeHref(valueHref).searchParams.getAll('condition'), ['aws:Service=s3'])

    const res = await app.inject({ url: valueHref })
    const vdoc = html(res)
    const api = (await app.inject({ url: '/api/denials?condition=aws:Service=s3&limit=500' })).json()
    t.ok(api.total > 0)
    t.match(vdoc.querySelector('#result-total')?.text, api.total.toLocaleString('en-US'))
    const activeValue = vdoc.querySelectorAll('.facet a.facet-value.active').find(a => a.getAttribute('title') === 's3')!
    t.same(decodeHref(activeValue.getAttribute('href')!).searchParams.getAll('condition'), ['aws:Service'], 'clicking the value again goes back to the key')
    const activeKey = vdoc.querySelector('#facet-conditionKey a.facet-value.active')!
    t.equal(activeKey.getAttribute('href'), '/denials#facet-conditionKey', 'clicking the key again removes it')
  })

  t.test('keyset pagination: the next page continues where the first ended', async t => {
    const first = html(await app.inject({ url: '/denials?limit=20' }))
    const ids1 = first.querySelectorAll('a.denial-link').map(a => a.getAttribute('href'))
    const next = first.querySelector('a[rel="next"]')!.getAttribute('href')!
    const nextUrl = decodeHref(next)
    t.equal(nextUrl.searchParams.get('limit'), '20', 'the page keeps its state')
    t.ok(nextUrl.searchParams.get('cursor'))
    const second = html(await app.inject({ url: next }))
    const ids2 = second.querySelectorAll('a.denial-link').map(a => a.getAttribute('href'))
    t.equal(ids2.length, 20)
    t.same(ids1.filter(id => ids2.includes(id)), [], 'no row repeats')
    const api = (await app.inject({ url: '/api/denials?limit=40' })).json()
    t.same([...ids1, ...ids2], api.items.map((i: { id: number }) => `/denials/${i.id}`))
    t.equal(second.querySelector('a[rel="first"]')?.getAttribute('href'), '/denials?limit=20')
  })

  t.test('sort by occurrences', async t => {
    const doc = html(await app.inject({ url: '/denials?sort=occurrences&limit=30' }))
    const counts = doc.querySelectorAll('.results tbody td.num').map(td => Number(td.text.replace(/,/g, '')))
    t.equal(counts.length, 30)
    t.same(counts, [...counts].sort((a, b) => b - a))
    t.equal(doc.querySelector('nav[aria-label="Sort by"] a[aria-current]')?.text, 'Occurrences')
    t.equal(doc.querySelector('#f-sort option[selected]')?.getAttribute('value'), 'occurrences')
  })

  t.test('JSON twin: the API result plus the drilled-down condition values', async t => {
    const twin = (await app.inject({ url: '/denials?condition=aws:Service&format=json' })).json()
    const api = (await app.inject({ url: '/api/denials?condition=aws:Service' })).json()
    t.same(twin.items, api.items)
    t.same(twin.facets, api.facets)
    t.equal(twin.total, api.total)
    t.ok(Array.isArray(twin.conditionValues['aws:Service']))
  })

  t.test('a bad filter is shown on the page with status 400', async t => {
    const res = await app.inject({ url: '/denials?since=yesterday-ish' })
    t.equal(res.statusCode, 400)
    const doc = html(res)
    t.match(doc.querySelector('.notice-error')?.text, /since/)
    t.ok(doc.querySelector('form.filters'), 'the form is still there to fix it')
    const json = await app.inject({ url: '/denials?since=yesterday-ish&format=json' })
    t.equal(json.statusCode, 400)
    t.equal(json.json().code, 'WHYDENIED_BAD_FILTER')
  })
})
