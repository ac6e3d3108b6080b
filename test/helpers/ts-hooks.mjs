/**
 * Module hooks that let Node run the TypeScript sources under tap: esbuild strips the types, one file
 * at a time, with an inline source map; `./x.js` imported from a .ts file resolves to `./x.ts` when
 * there is no x.js (the specifiers NodeNext makes us write). Registered by ts-register.mjs.
 *
 * Why not a library made for it: tap's own TypeScript plugin compiles through ts-node, which took
 * 7.6 s to start one route test file here (1.8 s through tsx), and tsx minifies whitespace
 * unconditionally: its output is a few long lines, which V8's coverage cannot map back to source
 * lines (every file came out at 100% or far below the truth). This emits esbuild's unminified output,
 * whose functions and lines match tsc's (dist/, run by the CLI tests), so coverage from both merges.
 */
import { readFile, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { transform } from 'esbuild'

const TS = /\.[cm]?ts$/

export async function resolve (specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context)
  } catch (err) {
    const fromTs = context.parentURL !== undefined && TS.test(new URL(context.parentURL).pathname)
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && fromTs && /^\.{1,2}\/.*\.[cm]?js$/.test(specifier)) {
      return nextResolve(specifier.replace(/js$/, 'ts'), context)
    }
    throw err
  }
}

/** The package root, where dist/ mirrors the sources (tsconfig.json: rootDir ".", outDir "dist"). */
const ROOT = new URL('../../', import.meta.url)

/**
 * tsc's own output for a source file, when dist/ holds it and it is not older than the source (`npm
 * test` builds first): the same code the CLI tests' children run, so the coverage of both maps to the
 * same functions and lines and merges. Its source map goes inline, naming the source by its absolute
 * URL (the module keeps the .ts file's URL: import.meta.url and every relative import stay as they are).
 */
async function built (url, file) {
  if (!url.startsWith(ROOT.href)) return null
  const js = new URL('dist/' + url.slice(ROOT.href.length).replace(/\.([cm]?)ts$/, '.$1js'), ROOT)
  try {
    const [source, compiled] = await Promise.all([stat(file), stat(js)])
    if (compiled.mtimeMs < source.mtimeMs) return null
    const [code, mapText] = await Promise.all([readFile(js, 'utf8'), readFile(new URL(js.href + '.map'), 'utf8')])
    const map = { ...JSON.parse(mapText), sourceRoot: '', sources: [url] }
    const inline = `//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`
    return code.replace(/\/\/# sourceMappingURL=\S+\s*$/, '') + inline
  } catch {
    return null
  }
}

export async function load (url, context, nextLoad) {
  if (!url.startsWith('file:') || !TS.test(new URL(url).pathname)) return nextLoad(url, context)
  const file = fileURLToPath(url)
  const format = url.endsWith('.cts') ? 'commonjs' : 'module'
  const compiled = await built(url, file)
  if (compiled !== null) return { format, source: compiled, shortCircuit: true }
  const { code } = await transform(await readFile(file, 'utf8'), {
    loader: 'ts',
    format: format === 'module' ? 'esm' : 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    sourcemap: 'inline',
    sourcefile: file,
    // As tsconfig.json: type-only imports are written as such; class fields are defined (ES2022).
    tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } }
  })
  return { format, source: code, shortCircuit: true }
}
