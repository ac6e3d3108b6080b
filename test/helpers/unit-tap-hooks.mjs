/** Module hooks for `npm run test:unit`'s batches: a test file's `tap` is its own subtest (unit-tap.mjs), helpers keep tap itself. */
const SHIM = new URL('./unit-tap.mjs', import.meta.url).href

export async function resolve (specifier, context, next) {
  // The pathname: the shim's own URL ends with its test file's name too, in the query.
  if (specifier === 'tap' && context.parentURL !== undefined && new URL(context.parentURL).pathname.endsWith('.test.ts')) {
    return { url: `${SHIM}?for=${encodeURIComponent(context.parentURL)}`, shortCircuit: true }
  }
  return next(specifier, context)
}
