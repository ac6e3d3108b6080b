// `npm run build`, after tsc: replaces dist/server/util/typebox.js (a re-export of typebox) with one
// bundled module of what it re-exports. server/util/typebox.ts says why (start-up time).
//
// The bundle's source map maps none of its code: coverage then counts server/util/typebox.ts, a
// re-export like any other, and not TypeBox's own 9,000 lines, which c8 would otherwise report as
// ours (a map into node_modules is not excluded after remapping, and `c8 ignore` counts as covered).
import { build } from 'esbuild'
import { writeFileSync } from 'node:fs'

const root = new URL('../', import.meta.url)
const out = new URL('dist/server/util/typebox.js', root)
await build({
  entryPoints: [new URL('server/util/typebox.ts', root).pathname],
  outfile: out.pathname,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  allowOverwrite: true,
  logLevel: 'warning',
  footer: { js: '//# sourceMappingURL=typebox.js.map' }
})
writeFileSync(new URL('dist/server/util/typebox.js.map', root), JSON.stringify({ version: 3, file: 'typebox.js', sources: ['../../../server/util/typebox.ts'], names: [], mappings: '' }))

// Last, once tsc has succeeded: dist/.built, whose time says that every source older than it is
// compiled. tsc builds incrementally (tsconfig.json) and rewrites only the outputs of files whose
// content changed, so a source touched but not changed stays newer than its output: the checks that
// dist/ is current (test/helpers/dist.ts, test/helpers/ts-hooks.mjs) take this time as well.
writeFileSync(new URL('dist/.built', root), `${new Date().toISOString()}\n`)
