/** Team reports count decoded and text denials together, and can be restricted to one kind (buildReport, GET /api/reports, the report page's form). */
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { readTextRecords } from '../../server/ingest/index.js'
import { buildReport, EMPTY_TEAMS, resolvePeriod } from '../../server/reports/index.js'
import { buildTestApp, DECODED_FIXTURES } from '../helpers/build.js'
import { TEXT_FIXTURES } from '../helpers/cloudtrail.js'

t.test('both kinds together, or one', async t => {
  const app = await buildTestApp(t)
  await app.repos.importer.run(readTextRecords(readFileSync(path.join(DECODED_FIXTURES, 'kms-decrypt.json')), 'kms.json'))
  await app.repos.importer.run(readTextRecords(readFileSync(path.join(TEXT_FIXTURES, 'messages.log')), 'messages.log'))
  const period = resolvePeriod('30d', undefined)
  const occurrences = (kind: 'decoded' | 'text' | null): number => buildReport(app.repos.reports, { period, teams: EMPTY_TEAMS, kind }).totals.occurrences
  t.equal(occurrences(null), 19, 'one decoded and 18 text occurrences, counted together')
  t.equal(occurrences('decoded'), 1)
  t.equal(occurrences('text'), 18)
  const text = buildReport(app.repos.reports, { period, teams: EMPTY_TEAMS, kind: 'text' })
  t.match(text.title, /access-denied text only/)
  t.equal(text.kind, 'text')

  const api = await app.inject({ url: '/api/reports?kind=decoded' })
  t.equal(api.statusCode, 200)
  t.equal(api.json().totals.occurrences, 1)
  t.equal((await app.inject({ url: '/api/reports?kind=other' })).statusCode, 400)
  const page = await app.inject({ url: '/reports?kind=text' })
  t.match(page.body, /<option value="text" selected>Access-denied text only<\/option>/)
  t.match(page.body, /href="\/reports\/download\?[^"]*kind(?:=|&#x3D;)text/, 'the downloads keep the restriction')
})
