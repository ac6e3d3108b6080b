/** The dependency rule of server/ (README, Development): imports point down the layers, never up, and never in a cycle. */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { ROOT } from './helpers/files.js'

const SERVER = path.join(ROOT, 'server')

/**
 * Top to bottom; a module may import from its own layer or any layer below it. Folders of one layer
 * (db, reports, sts, decode) may use each other, as long as no cycle forms. Keep in step with README.
 */
export const LAYERS: Array<{ name: string, paths: string[] }> = [
  { name: 'cli', paths: ['cli.ts', 'cli/'] },
  { name: 'app', paths: ['app.ts'] },
  { name: 'routes', paths: ['routes/'] },
  { name: 'plugins', paths: ['plugins/'] },
  { name: 'services', paths: ['services/'] },
  { name: 'stores and domains', paths: ['db/', 'reports/', 'sts/', 'decode/'] },
  { name: 'render', paths: ['render/'] },
  { name: 'schemas', paths: ['schemas/'] },
  { name: 'ingest', paths: ['ingest/'] },
  { name: 'authz', paths: ['authz/'] },
  { name: 'foundation', paths: ['config.ts', 'errors.ts', 'paths.ts', 'util/'] }
]

/** The layer of a module (index into LAYERS), by its path relative to server/; -1: none. */
export function layerOf (rel: string): number {
  return LAYERS.findIndex(l => l.paths.some(p => p.endsWith('/') ? rel.startsWith(p) : rel === p))
}

/** Every .ts file under dir, as paths relative to dir with forward slashes. */
function sourceFiles (dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    if (e.isDirectory()) return sourceFiles(path.join(dir, e.name), `${prefix}${e.name}/`)
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [prefix + e.name] : []
  })
}

interface Imports { local: string[], packages: string[] }

/**
 * The modules a file imports (static, `export … from`, `import type`, and dynamic `import('…')`),
 * found by TypeScript's own pre-processor rather than a regular expression, so that comments and
 * strings are not mistaken for imports.
 */
export function importsOf (rel: string, source: string): Imports {
  const out: Imports = { local: [], packages: [] }
  for (const f of ts.preProcessFile(source, true, true).importedFiles) {
    const spec = f.fileName
    if (spec.startsWith('.')) out.local.push(path.posix.normalize(path.posix.join(path.posix.dirname(rel), spec)).replace(/\.js$/, '.ts'))
    else out.packages.push(spec)
  }
  return out
}

/** The violations of the rule in a graph of modules (path relative to server/ → what it imports). */
export function violations (graph: Map<string, Imports>): string[] {
  const problems: string[] = []
  for (const [from, imports] of graph) {
    const mine = layerOf(from)
    if (mine < 0) {
      problems.push(`${from} belongs to no layer: add its folder to LAYERS (and README)`)
      continue
    }
    for (const to of imports.local) {
      if (to.startsWith('../')) {
        problems.push(`${from} imports ${to}, outside server/`)
        continue
      }
      const theirs = layerOf(to)
      if (theirs >= 0 && theirs < mine) problems.push(`${from} (${LAYERS[mine]!.name}) imports ${to} (${LAYERS[theirs]!.name}), a higher layer`)
      // The store is SQLite only inside db/: other layers reach it through db/index.ts.
      if (!from.startsWith('db/') && (to === 'db/connection.ts' || to === 'db/migrate.ts' || to.startsWith('db/migrations/'))) {
        problems.push(`${from} imports ${to}: only db/ opens the database`)
      }
    }
    for (const p of imports.packages) {
      if (p === 'better-sqlite3' && !from.startsWith('db/')) problems.push(`${from} imports better-sqlite3: only db/ knows the store is SQLite`)
    }
  }
  for (const cycle of cycles(graph)) problems.push(`import cycle among ${cycle.join(', ')}`)
  return problems
}

/** The cycles of the graph: each strongly connected component of more than one module (or a self-import), by Tarjan's algorithm. */
export function cycles (graph: Map<string, Imports>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const out: string[][] = []
  let next = 0
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next)
    next++
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v)?.local ?? []) {
      if (!graph.has(w)) continue
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!))
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        scc.push(w)
      } while (w !== v)
      if (scc.length > 1 || graph.get(v)!.local.includes(v)) out.push(scc.sort())
    }
  }
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v)
  return out
}

function serverGraph (): Map<string, Imports> {
  const graph = new Map<string, Imports>()
  for (const rel of sourceFiles(SERVER)) graph.set(rel, importsOf(rel, readFileSync(path.join(SERVER, rel), 'utf8')))
  return graph
}

t.test('server/ imports point down the layers, with no cycle', async t => {
  const graph = serverGraph()
  t.ok(graph.size > 50, `${graph.size} modules read`)
  t.same(violations(graph), [])
})

t.test('the check sees what it must refuse', async t => {
  const g = (entries: Record<string, string>): Map<string, Imports> =>
    new Map(Object.entries(entries).map(([rel, src]) => [rel, importsOf(rel, src)]))
  t.same(importsOf('authz/explain.ts', `import type { X } from '../db/repositories/denials.js'
    // import { y } from '../routes/nothing.js'
    export { z } from './types.js'
    const m = await import('../sts/token.js')`).local, ['db/repositories/denials.ts', 'authz/types.ts', 'sts/token.ts'], 'static, type-only, re-exports and dynamic imports; not comments')
  t.match(violations(g({ 'authz/explain.ts': "import type { DenialDetail } from '../db/repositories/denials.js'" })), [/authz\/explain\.ts \(authz\) imports db\/repositories\/denials\.ts \(stores and domains\), a higher layer/])
  t.match(violations(g({ 'sts/plugin.ts': "import api from '../routes/api/mock-sts.js'" })), [/a higher layer/])
  t.same(violations(g({ 'routes/api/denials.ts': "import { toFilters } from '../../services/filters.js'" })), [], 'downwards is fine')
  t.match(violations(g({ 'services/decode.ts': "import Database from 'better-sqlite3'" })), [/only db\/ knows the store is SQLite/])
  t.match(violations(g({ 'cli/search.ts': "import { openDatabase } from '../db/connection.js'" })), [/only db\/ opens the database/])
  t.match(violations(g({ 'nowhere/x.ts': '' })), [/belongs to no layer/])
  t.same(violations(g({
    'sts/a.ts': "import { b } from './b.js'",
    'sts/b.ts': "import { c } from '../decode/c.js'",
    'decode/c.ts': "import { a } from '../sts/a.js'"
  })), ['import cycle among decode/c.ts, sts/a.ts, sts/b.ts'], 'a cycle inside one layer')
})
