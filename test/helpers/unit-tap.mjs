/** What a unit test file gets for `import t from 'tap'` under `npm run test:unit`: its own subtest (see unit-batch.ts). */
// One instance of this module per test file: the loader hook (unit-tap-hooks.mjs) gives each file a
// URL of its own (?for=<file>), so each evaluation reads the subtest unit-batch.ts set for that file.
export * from 'tap'

const t = globalThis[Symbol.for('whydenied.unit-batch.t')]
if (t === undefined) throw new Error('unit-tap.mjs is loaded by test/helpers/unit-batch.ts only')

// A local export shadows tap's own `t` from the `export *` above.
export { t }
export default t
