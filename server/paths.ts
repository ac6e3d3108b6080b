/** Where the package's own files are (package.json, views/, fixtures/), from the sources (server/) or the build (dist/server/). */
import { readFileSync } from 'node:fs'
import path from 'node:path'

let root: string | null = null

/**
 * The directory of whydenied's package.json. Walks up from this file rather than a fixed `../..`,
 * because this module runs both as server/paths.ts (tsx, `npm run dev`) and as dist/server/paths.js.
 */
export function packageRoot (): string {
  if (root !== null) return root
  let dir = import.meta.dirname
  for (;;) {
    const pkg = readPackage(dir)
    if (pkg?.name === 'whydenied') return (root = dir)
    const up = path.dirname(dir)
    if (up === dir) throw new Error(`cannot find the whydenied package root above ${import.meta.dirname}`)
    dir = up
  }
}

function readPackage (dir: string): { name?: unknown, version?: unknown } | null {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown, version?: unknown }
  } catch {
    return null
  }
}

/** The version in package.json. */
export function packageVersion (): string {
  return String(readPackage(packageRoot())?.version ?? '0.0.0')
}

/** The Handlebars templates and static assets. */
export function viewsDir (): string {
  return path.join(packageRoot(), 'views')
}

/** Shipped example files (the default mock STS identities, the example teams file). */
export function fixturesDir (): string {
  return path.join(packageRoot(), 'fixtures')
}
