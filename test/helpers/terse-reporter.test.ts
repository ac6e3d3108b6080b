/** The suite's reporter: failures with their diff and place, a subtest's failure only when no child shows one, skips and todos with reasons, totals. */
import t from 'tap'
// @ts-expect-error: a plain ES module (tap loads reporters by path), without type declarations.
import TerseReporter from './terse-reporter.mjs'

/** Raw TAP as `tap --reporter=tap` prints it for one file: nested subtests, a failure, a skip, a todo, a throw. */
const TAP = `TAP version 14
1..2
# Subtest: test/a.test.ts
    # Subtest: group
        ok 1 - fine
        not ok 2 - objects differ
          ---
          diff: |
            --- expected
            +++ actual
            -  "a": 2,
            +  "a": 1,
          at:
            fileName: test/a.test.ts
            lineNumber: 4
            columnNumber: 5
          ...
        ok 3 - inner # SKIP no chromium here
        ok 4 - later # TODO
        1..4
    not ok 1 - group # time=18ms
    # Subtest: throws
        ok 1 - before
        1..1
    not ok 2 - throws
      ---
      message: boom inside
      at:
        fileName: test/a.test.ts
        lineNumber: 9
        columnNumber: 3
      ...
    1..2
not ok 1 - test/a.test.ts
# Subtest: test/b.test.ts
    ok 1 - one
    1..1
not ok 2 - test/b.test.ts
  ---
  exitCode: 3
  ...
`

async function report (tap: string): Promise<string> {
  const r = new TerseReporter()
  let out = ''
  r.on('data', (d: string) => { out += d })
  const done = new Promise(resolve => r.on('end', resolve))
  r.end(tap)
  await done
  return out
}

t.test('failures, skips, todos and totals; nothing per passing test', async t => {
  const out = await report(TAP)
  t.match(out, /^not ok test\/a\.test\.ts > group > objects differ\n {4}--- expected\n {4}\+\+\+ actual\n {4}- {2}"a": 2,\n {4}\+ {2}"a": 1,\n {4}at test\/a\.test\.ts:4:5\n/, 'the failure, its diff and place')
  t.notMatch(out, /not ok test\/a\.test\.ts > group\n/, 'not its subtest again')
  t.match(out, /not ok test\/a\.test\.ts > throws\n {4}boom inside\n {4}at test\/a\.test\.ts:9:3\n/, 'a subtest that threw, with no failing child: shown')
  t.match(out, /not ok test\/b\.test\.ts\n {4}exitCode: 3\n/, 'a process that died: how')
  t.match(out, /skipped: test\/a\.test\.ts > group > inner \(no chromium here\)\n/)
  t.match(out, /todo: test\/a\.test\.ts > group > later\n/)
  t.match(out, /\n# FAILED: 3 passed, 3 failed, 1 skipped, 1 todo in \d+ s\n$/)
  t.notMatch(out, /fine|before|one\b/, 'passing tests are not listed')
})

t.test('a passing run: one line', async t => {
  const out = await report('TAP version 14\n1..1\n# Subtest: test/a.test.ts\n    ok 1 - fine\n    1..1\nok 1 - test/a.test.ts\n')
  t.match(out, /^\n# ok: 1 passed, 0 failed in \d+ s\n$/)
})
