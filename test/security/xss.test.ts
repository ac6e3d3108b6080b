/**
 * Stored messages are untrusted: the hostile fixture's values (<script>, "><img onerror>, {{...}},
 * javascript: URLs, odd Unicode) render as text on every page, and no template is compiled from data.
 */
import t from 'tap'
import { buildTestApp } from '../helpers/build.js'
import { denialIdFor, html, postForm, seedFixtures } from '../routes/pages/support.js'

const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(2)>',
  "{{constructor.constructor('alert(3)')()}}",
  '<svg onload=alert(4)>',
  '{{#each this}}{{/each}}'
]

t.test('hostile values render as text on every page', async t => {
  const app = await buildTestApp(t)
  await seedFixtures(app)
  const id = denialIdFor(app, 'hostile-values.json')
  const pages = [
    `/denials/${id}`,
    '/denials',
    '/denials?q=alert',
    '/denials?condition=aws:userid',
    `/denials?principal=${encodeURIComponent("arn:aws:iam::111122223333:user/{{constructor.constructor('alert(3)')()}}")}`,
    '/'
  ]
  for (const url of pages) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, url)
    const body = res.body
    // No markup from the data: the raw HTML never holds the values unescaped.
    t.notMatch(body, /<script>alert/i, `${url}: no script tag from data`)
    t.notMatch(body, /<img src=x/i, `${url}: no img tag from data`)
    t.notMatch(body, /<svg onload/i, `${url}: no svg tag from data`)
    const doc = html(res)
    t.equal(doc.querySelectorAll('script').filter(s => !s.getAttribute('src')).length, 0, `${url}: no inline script at all`)
    t.equal(doc.querySelectorAll('img').length, 0, `${url}: no img element`)
    const withHandlers = doc.querySelectorAll('*').filter(e => Object.keys(e.attributes).some(a => a.toLowerCase().startsWith('on')))
    t.same(withHandlers.map(e => e.tagName), [], `${url}: no element has an event handler attribute`)
    t.notOk(doc.querySelectorAll('a').some(a => /^\s*javascript:/i.test(a.getAttribute('href') ?? '')), `${url}: no javascript: link`)
  }

  const doc = html(await app.inject({ url: `/denials/${id}` }))
  const text = doc.querySelector('main')!.text
  for (const v of HOSTILE) t.ok(text.includes(v), `shown literally: ${v}`)
  t.ok(text.includes('javascript:alert(5)'), 'the javascript: value is shown as text')
  t.ok(text.includes("'; DROP TABLE denials; --"), 'the SQL-looking resource is shown as text')
  t.ok(text.includes('Zalgo'), 'odd Unicode survives')
  // The Referer value links to the list filtered by it: inside the query string, never as a URL of its own.
  const referer = doc.querySelectorAll('a.condition-value').find(a => a.text === 'javascript:alert(5)')!
  t.equal(referer.getAttribute('href'), '/denials?condition=aws%3AReferer%3Djavascript%3Aalert%285%29')
  // Handlebars did not evaluate the {{...}} values: the title carries them verbatim.
  t.match(doc.querySelector('#summary')!.text, "user/{{constructor.constructor('alert(3)')()}}")
  // And the app still works after rendering them.
  t.equal((await app.inject({ url: '/api/denials' })).json().total, 9)
})

t.test('hostile values in the import summary and page titles are escaped', async t => {
  const app = await buildTestApp(t)
  const res = await postForm(app, '/import', [
    { name: 'files', filename: '<img src=x onerror=alert(6)>.json', content: '{"nope": "<script>alert(7)</script>"}' },
    { name: 'source', value: '"><script>alert(8)</script>' }
  ])
  t.equal(res.statusCode, 200)
  t.notMatch(res.body, /<script>alert|<img src=x/)
  const doc = html(res)
  t.match(doc.querySelector('.rejects-table')!.text, '<img src=x onerror=alert(6)>.json', 'the file name is shown as text')
  t.match(doc.querySelector('.imports-table')!.text, '"><script>alert(8)</script>', 'the label is shown as text')
  const notFound = await app.inject({ url: '/%3Cscript%3Ealert(9)%3C/script%3E' })
  t.equal(notFound.statusCode, 404)
  t.notMatch(notFound.body, /<script>alert/)
  t.match(html(notFound).querySelector('#error-message')!.text, '<script>alert(9)</script>')
})
