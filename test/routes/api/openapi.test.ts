/** GET /api/openapi.json: a valid OpenAPI 3.1 document, generated from the route schemas, that describes every /api/ route (issue 13 §15). */
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Value } from '../../../server/util/typebox.js'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, DECODED_FIXTURES } from '../../helpers/build.js'
import { reportFor } from '../../../server/reports/query.js'

/** Every route of the app as [METHOD, URL] pairs, from Fastify's own route tree (printRoutes). */
function routesOf (app: FastifyInstance): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const stack: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)(?:├── |└── )(\S+) \(([^)]*)\)$/.exec(line)
    if (!m) continue
    const depth = m[1]!.length / 4
    stack[depth] = (depth > 0 ? stack[depth - 1]! : '') + m[2]!
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push([method, stack[depth]!])
  }
  return out
}

const openapiPath = (url: string): string => url.replace(/:(\w+)/g, '{$1}')

/** The pages with a `?format=json` twin (issue 13 §15). */
const TWINS: Array<[string, string]> = [['GET', '/'], ['GET', '/denials'], ['GET', '/denials/:id'], ['GET', '/import'], ['POST', '/import'], ['POST', '/import/decode'], ['GET', '/reports']]

t.test('the document is valid OpenAPI 3.1 and lists every /api/ route and the pages\' JSON twins, and nothing else', async t => {
  const app = await buildTestApp(t)
  const res = await app.inject({ url: '/api/openapi.json' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const doc = res.json()
  t.equal(doc.openapi, '3.1.0')
  const result = await new Validator().validate(doc)
  t.ok(result.valid, `valid: ${JSON.stringify(result.errors ?? null).slice(0, 2000)}`)

  const api = routesOf(app).filter(([, url]) => url.startsWith('/api/'))
  t.ok(api.length >= 7, `${api.length} API routes found`)
  for (const [method, url] of api) {
    const op = doc.paths[openapiPath(url)]?.[method.toLowerCase()]
    t.ok(op, `${method} ${url} is described`)
    t.ok(op?.summary, `${method} ${url} has a summary`)
    t.ok(op?.tags?.length > 0, `${method} ${url} has tags`)
    t.ok(op?.responses?.['200']?.content?.['application/json']?.schema, `${method} ${url} describes its 200 answer`)
  }
  for (const [method, url] of TWINS) {
    const op = doc.paths[openapiPath(url)]?.[method.toLowerCase()]
    t.ok(op?.responses?.['200']?.content?.['application/json']?.schema, `the JSON twin of ${method} ${url} describes its 200 answer`)
    t.same(op?.tags, ['pages'], `${method} ${url} is tagged pages`)
    t.match(op?.summary, /\?format=json/, `${method} ${url} says how to ask for it`)
  }
  const described = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map(m => `${m.toUpperCase()} ${p}`))
  t.same(described.sort(), [...api, ...TWINS].map(([m, u]) => `${m} ${openapiPath(u)}`).sort(), 'other pages and /sts are not in it')
  t.ok(doc.paths['/api/denials/{id}'].get.responses['404'], 'the 404 of a denial is described')
})

t.test('the response schemas added for /api/denials/:id and /api/reports drop nothing', async t => {
  const app = await buildTestApp(t)
  const imp = await app.inject({ method: 'POST', url: '/api/imports', payload: readFileSync(path.join(DECODED_FIXTURES, 'seed-passrole.json')), headers: { 'content-type': 'application/json' } })
  t.equal(imp.json().imported, 1)
  const id = (await app.inject({ url: '/api/denials' })).json().items[0].id as number
  const { policies, ...served } = (await app.inject({ url: `/api/denials/${id}` })).json()
  t.same(served, JSON.parse(JSON.stringify(app.repos.denials.get(id))), 'every field of the record, as before')
  t.same(policies, { snapshot: null, statements: [], evaluation: null, fix: null }, 'and what the policy snapshot says (none here)')
  t.ok(served.principal.arn && served.statements && served.raw, 'nested parts kept')
  t.equal((await app.inject({ url: '/api/denials/999999' })).json().code, 'WHYDENIED_DENIAL_NOT_FOUND')

  const q = { since: '2020-01-01', until: '2029-01-01' }
  const report = (await app.inject({ url: '/api/reports?since=2020-01-01&until=2029-01-01' })).json()
  const model = JSON.parse(JSON.stringify(reportFor(app.repos.reports, null, q)))
  delete report.generatedAt
  delete model.generatedAt
  t.same(report, model, 'the whole report model, as `whydenied report --format json` gives it')
  t.ok(report.teams.length > 0)
})

t.test('every JSON twin answers what its schema says, and the schema drops nothing', async t => {
  const app = await buildTestApp(t)
  const seed = readFileSync(path.join(DECODED_FIXTURES, 'seed-passrole.json'), 'utf8')
  t.equal((await app.inject({ method: 'POST', url: '/api/imports', payload: seed, headers: { 'content-type': 'application/json' } })).json().imported, 1)
  const id = (await app.inject({ url: '/api/denials' })).json().items[0].id as number
  const doc = (await app.inject({ url: '/api/openapi.json' })).json()
  const page = await app.inject({ url: '/import' })
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? ''
  const cookie = String(page.headers['set-cookie'] ?? '').split(';')[0]!
  const form = (fields: Record<string, string>): { payload: string, headers: Record<string, string> } => {
    const b = 'twin-boundary'
    const parts = Object.entries({ _csrf: csrf, ...fields }).map(([k, v]) => `--${b}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
    return { payload: parts.join('') + `--${b}--\r\n`, headers: { 'content-type': `multipart/form-data; boundary=${b}`, cookie } }
  }
  const token = (await app.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: seed, headers: { 'content-type': 'application/json' } })).json().EncodedMessage as string
  t.ok(token, 'a token minted by the mock, to decode')
  const answers: Array<[string, string, () => Promise<{ statusCode: number, body: string }>]> = [
    ['GET', '/', async () => await app.inject({ url: '/?format=json&period=all' })],
    ['GET', '/denials', async () => await app.inject({ url: '/denials?format=json&condition=aws:Region' })],
    ['GET', '/denials/:id', async () => await app.inject({ url: `/denials/${id}?format=json` })],
    ['GET', '/import', async () => await app.inject({ url: '/import?format=json' })],
    ['POST', '/import', async () => await app.inject({ method: 'POST', url: '/import?format=json', ...form({ text: seed }) })],
    ['POST', '/import/decode', async () => await app.inject({ method: 'POST', url: '/import/decode?format=json', ...form({ text: `Encoded authorization failure message: ${token}` }) })],
    ['GET', '/reports', async () => await app.inject({ url: '/reports?format=json&since=2020-01-01&until=2029-01-01' })]
  ]
  for (const [method, url, ask] of answers) {
    const res = await ask()
    t.equal(res.statusCode, 200, `${method} ${url}: ${res.body.slice(0, 300)}`)
    const body = JSON.parse(res.body)
    const schema = doc.paths[openapiPath(url)][method.toLowerCase()].responses['200'].content['application/json'].schema
    t.ok(Value.Check(schema, body), `${method} ${url} answers what its schema says: ${JSON.stringify([...Value.Errors(schema, body)].slice(0, 3))}`)
    t.notOk(Value.Check(schema, { ...body, [Object.keys(body)[0] ?? 'x']: { not: 'this' } }), `${method} ${url}: the check is real (a wrong field fails it)`)
  }
  // Twins are serialized as they are, not through the schema: the denial twin keeps every field of the record.
  const twin = (await app.inject({ url: `/denials/${id}?format=json` })).json()
  const { policies, ...record } = (await app.inject({ url: `/api/denials/${id}` })).json()
  t.same({ ...twin, explanation: undefined, similar: undefined, occurrencesPerDay: undefined, policies: undefined }, { ...record, explanation: undefined, similar: undefined, occurrencesPerDay: undefined, policies: undefined }, 'the record as the API gives it')
  t.ok(twin.explanation.summary && twin.policies, 'and the page\'s own parts')
})
