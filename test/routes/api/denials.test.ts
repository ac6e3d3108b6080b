import t, { type Test } from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { buildTestApp, DECODED_FIXTURES } from '../../helpers/build.js'

const fixtures = readdirSync(DECODED_FIXTURES).sort()
const envelope = (f: string, observedAt: string): string => JSON.stringify({ ...JSON.parse(readFileSync(path.join(DECODED_FIXTURES, f), 'utf8')), observedAt })
// Each fixture observed once a day, in file order; the seed PassRole message twice more.
const body = fixtures.map((f, i) => envelope(f, `2026-11-${String(i + 1).padStart(2, '0')}T12:00:00Z`)).join('\n') + '\n' +
  envelope('seed-passrole.json', '2026-11-20T08:00:00Z') + '\n' + envelope('seed-passrole.json', '2026-11-21T08:00:00Z') + '\n'

async function seeded (t: Test) {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/api/imports', headers: { 'content-type': 'application/x-ndjson' }, payload: body })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { imported: 11, duplicates: 0, skipped: 0, rejected: [], rejectedCount: 0, rejectedReasons: {} })
  return app
}
type Item = { id: number, action: string, principalArn: string, resource: string, occurrences: number, decision: string, lastSeen: string, firstSeen: string, region: string | null, service: string | null }
const search = async (app: Awaited<ReturnType<typeof seeded>>, qs: string) => {
  const res = await app.inject({ url: `/api/denials?${qs}` })
  t.equal(res.statusCode, 200, qs)
  return res.json() as { total: number, items: Item[], nextCursor: string | null, facets: Record<string, Array<{ value: string, count: number }>> }
}

t.test('the answer has the documented shape', async t => {
  const app = await seeded(t)
  const r = await search(app, '')
  t.equal(r.total, 9)
  t.same(Object.keys(r.items[0]!).sort(), ['action', 'decision', 'firstSeen', 'id', 'kind', 'lastSeen', 'occurrences', 'policyArn', 'policyType', 'principalArn', 'region', 'resource', 'service'])
  t.same(Object.keys(r.facets).sort(), ['account', 'action', 'conditionKey', 'decision', 'kind', 'policyType', 'principal', 'service'])
  t.equal(r.items[0]!.action, 'iam:PassRole', 'newest first')
  t.equal(r.items[0]!.occurrences, 3)
  t.equal(r.items[0]!.firstSeen, '2026-11-08T12:00:00.000Z')
  t.equal(r.items[0]!.lastSeen, '2026-11-21T08:00:00.000Z')
})

t.test('the issue\'s example: aws:Region=us-east-2 and iam:PassRole', async t => {
  const app = await seeded(t)
  const r = await search(app, 'condition=aws:Region%3Dus-east-2&action=iam:PassRole')
  t.same(r.items.map(i => i.action), ['iam:PassRole'])
  t.equal((await search(app, 'condition=aws:Region%3Dus-east-1&action=iam:PassRole')).total, 0)
  t.equal((await search(app, 'condition=AWS:REGION%3Dus-east-2')).total, 1, 'condition keys compare case-insensitively')
})

t.test('every filter, alone and combined', async t => {
  const app = await seeded(t)
  const actions = async (qs: string) => (await search(app, qs)).items.map(i => i.action).sort()
  t.same(await actions('action=ec2:*'), ['ec2:CreateVolume', 'ec2:DescribeInstances', 'ec2:RunInstances', 'ec2:RunInstances'])
  t.same(await actions('action=EC2:runinstances'), ['ec2:RunInstances', 'ec2:RunInstances'], 'actions compare case-insensitively')
  t.same(await actions('service=kms'), ['kms:Decrypt'])
  t.same(await actions('principal=arn:aws:iam::111122223333:role/platform-*'), ['ec2:RunInstances', 'iam:CreateRole'], 'glob matches role ARN of sessions')
  t.same(await actions('principal=arn:aws:iam::111122223333:role/platform-deployer'), ['ec2:RunInstances'], 'exact role ARN matches its sessions')
  t.same(await actions('principal=arn:aws:sts::111122223333:assumed-role/platform-deployer/ci-deploy-4711'), ['ec2:RunInstances'])
  t.same(await actions('account=444455556666'), ['s3:PutBucketPolicy'])
  t.same(await actions('resource=arn:aws:ec2:*:instance/*'), ['ec2:RunInstances', 'ec2:RunInstances'])
  t.same(await actions('resource=arn:aws:s3:::*'), ['s3:GetObject', 's3:PutBucketPolicy'])
  t.same(await actions('decision=explicit-deny'), ['ec2:RunInstances', 'iam:CreateRole', 's3:PutBucketPolicy'])
  t.same(await actions('condition=kms:ViaService'), ['kms:Decrypt'], 'key present')
  t.same(await actions('condition=ec2:ResourceTag/team%3Dshared'), ['ec2:RunInstances'], 'second value of a multi-value key')
  t.same(await actions('condition=ec2:SecurityGroupIds%3D["sg-0123456789abcdef0","sg-0fedcba9876543210"]'), ['ec2:RunInstances'], 'JSON-text value')
  t.same(await actions('condition=aws:Service%3Dec2&condition=aws:Type%3Dvolume'), ['ec2:CreateVolume'], 'repeatable, AND')
  t.same(await actions('since=2026-11-08&until=2026-11-08'), ['iam:PassRole'], 'a day, over occurrences')
  t.same(await actions('since=2026-11-20'), ['iam:PassRole'])
  t.same(await actions('until=2026-11-02'), ['ec2:RunInstances', 'iam:CreateRole'])
  t.same(await actions('q=PLATFORM-DEPLOYER'), ['ec2:RunInstances'], 'q: case-insensitive substring of an ARN')
  t.same(await actions('q=billing'), ['kms:Decrypt'], 'q: condition value')
  t.same(await actions('q=zz'), [], 'q shorter than 3 characters works (no trigram index)')
  t.same(await actions('q=Bo'), ['ec2:RunInstances', 'iam:CreateRole'], 'short q: user/bob and policy/boundary-missing')
  t.same(await actions('q=cc-1042&decision=implicit-deny&service=ec2'), ['ec2:RunInstances'])
  t.same(await actions('q=%27;%20DROP'), ['s3:GetObject'], 'q with quotes and SQL is data')
  t.same(await actions("resource=arn:aws:s3:::bucket/'; DROP TABLE denials; --"), ['s3:GetObject'])
  t.equal((await search(app, '')).total, 9, 'nothing was dropped')
})

t.test('facets count under the current filters', async t => {
  const app = await seeded(t)
  const all = await search(app, '')
  t.same(all.facets.decision, [{ value: 'implicit-deny', count: 6 }, { value: 'explicit-deny', count: 3 }])
  t.same(all.facets.account![0], { value: '111122223333', count: 8 })
  t.same(all.facets.conditionKey![0], { value: 'aws:Service', count: 8 })
  t.ok(all.facets.principal!.some(p => p.value === 'arn:aws:iam::111122223333:role/platform-deployer'), 'sessions facet under their role')
  const everything = await search(app, 'since=2000-01-01')
  t.same(everything.facets, all.facets, 'a filter that keeps every denial counts exactly as the unfiltered facets do')
  const ec2 = await search(app, 'service=ec2')
  t.same(ec2.facets.service, [{ value: 'ec2', count: 4 }])
  t.same(ec2.facets.conditionKey!.find(c => c.value === 'ec2:InstanceType'), { value: 'ec2:InstanceType', count: 2 })
})

t.test('keyset pagination, by last seen and by occurrences', async t => {
  const app = await seeded(t)
  for (const sort of ['lastSeen', 'occurrences']) {
    const seen: number[] = []
    let cursor = ''
    let pages = 0
    do {
      const r = await search(app, `limit=4&sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`)
      seen.push(...r.items.map(i => i.id))
      cursor = r.nextCursor ?? ''
      pages++
    } while (cursor)
    t.equal(pages, 3, `${sort}: 3 pages`)
    t.equal(new Set(seen).size, 9, `${sort}: every denial once`)
  }
  const byOcc = await search(app, 'sort=occurrences&limit=1')
  t.equal(byOcc.items[0]!.occurrences, 3)
  const bad = await app.inject({ url: '/api/denials?cursor=nonsense' })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().code, 'WHYDENIED_BAD_CURSOR')
  const wrongSort = await search(app, 'limit=2')
  t.equal((await app.inject({ url: `/api/denials?sort=occurrences&cursor=${wrongSort.nextCursor}` })).statusCode, 400)
})

t.test('bad filters are 400 with the field named', async t => {
  const app = await seeded(t)
  const cases: Array<[string, RegExp]> = [
    ['decision=maybe', /decision/],
    ['limit=0', /limit/],
    ['limit=501', /limit/],
    ['since=last%20tuesday', /since: "last tuesday" is not a date/],
    ['condition=%3Dvalue', /needs a key/]
  ]
  for (const [qs, re] of cases) {
    const res = await app.inject({ url: `/api/denials?${qs}` })
    t.equal(res.statusCode, 400, qs)
    t.match(res.json(), { statusCode: 400, error: 'Bad Request', message: re })
  }
})

t.test('GET /api/denials/:id: the whole record', async t => {
  const app = await seeded(t)
  const id = (await search(app, 'action=s3:PutBucketPolicy')).items[0]!.id
  const res = await app.inject({ url: `/api/denials/${id}` })
  t.equal(res.statusCode, 200)
  const d = res.json()
  t.equal(d.decision, 'explicit-deny')
  t.match(d.principal, { roleArn: 'arn:aws:iam::444455556666:role/data-analyst', sessionName: 'alice', account: '444455556666', type: 'assumed-role' })
  t.same(d.statements[0].principals, ['SCOPE_POLICY_ISSUER'])
  t.same(d.conditions.find((c: { key: string }) => c.key === 'aws:SecureTransport'), { key: 'aws:SecureTransport', values: ['true'] })
  t.equal(d.occurrenceList.length, 1)
  t.match(d.occurrenceList[0], { observedAt: '2026-11-07T12:00:00.000Z', source: 'api', line: 7 })
  t.equal(d.raw, JSON.parse(readFileSync(path.join(DECODED_FIXTURES, 'scp-explicit-deny.json'), 'utf8')).DecodedMessage)
  t.equal((await app.inject({ url: '/api/denials/999999' })).statusCode, 404)
  t.equal((await app.inject({ url: '/api/denials/abc' })).statusCode, 400)
})
