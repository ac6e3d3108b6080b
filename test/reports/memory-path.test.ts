/** The server's in-memory report path gives the same groups and the same reports as the SQL path, for every shape of report, as denials and occurrences are added, moved, deleted and their ids reused. */
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { readTextRecords } from '../../server/ingest/index.js'
import { openDatabase, type DB } from '../../server/db/connection.js'
import { repositoriesOn } from '../../server/db/index.js'
import { FacetColumns } from '../../server/db/repositories/facet-columns.js'
import { OccurrenceTimes } from '../../server/db/repositories/occurrence-times.js'
import { ReportsRepository, type GroupScan, type ReportWindow } from '../../server/db/repositories/reports.js'
import { buildReport, EMPTY_TEAMS, render, resolvePeriod } from '../../server/reports/index.js'
import { daysOf, type Period } from '../../server/reports/period.js'
import { parseTeams, teamOf, type TeamsConfig } from '../../server/reports/teams.js'
import { Importer } from '../../server/services/importer.js'
import { generate } from '../../fixtures/generate.js'
import { tempDir } from '../helpers/files.js'
import { TEXT_FIXTURES } from '../helpers/cloudtrail.js'

const TEAMS = parseTeams(`teams:
  - name: platform
    accounts: ["111122223333"]
    principals: ["arn:aws:iam::*:role/platform-*"]
  - name: data
    principals: ["arn:aws:iam::*:role/data-*", "arn:aws:iam::444455556666:user/*"]
  - name: apps
    accounts: ["777788889999"]
    principals: ["arn:aws:iam::*:role/app-runtime", "arn:aws:sts::*:assumed-role/web-*"]
  - name: globs
    principals: ["arn:aws:iam::0123456789?1:user/*", "arn:aws:iam::*:user/[x]*"]
suppress:
  - action: "ec2:CreateTags"
    reason: "noise"
  - action: "LOGS:*"
    principal: "arn:aws:iam::*:role/ci-*"
    reason: "runner"
  - resource: "arn:aws:s3:::*-logs*"
    reason: "a resource glob"
  - action: "kms:*"
    reason: "expired"
    until: "2026-10-01"
`, 'teams.yaml')

const END = '2026-11-20'

/** Periods: day-aligned, instants inside a day, one day, a long one; the last two bounds are not canonical (SQL answers). */
function periods (): Array<[string, Period]> {
  return [
    ['30 days', resolvePeriod('30d', END)],
    ['7 days', resolvePeriod('7d', END)],
    ['instants inside days', resolvePeriod('2026-11-03T13:37:21.250Z', '2026-11-17T08:05:00.001Z')],
    ['one day', resolvePeriod('1d', '2026-11-10')],
    ['90 days up to now', resolvePeriod('90d', undefined)],
    ['bounds without milliseconds', { previousSince: '2026-10-01T00:00:00Z', since: '2026-10-20T00:00:00Z', until: '2026-11-08T00:00:00Z' }]
  ]
}

/** Every group of a scan in a canonical order, with its ids sorted and its per-day counts. */
function groupsOf (scan: GroupScan): unknown[] {
  // Names and counts as a report reads them (the scan's accessors), the rest from the group's row.
  const rows = Array.from({ length: scan.size }, (_, i) => {
    const g = scan.row(i)
    if (g !== scan.row(i)) throw new Error(`group ${i}: a second row object`)
    return { principal: scan.principal(i), account: scan.account(i), action: scan.action(i), resource: scan.resource(i), decision: scan.decision(i), current: scan.current[i], previous: scan.previous[i], sessions: g.sessions, ids: [...g.ids].sort((a, b) => a - b), row: [g.principal, g.account, g.action, g.resource, g.decision, g.current, g.previous] }
  })
  const daily = scan.daily(rows.map((_, i) => scan.row(i).ids))
  const out = rows.map((r, i) => ({ ...r, daily: daily[i] }))
  const keys = new Map(out.map(g => [g, JSON.stringify([g.principal, g.action, g.resource, g.decision, g.ids[0]])]))
  return out.sort((a, b) => keys.get(a)! < keys.get(b)! ? -1 : keys.get(a)! > keys.get(b)! ? 1 : 0)
}

/**
 * t.same, its diff only where they differ: tap's deep comparison formats both sides, which for a few
 * thousand groups cost a quarter of this file's time; the groups are plain data, so equal JSON is equality.
 */
function sameGroups (t: Test, a: unknown[], b: unknown[], label: string): void {
  if (JSON.stringify(a) === JSON.stringify(b)) t.pass(label)
  else t.same(a, b, label)
}

interface Paths { memory: ReportsRepository, sql: ReportsRepository, used: () => number }

/** A memory repository kept across the test (as the server keeps it), a SQL one, and how often memory could not answer. */
function paths (db: DB): Paths {
  const memory = repositoriesOn(db, { facetColumns: true }).reports
  let fallbacks = 0
  const sqlGroups = memory.sqlGroups.bind(memory)
  memory.sqlGroups = (...args) => { fallbacks++; return sqlGroups(...args) }
  return { memory, sql: repositoriesOn(db).reports, used: () => fallbacks }
}

const NOW = new Date('2026-11-21T00:00:00Z')

/**
 * Same groups (scan) for every team, kind and period, and same rendered reports. Reports are rendered
 * with two groups for every period, with all their groups (limit 0) for a day-aligned period and one
 * of instants inside days, and with the default limit (50) for the first period only: rendering is
 * most of this file's time, and what rendering adds per group (first and last seen, Sids, the
 * explanation) depends on the group's ids, which the scans compare for every period.
 */
function agree (t: Test, p: Paths, label: string, teams: TeamsConfig = TEAMS): void {
  const names = [null, ...teams.teams.map(x => x.name), 'unassigned']
  for (const [pi, [pname, period]] of periods().entries()) {
    const days = daysOf({ since: period.previousSince, until: period.until })
    for (const kind of [null, 'decoded', 'text'] as const) {
      const w: ReportWindow = { from: period.previousSince, mid: period.since, until: period.until, days, kind }
      for (const team of names) {
        const keep = team === null ? undefined : (pr: string | null, a: string | null) => teamOf(teams, pr, a) === team
        const a = groupsOf(p.memory.groups(w, keep))
        const b = groupsOf(p.sql.sqlGroups(w, keep))
        sameGroups(t, a, b, `${label}, ${pname}, kind ${kind ?? 'both'}, team ${team ?? 'all'}: groups (${b.length})`)
      }
      for (const team of [null, ...names.filter(n => n === 'platform' || n === 'unassigned')]) {
        for (const limit of pi === 0 ? [undefined, 0, 2] : pname === 'instants inside days' ? [0, 2] : [2]) {
          const opts = { period, teams, team, kind, limit, now: NOW }
          const a = render(buildReport(p.memory, opts), 'json')
          const b = render(buildReport(p.sql, opts), 'json')
          t.equal(a, b, `${label}, ${pname}, kind ${kind ?? 'both'}, team ${team ?? 'all'}, limit ${limit ?? 'default'}: report`)
        }
      }
    }
  }
}

/**
 * Generated history; every third message's action in other letter cases (one group with the
 * original), and some with a non-ASCII letter in two cases (two groups: NOCASE folds ASCII only).
 */
async function importGenerated (db: DB, n: number, seed: number, source: string): Promise<void> {
  const repos = repositoriesOn(db)
  const lines = [...generate(n, { seed, end: `${END}T00:00:00Z`, days: 80 })].map((l, i) => {
    const action = /\\"action\\":\\"([a-z0-9-]+):([A-Za-z]+)\\"/
    if (i % 3 === 1) return l.replace(action, (_m, s: string, a: string) => `\\"action\\":\\"${s.toUpperCase()}:${a.toLowerCase()}\\"`)
    if (i % 14 === 3) return l.replace(action, (_m, s: string, a: string) => `\\"action\\":\\"${s}:Éx${a}\\"`)
    if (i % 14 === 5) return l.replace(action, (_m, s: string, a: string) => `\\"action\\":\\"${s}:éX${a}\\"`)
    return l
  })
  await new Importer(repos.writer, repos.imports).run(readTextRecords(lines.join('\n'), source), { batchSize: 500 })
}

async function importText (db: DB): Promise<void> {
  const repos = repositoriesOn(db)
  await new Importer(repos.writer, repos.imports).run(readTextRecords(readFileSync(path.join(TEXT_FIXTURES, 'messages.log')), 'messages.log'))
}

t.test('memory and SQL agree as the history changes under a kept repository', async t => {
  const db = openDatabase(path.join(tempDir(t), 'reports.db'))
  t.teardown(() => { db.close() })
  await importGenerated(db, 2000, 7, 'a.ndjson')
  await importText(db)
  const variants = db.prepare('SELECT count(*) FROM (SELECT lower(action) FROM denials GROUP BY 1 HAVING count(DISTINCT action COLLATE BINARY) > 1)').pluck().get() as number
  t.ok(variants > 3, `${variants} actions stored in several letter cases`)
  t.ok((db.prepare("SELECT count(*) FROM denials WHERE kind = 'text'").pluck().get() as number) > 0, 'text denials too')
  const p = paths(db)
  agree(t, p, 'first import')
  const canonical = p.used()
  t.ok(canonical > 0 && canonical < 200, `memory answered every report but those with non-canonical bounds (${canonical} SQL fallbacks)`)

  // New denials and occurrences after the memory was built: loaded on the next report.
  await importGenerated(db, 1000, 8, 'b.ndjson')
  agree(t, p, 'second import')

  // An occurrence moved to another denial (a decoded CloudTrail event): the trigger makes memory reload.
  const [occ, to] = db.prepare(`SELECT o.id, (SELECT max(id) FROM denials WHERE id <> o.denial_id) FROM occurrences o
    WHERE observed_at >= '2026-11-01' ORDER BY o.id LIMIT 1`).raw().get() as [number, number]
  const from = db.prepare('SELECT denial_id FROM occurrences WHERE id = ?').pluck().get(occ) as number
  db.prepare('UPDATE occurrences SET denial_id = ? WHERE id = ?').run(to, occ)
  // As events.relink leaves both denials: counts and spans from their occurrences.
  db.prepare(`UPDATE denials SET occurrences = (SELECT count(*) FROM occurrences WHERE denial_id = denials.id),
    first_seen = coalesce((SELECT min(observed_at) FROM occurrences WHERE denial_id = denials.id), first_seen),
    last_seen = coalesce((SELECT max(observed_at) FROM occurrences WHERE denial_id = denials.id), last_seen) WHERE id IN (?, ?)`).run(from, to)
  t.equal(db.prepare("SELECT n FROM counters WHERE name = 'occurrences_changed'").pluck().get(), 1, 'the trigger counts the move')
  agree(t, p, 'after a move')

  // The newest denial deleted (its occurrences with it) and its id handed out to a new one.
  const max = db.prepare('SELECT max(id) FROM denials').pluck().get() as number
  db.prepare('DELETE FROM denials WHERE id = ?').run(max)
  await importGenerated(db, 50, 9, 'c.ndjson')
  t.ok((db.prepare('SELECT count(*) FROM denials WHERE id = ?').pluck().get(max) as number) === 1, 'the id is reused')
  agree(t, p, 'after a deletion and a reused id')
  t.equal(p.used() % canonical, 0, 'still answered from memory')
})

t.test('an observed_at memory cannot compare as text, or a resource without a strings id: SQL answers', async t => {
  const db = openDatabase(path.join(tempDir(t), 'odd.db'))
  t.teardown(() => { db.close() })
  await importGenerated(db, 800, 17, 'a.ndjson')
  const p = paths(db)
  const period = resolvePeriod('30d', END)
  const days = daysOf({ since: period.previousSince, until: period.until })
  const w: ReportWindow = { from: period.previousSince, mid: period.since, until: period.until, days }
  p.memory.groups(w)
  t.equal(p.used(), 0, 'memory answers')
  // Text order and time order differ for this one: '…T10:00:00Z' sorts after '…T10:00:00.500Z'.
  db.prepare("UPDATE occurrences SET observed_at = '2026-11-10T10:00:00Z' WHERE id = (SELECT min(id) FROM occurrences WHERE observed_at >= '2026-11-01')").run()
  t.same(groupsOf(p.memory.groups(w)), groupsOf(p.sql.sqlGroups(w)))
  t.equal(p.used(), 1, 'SQL answered')
  db.prepare("UPDATE occurrences SET observed_at = '2026-11-10T10:00:00.000Z' WHERE observed_at = '2026-11-10T10:00:00Z'").run()
  p.memory.groups(w)
  t.equal(p.used(), 1, 'memory answers again once every observed_at is canonical')
  // A denial stored without its resource in strings (by another tool): its signature cannot be coded.
  const row = db.prepare('SELECT * FROM denials ORDER BY id DESC LIMIT 1').get() as Record<string, unknown>
  const id = Number(db.prepare(`INSERT INTO denials (content_hash, decision, principal_arn, principal_account, action, service, resource, kind, key_ids, first_seen, last_seen, created_at)
    VALUES ('odd', ?, ?, ?, ?, ?, 'arn:aws:s3:::not-in-strings', ?, '', '2026-11-15T00:00:00.000Z', '2026-11-15T00:00:00.000Z', '2026-11-15T00:00:00.000Z')`)
    .run(row.decision, row.principal_arn, row.principal_account, row.action, row.service, row.kind).lastInsertRowid)
  db.prepare("INSERT INTO occurrences (denial_id, observed_at, source_id, line, item, encoded_id, stamped_ms) VALUES (?, '2026-11-15T00:00:00.000Z', (SELECT min(id) FROM sources), 1, 0, 0, 0)").run(id)
  t.same(groupsOf(p.memory.groups(w)), groupsOf(p.sql.sqlGroups(w)))
  t.equal(p.used(), 2, 'SQL answered')
})

t.test('no teams file, an empty database, and a window before any occurrence', async t => {
  const db = openDatabase(path.join(tempDir(t), 'empty.db'))
  t.teardown(() => { db.close() })
  const p = paths(db)
  const period = resolvePeriod('30d', END)
  t.equal(render(buildReport(p.memory, { period, teams: EMPTY_TEAMS, now: NOW }), 'json'), render(buildReport(p.sql, { period, teams: EMPTY_TEAMS, now: NOW }), 'json'))
  await importGenerated(db, 300, 27, 'a.ndjson')
  agree(t, p, 'no teams', EMPTY_TEAMS)
  const early = resolvePeriod('7d', '2020-01-01')
  t.equal(render(buildReport(p.memory, { period: early, teams: TEAMS, now: NOW }), 'json'), render(buildReport(p.sql, { period: early, teams: TEAMS, now: NOW }), 'json'))
})

t.test('occurrence times warmed in the background, a chunk per turn, give the same groups; a closed database stops the warm quietly', async t => {
  const db = openDatabase(path.join(tempDir(t), 'warm.db'))
  await importGenerated(db, 1500, 37, 'a.ndjson')
  const columns = new FacetColumns(db)
  const occurrences = new OccurrenceTimes(db, 100)
  const memory = new ReportsRepository(db, { columns, occurrences })
  let turns = 0
  const ticking = setInterval(() => { turns++ }, 0)
  await memory.warm()
  clearInterval(ticking)
  t.ok(turns > 0, `the event loop turned ${turns} times`)
  const period = resolvePeriod('30d', END)
  const w: ReportWindow = { from: period.previousSince, mid: period.since, until: period.until, days: daysOf({ since: period.previousSince, until: period.until }) }
  t.same(groupsOf(memory.groups(w)), groupsOf(new ReportsRepository(db).groups(w)))
  const other = new OccurrenceTimes(db, 100)
  const warming = other.warm()
  db.close()
  await t.resolves(warming, 'no error once the database is closed')
})
