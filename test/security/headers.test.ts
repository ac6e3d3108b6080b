/** Security headers and a strict Content-Security-Policy on every page; pages hold no inline script or style. */
import t from 'tap'
import { buildTestApp } from '../helpers/build.js'
import { denialIdFor, html, seedFixtures } from '../routes/pages/support.js'

t.test('strict CSP and security headers; nothing inline for the CSP to block', async t => {
  const app = await buildTestApp(t)
  await seedFixtures(app)
  const id = denialIdFor(app, 'seed-passrole.json')
  for (const url of ['/', '/denials', `/denials/${id}`, '/import', '/nowhere', '/api/denials']) {
    const res = await app.inject({ url })
    const csp = String(res.headers['content-security-policy'])
    const directives = Object.fromEntries(csp.split(';').map(d => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v.join(' ')]))
    t.equal(directives['default-src'], "'self'", `${url} default-src`)
    t.equal(directives['script-src'], "'self'", `${url} script-src`)
    t.equal(directives['style-src'], "'self'", `${url} style-src`)
    t.equal(directives['object-src'], "'none'")
    t.equal(directives['frame-ancestors'], "'none'")
    t.equal(directives['form-action'], "'self'")
    t.equal(directives['base-uri'], "'none'")
    t.notMatch(csp, /unsafe-inline|unsafe-eval|https:|http:/, `${url}: nothing loosens the policy`)
    t.equal(res.headers['x-content-type-options'], 'nosniff')
    t.equal(res.headers['x-frame-options'], 'SAMEORIGIN')
    t.equal(res.headers['referrer-policy'], 'same-origin', 'no referrer leaves for other sites')
    t.equal(res.headers['cross-origin-opener-policy'], 'same-origin')
    if (res.headers['content-type']?.toString().startsWith('text/html')) {
      const doc = html(res)
      t.same(doc.querySelectorAll('script').map(s => s.getAttribute('src')), ['/static/app.js'], `${url}: one local script, no inline code`)
      t.same(doc.querySelectorAll('[style]').map(e => e.tagName), [], `${url}: no style attribute`)
      t.equal(doc.querySelectorAll('style').length, 0, `${url}: no style element`)
      const external = doc.querySelectorAll('link[href], script[src], img[src]').map(e => e.getAttribute('href') ?? e.getAttribute('src') ?? '')
      t.ok(external.every(u => u.startsWith('/static/')), `${url}: every asset is local`)
    }
  }
})

t.test('the local assets are served with the right types', async t => {
  const app = await buildTestApp(t)
  const css = await app.inject({ url: '/static/app.css' })
  t.equal(css.statusCode, 200)
  t.match(css.headers['content-type'], /text\/css/)
  const js = await app.inject({ url: '/static/app.js' })
  t.equal(js.statusCode, 200)
  t.match(js.headers['content-type'], /javascript/)
  t.notMatch(js.body, /https?:\/\//, 'the script talks to no other server')
  t.equal((await app.inject({ url: '/static/favicon.svg' })).statusCode, 200)
  t.equal((await app.inject({ url: '/static/../package.json' })).statusCode, 404)
})
