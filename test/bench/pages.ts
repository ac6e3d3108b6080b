/**
 * Benchmark child: every page and JSON endpoint on a populated database, through the real app
 * (routing, validation, queries, templates), warm: one warm-up, then 20 timed requests each.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { buildApp } from '../../server/app.js'
import { loadConfig } from '../../server/config.js'
import { openDatabase } from '../../server/db/connection.js'

const [dbPath, end] = process.argv.slice(2)
if (!dbPath || !end) throw new Error('usage: pages DB END-DATE')
const teamsFile = [path.resolve(import.meta.dirname, '../../fixtures/teams.yaml'), path.resolve(import.meta.dirname, '../../../fixtures/teams.yaml')].find(f => existsSync(f))!

// Open (and migrate) once before timing anything: a migration is not a page view.
const setup = openDatabase(dbPath)
const denials = setup.prepare('SELECT count(*) FROM denials').pluck().get() as number
const occurrences = setup.prepare('SELECT count(*) FROM occurrences').pluck().get() as number
// A denial page for the most recurring denial (the most occurrences to show) and for a typical one.
const top = setup.prepare('SELECT id FROM denials ORDER BY occurrences DESC LIMIT 1').pluck().get() as number
const typical = setup.prepare('SELECT id FROM denials WHERE id >= (SELECT max(id) / 2 FROM denials) ORDER BY id LIMIT 1').pluck().get() as number
setup.close()

const app = await buildApp(loadConfig({ dbPath, teamsFile, logLevel: 'silent' }, {}))
const period = `since=30d&until=${end}`
const cases: Array<{ name: string, url: string, target?: number }> = [
  { name: 'dashboard, 7 days', url: '/?period=7d' },
  { name: 'dashboard, 30 days', url: '/' },
  { name: 'dashboard, 90 days', url: '/?period=90d' },
  { name: 'dashboard, all time', url: '/?period=all' },
  { name: 'dashboard JSON, 30 days', url: '/?format=json' },
  { name: 'list with facets, no filter', url: '/denials' },
  { name: 'list, action filter', url: '/denials?action=kms:*' },
  { name: 'list, one condition', url: '/denials?condition=aws:Region%3Deu-west-1' },
  { name: 'list, action glob + since 30 days', url: '/denials?action=kms:*&since=30d' },
  { name: 'list, condition + principal glob + since', url: '/denials?condition=aws:Region%3Deu-west-1&principal=arn:aws:iam::111122223333:role/data-*&since=30d' },
  { name: 'list, q substring', url: '/denials?q=ml-training' },
  { name: 'list, sorted by occurrences', url: '/denials?sort=occurrences' },
  { name: 'API list with facets, no filter', url: '/api/denials' },
  { name: 'API list, no facets', url: '/api/denials?facets=false' },
  { name: 'API list, service + decision + since 7d', url: '/api/denials?service=s3&decision=implicit-deny&since=7d' },
  { name: 'denial page, most recurring denial', url: `/denials/${top}` },
  { name: 'denial page, typical denial', url: `/denials/${typical}` },
  { name: 'API denial, most recurring', url: `/api/denials/${top}` },
  { name: 'reports page, one team', url: `/reports?team=platform&${period}` },
  { name: 'API report, one team', url: `/api/reports?team=platform&${period}` },
  { name: 'full team report (HTML download)', url: `/reports/download?team=platform&${period}&format=html`, target: 1000 }
]

function percentile (xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!
}

const results: Array<{ name: string, median: number, p95: number, target: number }> = []
for (const c of cases) {
  const times: number[] = []
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now()
    const res = await app.inject({ url: c.url })
    if (res.statusCode !== 200) throw new Error(`${c.url}: ${res.statusCode} ${res.body.slice(0, 300)}`)
    if (i > 0) times.push(performance.now() - t0)
  }
  results.push({ name: c.name, median: percentile(times, 50), p95: percentile(times, 95), target: c.target ?? 200 })
  process.stderr.write(`  ${c.name}: p95 ${percentile(times, 95).toFixed(0)} ms\n`)
}
await app.close()
process.stdout.write(JSON.stringify({ denials, occurrences, results }) + '\n')
