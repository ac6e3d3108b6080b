/** Pages of a filtered search come in sort order, complete and without repeats, whichever way they are found (walking the sort index, its budget running out, or sorting the matches). */
import t from 'tap'
import { repositoriesOn } from '../../server/db/index.js'
import { buildWhere, type DenialFilters, type SortOrder } from '../../server/db/repositories/search.js'
import { generatedStore, importGenerated } from '../helpers/generated-store.js'

t.test('every page, both sort orders, many kinds of filter', async t => {
  const { db } = await generatedStore(t, 'pages.db', 5000, { seed: 51, end: '2026-11-20T00:00:00Z', days: 60 }, 1000)
  // 100 denials seen only in 2020: at the far end of both sort orders.
  await importGenerated(db, 100, { seed: 52, mode: 'distinct', end: '2020-06-01T00:00:00Z', days: 30 }, 'old.ndjson')
  const n = db.prepare('SELECT count(*) FROM denials').pluck().get() as number
  const cases: Array<[string, DenialFilters]> = [
    // Many matches: the walk fills a page after a few entries.
    ['dense', { decision: 'implicit-deny' }],
    ['a tenth', { action: 'kms:*' }],
    // Few matches: sorted.
    ['rare', { action: 'iam:PassRole', account: '111122223333', principal: 'arn:aws:iam::*:role/data-*' }],
    // Only the 2020 denials: at the far end of the walk, which runs out of budget and sorts them.
    ['old only', { until: '2021-01-01T00:00:00.000Z' }],
    ['a window in the first days', { since: '2026-09-21T00:00:00.000Z', until: '2026-09-24T00:00:00.000Z' }],
    ['q', { q: 'ml-training' }],
    ['none', { action: 'nosuch:*' }],
    ['unfiltered', {}]
  ]
  for (const facetColumns of [false, true]) {
    const search = repositoriesOn(db, { facetColumns }).search
    for (const [name, f] of cases) {
      for (const sort of ['lastSeen', 'occurrences'] as SortOrder[]) {
        const w = buildWhere(f)
        const col = sort === 'lastSeen' ? 'last_seen' : 'occurrences'
        const want = db.prepare(`SELECT d.id FROM denials d WHERE ${w.sql} ORDER BY d.${col} DESC, d.id DESC`).pluck().all(...w.params) as number[]
        const got: number[] = []
        let cursor: string | undefined
        let pages = 0
        do {
          const r = search.search(f, { limit: name === 'old only' ? 20 : 37, sort, cursor, facets: pages === 0 })
          t.equal(r.total, want.length)
          got.push(...r.items.map(i => i.id))
          cursor = r.nextCursor ?? undefined
          pages++
        } while (cursor !== undefined && pages < 500)
        t.same(got, want, `${name}, ${sort}, ${facetColumns ? 'columns' : 'one pass'}: ${want.length} of ${n} in order over ${pages} pages`)
      }
    }
  }
})
