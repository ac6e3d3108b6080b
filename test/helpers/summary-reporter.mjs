// A Node test runner reporter for `npm run test:unit`: the run's closing counts (tests, pass, fail,
// duration), printed after the dot reporter's dots and failures, so a passing run ends with its totals.
export default async function * summary (source) {
  let first = true
  for await (const event of source) {
    if (event.type !== 'test:diagnostic' || event.data.nesting !== 0) continue
    // The dots end without a newline.
    yield `${first ? '\n' : ''}# ${event.data.message}\n`
    first = false
  }
}
