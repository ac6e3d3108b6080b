/**
 * Bidi controls (U+202E and friends) in stored values cannot spoof what people read: pages, the HTML
 * report, Markdown and CSV show them as `\u202E`; JSON keeps the exact characters.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { showBidiControls } from '../../server/util/bidi.js'
import { buildTestApp } from '../helpers/build.js'
import { html } from '../routes/pages/support.js'

const RLO = '\u202E'
const PRINCIPAL = `arn:aws:iam::111122223333:user/alice${RLO}gpj.exe`
const RESOURCE = `arn:aws:s3:::invoices/${RLO}fdp.exe`
const CONDITION = `curl/8 \u2066${RLO}x\u2069`
const BIDI_CHARS = /\p{Bidi_Control}/u

const message = JSON.stringify({
  allowed: false,
  explicitDeny: false,
  matchedStatements: { items: [] },
  failures: { items: [] },
  context: {
    principal: { id: 'AIDAEXAMPLEBIDI00001', name: 'alice', arn: PRINCIPAL },
    action: 's3:GetObject',
    resource: RESOURCE,
    conditions: { items: [{ key: 'aws:UserAgent', values: { items: [{ value: CONDITION }] } }] }
  }
})

t.test('showBidiControls: exactly the Bidi_Control characters become \\uXXXX', async t => {
  const all = '\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069'
  t.equal(showBidiControls(`a${all}b`), 'a\\u061C\\u200E\\u200F\\u202A\\u202B\\u202C\\u202D\\u202E\\u2066\\u2067\\u2068\\u2069b')
  const others = 'שלום مرحبا \u200B\u200D é 🙈 \\u202E'
  t.equal(showBidiControls(others), others, 'right-to-left letters, zero-width characters and look-alike text are kept')
})

async function seeded (t: Test, productionViews: boolean): Promise<{ app: FastifyInstance, id: number }> {
  const app = await buildTestApp(t, { productionViews })
  const imp = await app.inject({ method: 'POST', url: '/api/imports?source=bidi', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ DecodedMessage: message }) })
  t.equal(imp.statusCode, 200, imp.body)
  t.equal(imp.json().imported, 1)
  return { app, id: (await app.inject({ url: '/api/denials' })).json().items[0].id as number }
}

t.test('pages, the report and its downloads show bidi controls visibly; JSON keeps them', async t => {
  const { app, id } = await seeded(t, true)

  const visible = (body: string, what: string): void => {
    t.notMatch(body, BIDI_CHARS, `${what}: no raw bidi control`)
    // Identifiers come in segments that break only after ":" and "/" (<span>, <wbr>): their text without them.
    const text = body.replace(/<\/?(span|wbr)\b[^>]*>/g, '')
    t.ok(text.includes('user/alice\\u202Egpj.exe'), `${what}: the principal shows \\u202E`)
    t.ok(text.includes('invoices/\\u202Efdp.exe'), `${what}: the resource shows \\u202E`)
  }

  for (const url of [`/denials/${id}`, '/denials', `/denials?principal=${encodeURIComponent(PRINCIPAL)}`, '/reports']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, url)
    visible(res.body, url)
  }
  const dashboard = await app.inject({ url: '/' })
  t.equal(dashboard.statusCode, 200)
  t.notMatch(dashboard.body, BIDI_CHARS, 'dashboard: no raw bidi control')
  const page = html(await app.inject({ url: `/denials/${id}` }))
  t.ok(page.querySelector('main')!.text.includes('curl/8 \\u2066\\u202Ex\\u2069'), 'the condition value shows its controls')

  for (const format of ['html', 'md', 'csv']) {
    const res = await app.inject({ url: `/reports/download?format=${format}` })
    t.equal(res.statusCode, 200, format)
    visible(res.body, `report ${format}`)
  }

  const json = await app.inject({ url: '/reports/download?format=json' })
  t.ok(json.body.includes(PRINCIPAL), 'report JSON keeps the exact principal')
  t.ok(json.body.includes(RESOURCE), 'report JSON keeps the exact resource')
  t.notOk(json.body.includes('\\u202E'), 'report JSON is not rewritten')
  const api = (await app.inject({ url: `/api/denials/${id}` })).json()
  t.equal(api.principalArn ?? api.principal?.arn, PRINCIPAL, 'the API keeps the exact principal')
  t.ok(JSON.stringify(api).includes(CONDITION), 'the API keeps the exact condition value')
  const twin = await app.inject({ url: `/denials/${id}?format=json` })
  t.ok(twin.body.includes(PRINCIPAL), 'the page\'s JSON twin keeps the exact value')
})

t.test('templates compiled per request (development views) show them too', async t => {
  const { app, id } = await seeded(t, false)
  const res = await app.inject({ url: `/denials/${id}` })
  t.equal(res.statusCode, 200)
  t.notMatch(res.body, BIDI_CHARS)
  t.ok(res.body.includes('user/alice\\u202Egpj.exe'))
})
