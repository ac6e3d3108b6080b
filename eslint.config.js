// eslint (flat config) with neostandard, the Fastify ecosystem's style: standard's rules plus TypeScript.
import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'coverage/**', 'data/**', 'bench-data/**', '.tap/**', 'test/artifacts/**']
  }),
  {
    rules: {
      // `void promise` marks a promise deliberately not awaited (a server's listen, a test's
      // background task); standard forbids every `void`, which would hide that intent.
      'no-void': ['error', { allowAsStatement: true }]
    }
  },
  {
    // TypeBox is loaded from one module, bundled at build time (server/util/typebox.ts says why).
    files: ['server/**/*.ts', 'test/**/*.ts', 'fixtures/**/*.ts'],
    ignores: ['server/util/typebox.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^typebox(/|$)', message: 'import it from server/util/typebox.js (one bundled module instead of 683 files)' }] }]
    }
  }
]
