/** The stale-build check that guards the CLI tests, on a fake tree with chosen modification times. */
import t from 'tap'
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { staleMessage, staleOutputs } from './dist.js'
import { tempDir } from './files.js'

function file (root: string, rel: string, mtimeSec: number): void {
  const f = path.join(root, rel)
  mkdirSync(path.dirname(f), { recursive: true })
  writeFileSync(f, '')
  utimesSync(f, mtimeSec, mtimeSec)
}

t.test('a build newer than every source is current', async t => {
  const root = tempDir(t)
  file(root, 'server/cli.ts', 1000)
  file(root, 'server/db/index.ts', 1000)
  file(root, 'server/types.d.ts', 5000)
  file(root, 'dist/server/cli.js', 2000)
  file(root, 'dist/server/db/index.js', 1000)
  t.same(staleOutputs(root), [], 'equal times count as built; declaration files have no output')
  t.equal(staleMessage(root), null)
})

t.test('an edited source or a missing output is stale', async t => {
  const root = tempDir(t)
  file(root, 'server/cli.ts', 3000)
  file(root, 'server/db/index.ts', 1000)
  file(root, 'server/db/new-module.ts', 1000)
  file(root, 'server/views/page.hbs', 9000)
  file(root, 'dist/server/cli.js', 2000)
  file(root, 'dist/server/db/index.js', 2000)
  t.same(staleOutputs(root), ['server/cli.ts', path.join('server', 'db', 'new-module.ts')], 'only TypeScript sources are compared')
  t.match(staleMessage(root), /^dist\/ is older than the sources \(server\/cli\.ts, server\/db\/new-module\.ts\): run `npm run build` first/)
})

t.test('no build at all: every source is named, the list shortened', async t => {
  const root = tempDir(t)
  for (const name of ['a', 'b', 'c', 'd', 'e']) file(root, `server/${name}.ts`, 1000)
  t.equal(staleOutputs(root).length, 5)
  t.match(staleMessage(root), /\(server\/a\.ts, server\/b\.ts, server\/c\.ts and 2 more\)/)
})

t.test('a source touched after its output, but before the last good build, is current', async t => {
  // tsc's incremental build rewrites only changed files' outputs; `npm run build` then writes dist/.built.
  const root = tempDir(t)
  // [source, its time, its output's time (none: no output)], then the last build at 4000.
  const files: Array<[string, number, number | null]> = [['cli', 3000, 2000], ['db/index', 5000, 2000], ['db/gone', 1000, null]]
  for (const [name, source, built] of files) {
    file(root, `server/${name}.ts`, source)
    if (built !== null) file(root, `dist/server/${name}.js`, built)
  }
  file(root, 'dist/.built', 4000)
  t.same(staleOutputs(root), [path.join('server', 'db', 'gone.ts'), path.join('server', 'db', 'index.ts')],
    'cli.ts (touched before the build) is current; index.ts (edited after it) is not; a missing output is stale whatever the build time')
})
