/** The list's time window (since, until) matches exactly the denials with an occurrence inside it, read from each denial's span where that suffices. */
import t from 'tap'
import path from 'node:path'
import { readTextRecords } from '../../server/ingest/index.js'
import { openDatabase } from '../../server/db/connection.js'
import { repositoriesOn } from '../../server/db/index.js'
import { Importer } from '../../server/services/importer.js'
import { generate } from '../../fixtures/generate.js'
import { tempDir } from '../helpers/files.js'
import { generatedStore } from '../helpers/generated-store.js'

t.test('every window gives the denials with an occurrence in it', async t => {
  const { db, repos } = await generatedStore(t, 'window.db', 3000, { seed: 41, end: '2026-11-20T00:00:00Z', days: 40 }, 300)
  const direct = db.prepare<[string, string], number>(`SELECT id FROM denials WHERE id IN (SELECT denial_id FROM occurrences WHERE observed_at >= ? AND observed_at < ?)
    ORDER BY last_seen DESC, id DESC`).pluck()
  const day = (d: number): string => new Date(Date.parse('2026-10-08T00:00:00Z') + d * 86_400_000 + (d * 7919 % 86_400) * 1000).toISOString()
  // Windows inside, across and around the 40 days, down to one hour; with no until (open-ended).
  const windows: Array<[number, number | null]> = [[0, 50], [-5, 3], [10, 11], [20, 20.04], [39, 45], [-10, -1], [45, 60], [5, null], [30, null], [41, null], [12.5, 30.25]]
  let nonEmpty = 0
  for (const [a, b] of windows) {
    const since = day(a)
    const until = b === null ? undefined : day(b)
    const got = repos.search.search({ since, until }, { limit: 500, facets: false })
    const want = direct.all(since, until ?? '\u{10FFFF}')
    t.equal(got.total, want.length, `[${since}, ${until ?? '…'}): total`)
    t.same(got.items.map(i => i.id), want.slice(0, 500), `[${since}, ${until ?? '…'}): the same denials`)
    // Combined with another filter, whose index SQLite may read first.
    const s3 = repos.search.search({ since, until, service: 's3' }, { limit: 500, facets: false })
    t.equal(s3.total, db.prepare("SELECT count(*) FROM denials WHERE service = 's3' AND id IN (SELECT denial_id FROM occurrences WHERE observed_at >= ? AND observed_at < ?)").pluck().get(since, until ?? '\u{10FFFF}'), 'with a service filter')
    if (want.length > 0) nonEmpty++
  }
  t.ok(nonEmpty >= 7, 'most windows hold denials')
})

t.test('a denial first stored by a duplicate occurrence spans only its real occurrences', async t => {
  const db = openDatabase(path.join(tempDir(t), 'phantom.db'))
  t.teardown(() => { db.close() })
  const repos = repositoriesOn(db)
  const importer = new Importer(repos.writer, repos.imports)
  const [a, b] = [...generate(2, { seed: 42, mode: 'distinct', end: '2026-11-20T00:00:00Z', days: 1 })].map(l => (JSON.parse(l) as { DecodedMessage: string }).DecodedMessage)
  const encoded = (DecodedMessage: string, observedAt: string): { kind: 'record', record: { source: string, line: number, index: number, value: object, encodedSha256: string } } =>
    ({ kind: 'record', record: { source: 'decode', line: 1, index: 0, value: { DecodedMessage, observedAt }, encodedSha256: 'cd'.repeat(32) } })
  t.equal((await importer.run([encoded(a!, '2026-11-01T00:00:00Z')])).imported, 1)
  // The same encoded message decoded to other content (another version's parse): its occurrence is
  // a duplicate, but the denial is stored, with no occurrence.
  t.equal((await importer.run([encoded(b!, '2020-01-01T00:00:00Z')])).duplicates, 1)
  const orphan = db.prepare('SELECT id, occurrences FROM denials ORDER BY id DESC LIMIT 1').get() as { id: number, occurrences: number }
  t.equal(orphan.occurrences, 0)
  t.equal(repos.search.search({ since: '2019-01-01T00:00:00Z', until: '2021-01-01T00:00:00Z' }).total, 0, 'a denial with no occurrence is in no window')
  t.equal(repos.search.search({ since: '2019-01-01T00:00:00Z' }).total, 1, 'only the denial with an occurrence')
  // Then it occurs for real: its span is that occurrence, not the duplicate's time.
  await importer.run(readTextRecords(JSON.stringify({ DecodedMessage: b, observedAt: '2026-11-10T00:00:00Z' }), 'later.ndjson'))
  t.same(db.prepare('SELECT occurrences, first_seen, last_seen FROM denials WHERE id = ?').get(orphan.id),
    { occurrences: 1, first_seen: '2026-11-10T00:00:00.000Z', last_seen: '2026-11-10T00:00:00.000Z' })
  t.equal(repos.search.search({ since: '2019-01-01T00:00:00Z', until: '2021-01-01T00:00:00Z' }).total, 0, 'the duplicate\'s time is not a match')
  t.equal(repos.search.search({ since: '2026-11-05T00:00:00Z', until: '2026-11-15T00:00:00Z' }).total, 1)
  t.equal(db.prepare('SELECT denials FROM denial_last_days WHERE day = ?').pluck().get('2026-11-10'), 1, 'the last-day rollup moved with it')
  t.equal(db.prepare('SELECT count(*) FROM denial_last_days WHERE day = ?').pluck().get('2020-01-01'), 0)
})
