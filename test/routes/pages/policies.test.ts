/** The policy pages and the denial page's "Which policy, and the fix" section, rendered in process; hostile documents stay text. */
import t from 'tap'
import { buildTestApp } from '../../helpers/build.js'
import { seedPolicyFixtures } from '../../helpers/policies.js'
import { importPolicies } from '../../../server/services/policies.js'
import { csrfFor, html, texts } from './support.js'

t.test('denial page: which policy, our verdict, the deciding statement highlighted, the fix as a diff', async t => {
  const app = await buildTestApp(t)
  const ids = await seedPolicyFixtures(app)
  const near = html(await app.inject({ url: `/denials/${ids['near-miss-condition']}` }))
  t.match(near.querySelector('#snapshot-taken')?.text, /Policy snapshot #1, taken 2026-11-25 00:00 UTC/)
  t.match(near.querySelector('#evaluation')?.text, /implicit-deny\s+agrees with the message/)
  t.match(near.querySelector('#nearest')?.text, /DeployEc2 statement "AllowRunInstancesInEu": missing condition:aws:RequestedRegion/)
  t.equal(near.querySelector('#fix-verified')?.text, 'verified')
  t.same(texts(near, '#fix-diff .diff-add').map(s => s.trim()), ['+ "aws:RequestedRegion": [', '+ "eu-west-1",', '+ "eu-central-1"', '+ ]'])
  t.same(texts(near, '#fix-diff .diff-del').map(s => s.trim()), ['- "aws:RequestedRegion": "eu-west-1"'])
  t.ok(near.querySelector('#what-if-form textarea[name="document"]')?.text.includes('eu-central-1'), 'the what-if form starts from the fix')

  const inline = html(await app.inject({ url: `/denials/${ids['inline-explicit-deny']}` }))
  t.match(inline.querySelector('.deciding-h')?.text, /Deciding: identity alice-inline, statement "DenyTerminate"/)
  t.equal(inline.querySelectorAll('.stmt-deciding').length, 1)
  t.match(inline.querySelector('.stmt-deciding')?.text, /Sid "DenyTerminate"\s+deciding statement/)

  const amb = html(await app.inject({ url: `/denials/${ids['ambiguous-sid']}` }))
  t.match(amb.querySelector('.sid-ambiguous')?.text, /ambiguous: 2 policies hold it/)
  const none = html(await app.inject({ url: `/denials/${ids['sid-not-in-snapshot']}` }))
  t.match(none.querySelector('.sid-none')?.text, /in no policy of the snapshot/)
  t.match(none.querySelector('.disagrees')?.text, /disagrees with the message \(explicit-deny\)/)

  const json = (await app.inject({ url: `/denials/${ids['near-miss-condition']}?format=json` })).json()
  t.equal(json.policies.fix.kind, 'edit-statement')
  t.notOk('policyIds' in json.policies)
})

t.test('denial page without a snapshot says how to export one', async t => {
  const app = await buildTestApp(t)
  const ids = await seedPolicyFixtures(app, false)
  const page = html(await app.inject({ url: `/denials/${ids['near-miss-condition']}` }))
  t.match(page.querySelector('#no-snapshot')?.text, /No policy snapshot covers this account yet/)
  t.match(page.querySelector('#policies pre')?.text, /aws iam get-account-authorization-details/)
  const list = html(await app.inject({ url: '/policies' }))
  t.ok(list.querySelector('#no-policies'))
})

t.test('/policies and /policies/:id: counts, links, statements marked', async t => {
  const app = await buildTestApp(t)
  const ids = await seedPolicyFixtures(app)
  const list = html(await app.inject({ url: '/policies' }))
  const rows = list.querySelectorAll('#policies-table tbody tr')
  t.equal(rows.length, 12)
  const deploy = rows.find(r => r.text.includes('policy/DeployEc2'))!
  t.match(deploy.text, new RegExp(`#${ids['near-miss-condition']}`))
  const href = deploy.querySelector('a')!.getAttribute('href')!
  const page = html(await app.inject({ url: href }))
  t.match(page.querySelector('.stmt-near')?.text, new RegExp(`Sid "AllowRunInstancesInEu"\\s+nearly allowed denial #${ids['near-miss-condition']}`))
  t.match(page.text, /Version in force\s*v3/)
  t.equal((await app.inject({ url: '/policies/999' })).statusCode, 404)
})

t.test('what-if form: works without JavaScript (form POST with CSRF); bad documents answer 400 with the reason', async t => {
  const app = await buildTestApp(t)
  const ids = await seedPolicyFixtures(app)
  const url = `/denials/${ids['near-miss-condition']}`
  const { token, cookie } = await csrfFor(app, url)
  const post = (document: string, policy = 'arn:aws:iam::111122223333:policy/DeployEc2') => app.inject({
    method: 'POST', url: `${url}/what-if`, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: token, policy, document }).toString()
  })
  const ok = await post(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:RunInstances', Resource: '*' }] }))
  t.equal(ok.statusCode, 200)
  t.equal(html(ok).querySelector('#what-if-decision')?.text, 'allowed')
  const bad = await post('{"Statement": [{"Effect": "<img src=x onerror=alert(1)>"}]}')
  t.equal(bad.statusCode, 400)
  t.match(html(bad).querySelector('#what-if-error')?.text, /document\.Statement\[0\]\.Effect/)
  t.notMatch(bad.body, /<img src=x/, 'the hostile value is escaped')
  const noCsrf = await app.inject({ method: 'POST', url: `${url}/what-if`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'policy=x&document=%7B%7D' })
  t.equal(noCsrf.statusCode, 403)
})

t.test('hostile policy text is escaped on every page', async t => {
  const app = await buildTestApp(t)
  const ids = await seedPolicyFixtures(app)
  const evil = '<script>alert(1)</script>{{constructor}}'
  const doc = { Version: '2012-10-17', Statement: [{ Sid: evil, Effect: 'Deny', Action: 'ec2:TerminateInstances', Resource: '*' }] }
  importPolicies(app.repos, [{ source: 'evil.json', text: JSON.stringify({ UserDetailList: [{ UserName: 'alice', Path: '/engineering/', Arn: 'arn:aws:iam::111122223333:user/engineering/alice', UserPolicyList: [{ PolicyName: evil, PolicyDocument: doc }] }] }) }], { accounts: [], takenAt: '2026-11-26T00:00:00Z', resource: null })
  for (const url of ['/policies', `/denials/${ids['inline-explicit-deny']}`]) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, url)
    t.notMatch(res.body, /<script>alert/, url)
    t.match(res.body, /&lt;script&gt;alert\(1\)&lt;/, url)
  }
  const list = html(await app.inject({ url: '/policies' }))
  const href = list.querySelector('#policies-table a')!.getAttribute('href')!
  const page = await app.inject({ url: href })
  t.notMatch(page.body, /<script>alert/)
})
