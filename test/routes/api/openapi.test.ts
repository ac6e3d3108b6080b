/** GET /api/openapi.json: a valid OpenAPI 3.1 document, generated from the route schemas, that describes every /api/ route (issue 13 §15). */
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { Validator } from '@seriousme/openapi-schema-validator'
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

t.test('the document is valid OpenAPI 3.1 and lists every /api/ route, and nothing else', async t => {
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
  const described = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map(m => `${m.toUpperCase()} ${p}`))
  t.same(described.sort(), api.map(([m, u]) => `${m} ${openapiPath(u)}`).sort(), 'pages and /sts are not in it')
  t.ok(doc.paths['/api/denials/{id}'].get.responses['404'], 'the 404 of a denial is described')
})

t.test('the response schemas added for /api/denials/:id and /api/reports drop nothing', async t => {
  const app = await buildTestApp(t)
  const imp = await app.inject({ method: 'POST', url: '/api/imports', payload: readFileSync(path.join(DECODED_FIXTURES, 'seed-passrole.json')), headers: { 'content-type': 'application/json' } })
  t.equal(imp.json().imported, 1)
  const id = (await app.inject({ url: '/api/denials' })).json().items[0].id as number
  const served = (await app.inject({ url: `/api/denials/${id}` })).json()
  t.same(served, JSON.parse(JSON.stringify(app.repos.denials.get(id))), 'every field of the record, as before')
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
