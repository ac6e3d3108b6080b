/** Units behind the pages: the SVG chart geometry, the list's query-string state, the formatters. */
import t from 'tap'
import { barChart, periodChart, sparkline } from '../../../server/render/chart.js'
import { conditionKeyOf, listHref, stateFromQuery, toggleConditionKey, toggleConditionValue, toggleScalar, withCursor, withSort } from '../../../server/routes/pages/list-state.js'
import { formatInstant, shortArn, truncate, prettyJson } from '../../../server/render/helpers.js'

t.test('chart: whole days, gaps filled, long ranges bucketed, nothing outside the plot', async t => {
  const c = barChart([{ day: '2025-03-01', count: 4 }, { day: '2025-03-03', count: 2 }], '2025-03-01T10:00:00Z', '2025-03-03T09:00:00Z', 'occurrence', 1)
  t.equal(c.bars.length, 2, 'empty days have no bar')
  t.same(c.bars.map(b => b.title), ['2025-03-01: 4 occurrences', '2025-03-03: 2 occurrences'])
  t.equal(c.bars[0]!.height, c.plotBottom - c.plotTop, 'the peak fills the plot')
  t.equal(c.bars[1]!.height, (c.plotBottom - c.plotTop) / 2)
  for (const b of c.bars) {
    t.ok(b.x >= c.plotLeft && b.x + b.width <= c.plotRight + 0.1)
    t.ok(b.y >= c.plotTop && b.y + b.height <= c.plotBottom + 0.1)
  }
  t.match(c.description, '6 occurrences from 2025-03-01 to 2025-03-03')

  const short = barChart([{ day: '2025-03-01', count: 1 }], '2025-03-01', '2025-03-01')
  t.equal(short.axis!.first, '2025-02-16', 'a one-day history still spans two weeks')

  const weeks = barChart([{ day: '2025-01-01', count: 3 }, { day: '2025-01-02', count: 1 }, { day: '2025-06-30', count: 5 }], '2025-01-01', '2025-06-30')
  t.ok(weeks.bars.every(b => b.title.startsWith('week of ')))
  t.equal(weeks.bars[0]!.title, 'week of 2025-01-01: 4 occurrences')
  const months = barChart([{ day: '2023-01-15', count: 2 }, { day: '2025-06-30', count: 1 }], '2023-01-01', '2025-06-30')
  t.same(months.bars.map(b => b.title), ['2023-01: 2 occurrences', '2025-06: 1 occurrence'])

  const none = barChart([], '2025-01-01', '2025-01-31')
  t.ok(none.empty)
  t.same(none.bars, [])
  t.equal(none.axis!.max, null, 'an empty chart has no maximum: its axis is not labelled "0" twice')
  t.same(none.lines.map(l => l.className), ['chart-axis'], 'and no grid line at a maximum')
  t.equal(c.axis!.max, '4')
})

t.test('report charts: the previous period drawn apart, a split where the period starts, nothing outside the plot', async t => {
  const days = ['2026-10-30', '2026-10-31', '2026-11-01', '2026-11-02']
  for (const [c, className] of [[periodChart(days, [2, 0, 1, 4], 2, 'Per day'), 'wr-chart'], [sparkline(days, [2, 0, 1, 4], 2, 'Trend'), 'wr-spark']] as const) {
    t.equal(c.className, className)
    t.equal(c.fixedSize, className === 'wr-spark', 'sparklines keep their size; the period chart takes the width')
    t.equal(c.stretch, className === 'wr-chart')
    t.same(c.bars.map(b => [b.title, b.className]), [
      ['2026-10-30: 2', 'chart-bar chart-bar-before'],
      ['2026-11-01: 1', 'chart-bar'],
      ['2026-11-02: 4', 'chart-bar']
    ], 'no bar for an empty day; days before periodStart are the previous period')
    t.equal(c.bars[2]!.height, c.plotBottom - c.plotTop, 'the peak fills the plot')
    t.equal(c.bars[1]!.height, round((c.plotBottom - c.plotTop) / 4))
    for (const b of c.bars) {
      t.ok(b.x >= c.plotLeft && b.x + b.width <= c.plotRight + 0.1 && b.y >= c.plotTop - 0.1 && b.y + b.height <= c.plotBottom + 0.1)
    }
    const split = c.lines.find(l => l.className === 'chart-split')!
    t.equal(split.x1, c.plotLeft + (c.plotRight - c.plotLeft) / 2, 'the split sits where the period starts')
    t.ok(c.bars[0]!.x + c.bars[0]!.width <= split.x1 && c.bars[1]!.x >= split.x1)
  }
  t.same(periodChart(days, [0, 0, 1, 4], 2, 'x').axis, { max: '4', first: '2026-10-30', last: '2026-11-02' }, 'the axis labels, drawn in HTML')
  t.same(sparkline(days, [1, 2, 3, 4], 0, 'x').lines.map(l => l.className), ['chart-axis'], 'no split when the whole range is the period')
  t.ok(sparkline(days, [0, 0, 0, 0], 2, 'x').empty)
})

function round (n: number): number {
  return Math.round(n * 10) / 10
}

t.test('list state: canonical URLs, toggles, sort and cursor', async t => {
  const s = stateFromQuery({ action: 'iam:PassRole', condition: ['aws:Region=us-east-2', ''], q: '  ', sort: 'lastSeen', limit: 50, cursor: 'abc' })
  t.same(s, { condition: ['aws:Region=us-east-2'], sort: 'lastSeen', action: 'iam:PassRole', cursor: 'abc' }, 'blanks and defaults dropped')
  t.equal(listHref(s), '/denials?action=iam%3APassRole&condition=aws%3ARegion%3Dus-east-2&cursor=abc')

  const on = toggleScalar(s, 'service', 'iam')
  t.notOk(on.active)
  t.equal(on.href, '/denials?action=iam%3APassRole&service=iam&condition=aws%3ARegion%3Dus-east-2', 'a new filter goes back to the first page')
  const off = toggleScalar(s, 'action', 'iam:PassRole')
  t.ok(off.active)
  t.equal(off.href, '/denials?condition=aws%3ARegion%3Dus-east-2')

  t.ok(toggleConditionKey(s, 'AWS:Region').active, 'condition keys compare without case, as IAM does')
  t.equal(toggleConditionKey(s, 'aws:Region').href, '/denials?action=iam%3APassRole')
  t.equal(toggleConditionKey(s, 'aws:Service').href, '/denials?action=iam%3APassRole&condition=aws%3ARegion%3Dus-east-2&condition=aws%3AService')

  const v = toggleConditionValue(s, 'aws:Region', 'us-east-2')
  t.ok(v.active)
  t.equal(v.href, '/denials?action=iam%3APassRole&condition=aws%3ARegion')
  const w = toggleConditionValue(s, 'aws:Region', 'eu-west-1')
  t.notOk(w.active)
  t.equal(w.href, '/denials?action=iam%3APassRole&condition=aws%3ARegion%3Deu-west-1', 'a value replaces the other filters on its key')
  t.equal(toggleConditionValue({ condition: ['k=a=b'], sort: 'lastSeen' }, 'k', 'a=b').active, true, 'values may hold "="')

  t.equal(withSort(s, 'occurrences'), '/denials?action=iam%3APassRole&condition=aws%3ARegion%3Dus-east-2&sort=occurrences')
  t.equal(withCursor({ condition: [], sort: 'occurrences' }, 'xyz'), '/denials?sort=occurrences&cursor=xyz')
  t.equal(conditionKeyOf(' Aws:Region =x'), 'aws:region')
  t.equal(listHref({ condition: [], sort: 'lastSeen' }), '/denials')
})

t.test('formatters', async t => {
  t.equal(formatInstant('2025-03-04T10:15:59.123Z'), '2025-03-04 10:15 UTC')
  t.equal(formatInstant('not a date'), 'not a date')
  t.equal(shortArn('arn:aws:iam::111122223333:user/alice'), 'user/alice · 111122223333')
  t.equal(shortArn('arn:aws:s3:::bucket/key'), 'bucket/key')
  t.equal(shortArn('AIDAXYZ'), 'AIDAXYZ')
  t.equal(truncate('🙈'.repeat(10), 5), '🙈🙈🙈🙈…', 'counts characters, never splits a surrogate pair')
  t.equal(prettyJson('{"a":[1]}'), '{\n  "a": [\n    1\n  ]\n}')
  t.equal(prettyJson('{oops'), '{oops')
})
