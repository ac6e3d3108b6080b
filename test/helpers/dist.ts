/** Is dist/ built from the current sources? The CLI tests run the built binary, so a stale build tests old code. */
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'

function mtime (file: string): number | null {
  try {
    return statSync(file).mtimeMs
  } catch {
    return null
  }
}

/**
 * The sources under `root`/server whose compiled twin in `root`/dist/server is missing, or older than
 * the source and than the last good build (relative paths, sorted). tsc emits nothing when the build
 * fails (noEmitOnError), so an edit after the last good build shows up here. It builds incrementally,
 * rewriting only the outputs of changed files: a source touched without a change (a checkout) is newer
 * than its output but not than `dist/.built`, which `npm run build` writes once tsc has succeeded.
 */
export function staleOutputs (root: string): string[] {
  const src = path.join(root, 'server')
  const out = path.join(root, 'dist', 'server')
  const lastBuild = mtime(path.join(root, 'dist', '.built')) ?? -Infinity
  const stale: string[] = []
  for (const rel of readdirSync(src, { recursive: true, encoding: 'utf8' }).sort()) {
    if (!rel.endsWith('.ts') || rel.endsWith('.d.ts')) continue
    const built = mtime(path.join(out, rel.replace(/\.ts$/, '.js')))
    const source = mtime(path.join(src, rel))
    if (source !== null && (built === null || Math.max(built, lastBuild) < source)) stale.push(path.join('server', rel))
  }
  return stale
}

/** The message for a stale build, or null when dist/ is current. */
export function staleMessage (root: string): string | null {
  const stale = staleOutputs(root)
  if (stale.length === 0) return null
  const some = stale.slice(0, 3).join(', ') + (stale.length > 3 ? ` and ${stale.length - 3} more` : '')
  return `dist/ is older than the sources (${some}): run \`npm run build\` first. These tests spawn the built CLI ` +
    '(dist/server/cli.js); `npm test` builds it, `npm run test:unit` does not need it.'
}
