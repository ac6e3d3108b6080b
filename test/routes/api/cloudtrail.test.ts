/** The API on CloudTrail and text: POST /api/imports (text/plain, JSON, a .json.gz upload), kind and policy fields, filters and facets, the source events of a denial. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { buildTestApp, tempDir } from '../../helpers/build.js'
import { CLOUDTRAIL_FIXTURES, TEXT_FIXTURES, writeCloudTrailTree } from '../../helpers/cloudtrail.js'
import { html, texts } from '../pages/support.js'

function multipartGz (name: string, content: Buffer): { payload: Buffer, headers: Record<string, string> } {
  const boundary = '----whydenied' + Math.random().toString(16).slice(2)
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${name}"\r\nContent-Type: application/gzip\r\n\r\n`)
  return { payload: Buffer.concat([head, content, Buffer.from(`\r\n--${boundary}--\r\n`)]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

t.test('text/plain, a lookup-events body and a delivered .json.gz upload; then search by kind and policy', async t => {
  const app = await buildTestApp(t)
  const text = await app.inject({ method: 'POST', url: '/api/imports?source=chat', headers: { 'content-type': 'text/plain' }, payload: readFileSync(path.join(TEXT_FIXTURES, 'messages.log')) })
  t.equal(text.statusCode, 200)
  t.match(text.json(), { imported: 18, duplicates: 0, skipped: 0, rejectedCount: 1 })
  const lookup = await app.inject({ method: 'POST', url: '/api/imports', headers: { 'content-type': 'application/json' }, payload: readFileSync(path.join(CLOUDTRAIL_FIXTURES, 'lookup-events.json')) })
  t.match(lookup.json(), { imported: 4, duplicates: 0, skipped: 1, rejectedCount: 0 })
  const tree = writeCloudTrailTree(tempDir(t))
  const { payload, headers } = multipartGz(path.basename(tree.logFile), readFileSync(tree.logFile))
  const gz = await app.inject({ method: 'POST', url: '/api/imports', headers, payload })
  t.match(gz.json(), { imported: 5, duplicates: 3, skipped: 4, rejectedCount: 0 }, 'the events also in lookup-events are duplicates')

  // Every list of past imports gives what each skipped: the JSON twins (the API's listing) and the pages.
  const listed = [{ source: path.basename(tree.logFile), imported: 5, duplicates: 3, skipped: 4 }, { source: 'api', imported: 4, skipped: 1 }, { source: 'chat', imported: 18, skipped: 0 }]
  t.match((await app.inject({ url: '/import?format=json' })).json().latestImports, listed, 'the Import page\'s twin')
  t.match((await app.inject({ url: '/?format=json&period=all' })).json().latestImports, listed, 'the dashboard\'s twin')
  for (const url of ['/import', '/?period=all']) {
    t.same(texts(html(await app.inject({ url })), '.imports-table td[data-label="Skipped"]'), ['4', '1', '0'], `${url}: the Skipped column`)
  }

  const search = async (qs: string): Promise<{ total: number, items: Array<Record<string, unknown>>, facets: Record<string, Array<{ value: string, count: number }>> }> =>
    (await app.inject({ url: `/api/denials?${qs}` })).json()
  const all = await search('limit=500')
  const kinds = Object.fromEntries(all.facets.kind!.map(f => [f.value, f.count]))
  t.same(kinds, { text: all.total }, 'every denial here is text')
  t.ok(all.facets.policyType!.some(f => f.value === 'scp' && f.count >= 2), 'a policy type facet')
  const scp = await search('policyType=scp')
  t.ok(scp.items.every(i => i.policyType === 'scp' && i.kind === 'text'))
  const byArn = await search(`policyArn=${encodeURIComponent('arn:aws:organizations::999988887777:policy/*')}`)
  t.equal(byArn.total, 2, 'a glob over the policy ARN: the pasted message and the DynamoDB event')
  t.same(byArn.items.map(i => i.policyArn), ['arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-a1b2c3d4', 'arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-a1b2c3d4'])
  t.equal((await search('kind=decoded')).total, 0)
  t.equal((await app.inject({ url: '/api/denials?kind=other' })).statusCode, 400, 'a kind that does not exist')
  t.equal((await search(`condition=${encodeURIComponent('aws:SourceIp=198.51.100.66')}`)).total, 1, 'the source IP is searchable')
  t.equal((await search('q=Boto3/1.35')).total, 2, 'and the user agent')

  const ec2 = await search('action=ec2:RunInstances')
  const detail = (await app.inject({ url: `/api/denials/${String(ec2.items.find(i => i.principalArn === 'arn:aws:iam::111122223333:user/bob')!.id)}` })).json()
  t.match(detail, {
    kind: 'text',
    encodedMessage: 'pending',
    events: [{ eventId: '5f1c0000-0000-4000-8000-000000000007', eventTime: '2026-11-28T10:05:00.000Z', sourceIp: '203.0.113.10', userAgent: /^aws-cli/, encodedMessage: 'pending' }],
    firstSeen: '2026-11-28T10:05:00.000Z'
  })
  const truncated = await search('action=ec2:CreateTags')
  t.match((await app.inject({ url: `/api/denials/${String(truncated.items[0]!.id)}` })).json(), { encodedMessage: 'truncated' })
})
