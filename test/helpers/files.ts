/**
 * Test helpers without the app: the package's paths and temporary directories. A test that only
 * starts processes (the built CLI, a server, a browser) imports these from here, not from build.ts,
 * whose buildTestApp loads Fastify and every route: about half a second of CPU per test process.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

export interface TapLike { teardown: (fn: () => unknown) => void }

/** A fresh temporary directory, removed after the test. */
export function tempDir (t: TapLike, prefix = 'whydenied-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export const ROOT = path.resolve(import.meta.dirname, '../..')
export const FIXTURES = path.join(ROOT, 'fixtures')
export const DECODED_FIXTURES = path.join(FIXTURES, 'decoded')
