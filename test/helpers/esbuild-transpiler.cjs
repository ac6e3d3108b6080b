/** ts-node's transpiler for `npm run test:unit` (test/unit.tsconfig.json): esbuild instead of TypeScript. */
// TypeScript's transpileModule makes loading the app cost about 1.4 s more CPU per test file than
// esbuild (the transpiler tsx uses); types are checked by `npm run build` / `npm run typecheck`. Not
// for `npm test`: its coverage merges these modules with the CLI children's dist/ (built by tsc), and
// esbuild's function positions differ, so functions would count twice (functions 98% -> 91%).
// This is ts-node's documented "transpiler" option; tap's own alternative, the @tapjs/tsx plugin,
// rebuilds tap's generated files in node_modules.
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
