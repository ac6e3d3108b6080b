/**
 * Module hooks that let tap run the TypeScript sources (registered by ts-register.mjs):
 * - a source file whose tsc output in dist/ is up to date (`npm test` builds first) runs as that
 *   output, its source map inline: the same code the CLI tests' children run, so the coverage of
 *   both maps to the same functions and lines and merges;
 * - any other (`npx tap FILE` after an edit) has its types stripped by esbuild, whose function
 *   positions differ from tsc's by a column: such a run's function coverage is approximate;
 * - `./x.js` imported from a .ts file resolves to `./x.ts` when there is no x.js (the specifiers
 *   NodeNext makes us write).
 *
 * Why not a library made for it: tap's own TypeScript plugin compiles every module through ts-node in
 * every process (7.6 s to run one route test file here, 1.7 s through these hooks), and tsx minifies
 * whitespace unconditionally, which V8's coverage cannot map back to source lines.
 */
import { readFile, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { transform } from 'esbuild'

/** The package root, where dist/ mirrors the sources (tsconfig.json: rootDir ".", outDir "dist"). */
const ROOT = new URL('../../', import.meta.url)

const isTs = url => url.startsWith('file:') && new URL(url).pathname.endsWith('.ts')

/**
 * Sources that `npm run build` replaces in dist/ with a bundle of what they re-export
 * (server/build-bundles.mjs; server/util/typebox.ts says why). Their bundle is loaded as itself,
 * from dist/, as the CLI's children load it: its source map maps none of its code to ours.
 */
const BUNDLED = new Set(['server/util/typebox.ts'])

/**
 * When `npm run build` last succeeded (dist/.built, written after tsc: server/build-bundles.mjs), read
 * once per process: tsc builds incrementally, so an unchanged source may be newer than its output.
 */
let lastBuild = null
const lastBuildMs = () => (lastBuild ??= stat(new URL('dist/.built', ROOT)).then(s => s.mtimeMs, () => -Infinity))

/** The dist/ twin of a source file's URL, when dist/ holds it and neither it nor the last build is older than the source; else null. */
async function upToDate (url) {
  if (!url.startsWith(ROOT.href)) return null
  const js = new URL('dist/' + url.slice(ROOT.href.length).replace(/\.ts$/, '.js'), ROOT)
  try {
    const [source, compiled, built] = await Promise.all([stat(fileURLToPath(url)), stat(js), lastBuildMs()])
    return Math.max(compiled.mtimeMs, built) < source.mtimeMs ? null : js
  } catch {
    return null
  }
}

/** The bundle in dist/ for a source file of BUNDLED, when it is up to date; else null. */
async function bundle (url) {
  if (!BUNDLED.has(url.slice(ROOT.href.length))) return null
  return (await upToDate(url))?.href ?? null
}

export async function resolve (specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context)
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && context.parentURL !== undefined && isTs(context.parentURL) && /^\.{1,2}\/.*\.js$/.test(specifier)) {
      const ts = await nextResolve(specifier.replace(/js$/, 'ts'), context)
      const js = await bundle(ts.url)
      return js === null ? ts : { ...ts, url: js, format: 'module' }
    }
    throw err
  }
}

/** tsc's output for a source file, when dist/ holds it up to date (with its map); else null. */
async function built (url) {
  const js = await upToDate(url)
  if (js === null) return null
  try {
    const [code, mapText] = await Promise.all([readFile(js, 'utf8'), readFile(new URL(js.href + '.map'), 'utf8')])
    // The module keeps the .ts file's URL (import.meta.url and relative imports stay as they are): the
    // map names the source by that URL.
    const map = { ...JSON.parse(mapText), sourceRoot: '', sources: [url] }
    const inline = `//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`
    return code.replace(/\/\/# sourceMappingURL=\S+\s*$/, '') + inline
  } catch {
    return null
  }
}

export async function load (url, context, nextLoad) {
  if (!isTs(url)) return nextLoad(url, context)
  const file = fileURLToPath(url)
  const compiled = await built(url)
  if (compiled !== null) return { format: 'module', source: compiled, shortCircuit: true }
  const { code } = await transform(await readFile(file, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    sourcemap: 'inline',
    sourcefile: file,
    // As tsconfig.json: type-only imports are written as such; class fields are defined (ES2022).
    tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } }
  })
  return { format: 'module', source: code, shortCircuit: true }
}
