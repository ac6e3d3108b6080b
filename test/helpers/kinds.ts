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

/** The CLI's integration files (test/cli/): `npm test` runs them in batches too (BatchKind). */
export function isCliTest (file: string): boolean {
  return file.startsWith('test/cli/') && file.endsWith('.test.ts')
}

/**
 * What `npm test` runs in batches, several files per process (test/batches/KIND-K.test.ts, see
 * unit-batch.ts): the unit files, and the CLI's integration files. These start the built CLI and
 * share nothing else; most take 1–10 s, and a process of their own cost each ~1 s more to start
 * (tap, its plugins and the TypeScript hooks) than the batch's one. The other integration files
 * (browsers, AWS CLIs, servers under load, crashes) keep a process each.
 */
export type BatchKind = 'unit' | 'cli'

export const BATCH_KINDS: readonly BatchKind[] = ['unit', 'cli']

/**
 * The files, the largest first: size stands in for time (the longest file, services/import, is the
 * largest), so that batches which take them in this order end at about the same time.
 */
function largestFirst (files: string[]): string[] {
  const root = packageRoot()
  const size = new Map(files.map(f => [f, statSync(path.join(root, f)).size]))
  return [...size.keys()].sort((a, b) => size.get(b)! - size.get(a)! || (a < b ? -1 : 1))
}

/** The unit test files, the largest first. */
export function unitTestFiles (): string[] {
  return largestFirst(testFiles().filter(isUnitTest))
}

/** The files of a batch kind, the largest first. */
export function batchedFiles (kind: BatchKind): string[] {
  return kind === 'unit' ? unitTestFiles() : largestFirst(testFiles().filter(isCliTest))
}

/** Share `k` (1…n) of a kind's files: every n-th of batchedFiles(), so the shares are about equal in time. */
export function share (kind: BatchKind, k: number, n: number): string[] {
  return batchedFiles(kind).filter((_, i) => i % n === k - 1)
}
