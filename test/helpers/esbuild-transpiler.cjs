/** ts-node's transpiler for the tests (tap runs .ts files through ts-node): esbuild instead of TypeScript. */
// TypeScript's transpileModule made loading the app cost about 1.4 s more CPU per test file than
// esbuild, the transpiler tsx uses; types are checked by `npm run build` / `npm run typecheck`, not
// here. This is ts-node's documented extension point (the "transpiler" option in tsconfig.json):
// tap's own alternative, the @tapjs/tsx plugin, needs a rebuild of tap's generated files.
'use strict'
const esbuild = require('esbuild')

exports.create = ({ nodeModuleEmitKind }) => ({
  transpile (input, { fileName }) {
    const out = esbuild.transformSync(input, {
      loader: fileName.endsWith('x') ? 'tsx' : 'ts',
      format: nodeModuleEmitKind === 'nodecjs' ? 'cjs' : 'esm',
      // As tsconfig.json: ES2022 class fields, imports kept exactly as written.
      target: 'es2022',
      tsconfigRaw: { compilerOptions: { target: 'ES2022', useDefineForClassFields: true, verbatimModuleSyntax: true } },
      sourcemap: 'external',
      sourcefile: fileName
    })
    return { outputText: out.code, sourceMapText: out.map }
  }
})
