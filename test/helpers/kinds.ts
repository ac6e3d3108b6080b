/** Which test files are unit tests (in process, run by `npm run test:unit`) and which are integration tests. */
// The rule: a file that starts another process (the built CLI in dist/, node, a browser, an AWS CLI,
// python) is an integration test: it lives in test/browser/ or test/cli/, or is named
// *.integration.test.ts. Everything else runs in process (app.inject, a real SQLite file, HTTP on
// 127.0.0.1). test/kinds.test.ts checks the rule against what the files do.
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { packageRoot } from '../../server/paths.js'

/** `file`: a path relative to the project root, with forward slashes. */
export function isUnitTest (file: string): boolean {
  return file.endsWith('.test.ts') && !file.startsWith('test/batches/') &&
    !file.startsWith('test/browser/') && !file.startsWith('test/cli/') &&
    !file.endsWith('.integration.test.ts')
}

/** Every `*.test.ts` under test/ (relative to the project root), fixtures and artifacts aside, sorted. */
export function testFiles (dir = 'test'): string[] {
  const root = packageRoot()
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap(e => {
    const rel = `${dir}/${e.name}`
    if (e.isDirectory()) return e.name === 'fixtures' || e.name === 'artifacts' ? [] : testFiles(rel)
    return e.name.endsWith('.test.ts') ? [rel] : []
  }).sort()
}

/**
 * The unit test files, the largest first: size stands in for time (the longest file, services/import,
 * is the largest), so that batches which take them in this order end at about the same time.
 */
export function unitTestFiles (): string[] {
  const root = packageRoot()
  const size = new Map(testFiles().filter(isUnitTest).map(f => [f, statSync(path.join(root, f)).size]))
  return [...size.keys()].sort((a, b) => size.get(b)! - size.get(a)! || (a < b ? -1 : 1))
}

/** Share `k` (1…n) of the unit files: every n-th of unitTestFiles(), so the shares are about equal in time. */
export function unitShare (k: number, n: number): string[] {
  return unitTestFiles().filter((_, i) => i % n === k - 1)
}
