/**
 * GET /denials/:id : summary sentence, request context, condition values linking to the filtered list,
 * matched statements and failures, occurrences over time, explanation, hints and suggested policy
 * with its check, similar denials, raw JSON; JSON twin with the explanation; 404 and 400 pages.
 */
import t from 'tap'
import { buildTestApp } from '../../helpers/build.js'
import { readTextRecords } from '../../../server/ingest/index.js'
import { denialIdFor, fixtureText, html, seedFixtures, texts } from './support.js'

/** The seed's PassRole message with some context changed, as our envelope with an observedAt. */
function variant (change: (m: { context: { principal: { arn: string }, resource: string } }) => void, observedAt: string): string {
  const m = JSON.parse(JSON.parse(fixtureText('seed-passrole.json')).DecodedMessage)
  change(m)
  return JSON.stringify({ DecodedMessage: JSON.stringify(m), observedAt })
}

t.test('denial page', async t => {
  const app = await buildTestApp(t)
  await seedFixtures(app)
  // Occurrences on three days for the seed message, plus similar denials.
  const seedMsg = JSON.parse(fixtureText('seed-passrole.json')).DecodedMessage
  const lines = [
    JSON.stringify({ DecodedMessage: seedMsg, observedAt: '2025-03-01T10:00:00Z' }),
    JSON.stringify({ DecodedMessage: seedMsg, observedAt: '2025-03-01T11:00:00Z' }),
    JSON.stringify({ DecodedMessage: seedMsg, observedAt: '2025-03-04T09:30:00Z' }),
    variant(m => { m.context.resource = 'arn:aws:iam::111122223333:role/Other_role' }, '2025-03-02T00:00:00Z'),
    variant(m => { m.context.resource = 'arn:aws:iam::111122223333:role/Other_role' }, '2025-03-02T08:00:00Z'),
    variant(m => { m.context.resource = 'arn:aws:iam::111122223333:role/Other_role' }, '2025-03-05T00:00:00Z'),
    variant(m => { m.context.principal.arn = 'arn:aws:iam::111122223333:user/someone-else' }, '2025-03-02T00:00:00Z')
  ]
  await app.repos.importer.run(readTextRecords(lines.join('\n'), 'history.ndjson'))
  const passRole = denialIdFor(app, 'seed-passrole.json')

  t.test('summary sentence and request context', async t => {
    const res = await app.inject({ url: `/denials/${passRole}` })
    t.equal(res.statusCode, 200)
    const doc = html(res)
    const summary = doc.querySelector('#summary')!.text
    t.match(summary, 'arn:aws:iam::111122223333:user/test-user was denied iam:PassRole on arn:aws:iam::111122223333:role/EC2_instance_Profile_role')
    t.match(summary, 'an implicit deny: no policy allowed it')
    t.match(summary, /Seen 4 times, first on 2025-03-01 10:00 UTC and last on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\./)
    const rows = Object.fromEntries(doc.querySelectorAll('#context tr').map(r => [r.querySelector('th')!.text, r.querySelector('td')!]))
    t.equal(rows.Principal!.text.trim(), 'arn:aws:iam::111122223333:user/test-user')
    t.equal(rows.Action!.querySelector('a')!.getAttribute('href'), '/denials?action=iam%3APassRole')
    t.equal(rows.Resource!.text.trim(), 'arn:aws:iam::111122223333:role/EC2_instance_Profile_role')
    t.equal(rows.Account!.text.trim(), '111122223333')
    t.equal(rows['Principal ID']!.text.trim(), 'AIDAEXAMPLEUSERID01')
    t.equal(doc.querySelector('h1 .badge')!.text, 'Implicit deny')
  })

  t.test('every condition value links to the list filtered by it', async t => {
    const doc = html(await app.inject({ url: `/denials/${passRole}` }))
    const rows = doc.querySelectorAll('#conditions tbody tr')
    t.equal(rows.length, 7)
    const region = rows.find(r => r.querySelector('td')!.text.trim() === 'aws:Region')!
    const link = region.querySelector('a.condition-value')!
    t.equal(link.text, 'us-east-2')
    t.equal(link.getAttribute('href'), '/denials?condition=aws%3ARegion%3Dus-east-2')
    t.equal(region.querySelector('td a')!.getAttribute('href'), '/denials?condition=aws%3ARegion', 'the key links to "key present"')
    const list = await app.inject({ url: link.getAttribute('href')! })
    t.ok(html(list).querySelectorAll('a.denial-link').some(a => a.getAttribute('href') === `/denials/${passRole}`), 'the filtered list holds this denial')
  })

  t.test('implicit deny: the suggested policy, checked against the request, and the PassRole hint', async t => {
    const doc = html(await app.inject({ url: `/denials/${passRole}` }))
    const policy = JSON.parse(doc.querySelector('#suggested-policy')!.text)
    t.equal(policy.Version, '2012-10-17')
    t.match(policy.Statement[0], { Effect: 'Allow', Action: 'iam:PassRole', Resource: 'arn:aws:iam::111122223333:role/EC2_instance_Profile_role' })
    t.match(policy.Statement[0].Condition, { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } })
    t.match(doc.querySelector('#policy-check')!.text, 'Matches this request')
    t.ok(doc.querySelector('#policy-check.check-ok'))
    const copy = doc.querySelector('button.copy-button[data-copy-target="suggested-policy"]')!
    t.ok(copy, 'a copy button (shown by the optional script)')
    t.ok(copy.hasAttribute('hidden'), 'hidden without JavaScript: the text can still be selected')
    const hints = doc.querySelectorAll('.hints .hint')
    t.ok(hints.length >= 1)
    t.ok(hints.every(h => h.querySelector('.hint-label')?.text === 'Hint'), 'each hint is labelled as a hint')
    t.match(texts(doc, '.hint').join(' '), /PassRole|dependent/i)
    t.match(doc.querySelector('#summary')!.text, 'an implicit deny: no policy allowed it')
    t.match(doc.querySelector('#explanation')!.text, 'no statement in the policies that apply allowed it')
  })

  t.test('explicit deny: the matched statement and what made it match; no Allow suggested', async t => {
    const id = denialIdFor(app, 'region-explicit-deny.json')
    const doc = html(await app.inject({ url: `/denials/${id}` }))
    t.equal(doc.querySelector('h1 .badge')!.text, 'Explicit deny')
    t.match(doc.querySelector('#summary')!.text, 'an explicit deny: a Deny statement matched')
    t.notOk(doc.querySelector('#suggested-policy'), 'no policy to copy')
    t.match(doc.querySelector('#change-deny')!.text, 'DenyOutsideApprovedRegions')
    const st = doc.querySelector('#statements .statement')!
    t.match(st.querySelector('h3')!.text, 'Sid "DenyOutsideApprovedRegions"')
    t.equal(st.querySelector('.badge')!.text, 'DENY')
    t.match(st.text, 'aws:RequestedRegion: us-east-1, us-east-2, eu-west-1')
    t.ok(st.querySelectorAll('.why-list li').some(li => li.text.includes('ap-southeast-2')), 'why it matched names the request value')
  })

  t.test('boundary statement: failures shown and the boundary/organization hint', async t => {
    const id = denialIdFor(app, 'boundary-deny-with-failure.json')
    const doc = html(await app.inject({ url: `/denials/${id}` }))
    t.ok(doc.querySelectorAll('#statements pre.failure').length >= 1, 'the failure is shown')
    t.ok(doc.querySelector('.hint[data-hint="boundary-or-org-policy"]'))
  })

  t.test('occurrences over time and the latest occurrences', async t => {
    const other = (await app.inject({ url: `/denials/${passRole}?format=json` })).json().similar.samePrincipalAction[0].id
    const odoc = html(await app.inject({ url: `/denials/${other}` }))
    const bars = odoc.querySelectorAll('#occurrences rect.chart-bar').map(b => b.querySelector('title')!.text)
    t.same(bars, ['2025-03-02: 2 occurrences', '2025-03-05: 1 occurrence'])
    t.match(odoc.querySelector('#occurrences svg')!.getAttribute('aria-label'), '3 occurrences from 2025-02-20 to 2025-03-05')
    // A long history is bucketed (here: by week), still adding up.
    const doc = html(await app.inject({ url: `/denials/${passRole}` }))
    const weekly = doc.querySelectorAll('#occurrences rect.chart-bar').map(b => b.querySelector('title')!.text)
    t.ok(weekly.every(w => w.startsWith('week of ')))
    t.equal(weekly.reduce((n, w) => n + Number(/: (\d+)/.exec(w)![1]), 0), 4)
    const rows = doc.querySelectorAll('#occurrences tbody tr')
    t.equal(rows.length, 4)
    t.ok(texts(doc, '#occurrences tbody td').includes('history.ndjson'))
  })

  t.test('similar denials: same principal and action; same action and resource', async t => {
    const doc = html(await app.inject({ url: `/denials/${passRole}` }))
    const tables = doc.querySelectorAll('#similar .denials-table')
    t.equal(tables.length, 2)
    t.same(texts(tables[0]!, 'td.arn').filter((_, i) => i % 2 === 1), ['arn:aws:iam::111122223333:role/Other_role'])
    t.same(texts(tables[1]!, 'td.arn').filter((_, i) => i % 2 === 0), ['arn:aws:iam::111122223333:user/someone-else'])
  })

  t.test('raw JSON, pretty-printed and copyable', async t => {
    const doc = html(await app.inject({ url: `/denials/${passRole}` }))
    const raw = doc.querySelector('#raw-json')!.text
    t.same(JSON.parse(raw), JSON.parse(seedMsg))
    t.match(raw, /\n {2}"explicitDeny": false/)
    t.ok(doc.querySelector('button[data-copy-target="raw-json"]'))
  })

  t.test('JSON twin: the whole record with the explanation and the suggested policy', async t => {
    const res = await app.inject({ url: `/denials/${passRole}?format=json` })
    t.equal(res.statusCode, 200)
    const j = res.json()
    const api = (await app.inject({ url: `/api/denials/${passRole}` })).json()
    t.equal(j.id, passRole)
    t.same(j.conditions, api.conditions)
    t.equal(j.raw, api.raw)
    t.equal(j.explanation.decision, 'implicit-deny')
    t.equal(j.explanation.fix.kind, 'allow')
    t.equal(j.explanation.fix.check.matches, true)
    t.match(j.explanation.fix.policyJson, '"iam:PassRole"')
    t.equal(j.similar.samePrincipalAction.length, 1)
    t.equal(j.similar.sameActionResource.length, 1)
    t.ok(Array.isArray(j.occurrencesPerDay))
  })

  t.test('an unknown id is a 404 page, a malformed one a 400 page; JSON asks get JSON', async t => {
    const missing = await app.inject({ url: '/denials/99999' })
    t.equal(missing.statusCode, 404)
    t.match(missing.headers['content-type'], /text\/html/)
    t.match(html(missing).querySelector('#error-message')!.text, 'No denial with id 99999')
    const bad = await app.inject({ url: '/denials/abc' })
    t.equal(bad.statusCode, 400)
    t.match(bad.headers['content-type'], /text\/html/)
    const json = await app.inject({ url: '/denials/99999?format=json' })
    t.equal(json.statusCode, 404)
    t.equal(json.json().code, 'WHYDENIED_DENIAL_NOT_FOUND')
  })
})
