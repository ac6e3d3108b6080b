/** Which test files are unit tests (in process, run by `npm run test:unit`) and which are integration tests. */
// The rule: a file that starts another process (the built CLI in dist/, node, a browser, an AWS CLI,
// python) is an integration test. It lives in test/browser/ or test/cli/, or is named
// *.integration.test.ts; the files below were written before the rule and keep their names.
// Everything else runs in process (app.inject, a real SQLite file, HTTP on 127.0.0.1).
const NAMED_INTEGRATION = new Set([
  'test/db/concurrency.test.ts',
  'test/db/concurrent-open.test.ts',
  'test/db/crash.test.ts',
  'test/decode/cli.test.ts',
  'test/reports/browser.test.ts',
  'test/reports/cli.test.ts',
  'test/security/sign-in.test.ts',
  'test/security/token.test.ts',
  'test/sts/clients.test.ts'
])

/** `file`: a path relative to the project root, with forward slashes. */
export function isUnitTest (file: string): boolean {
  return file.endsWith('.test.ts') &&
    !file.startsWith('test/browser/') && !file.startsWith('test/cli/') &&
    !file.endsWith('.integration.test.ts') && !NAMED_INTEGRATION.has(file)
}
