/**
 * TypeBox, the one module the rest of the code imports it from.
 *
 * Why: typebox 1.x ships as 683 small ES modules, and loading them took ~0.22 s of the CLI's 0.34 s
 * start (`whydenied search`, measured 2026-11-30 on Node 20), for every command and every test that
 * starts one. `npm run build` bundles this file, with what it re-exports, into one module in dist/
 * (esbuild, package.json's build script), which loads in ~15 ms. From the sources (tsx, the test
 * loader on a stale dist/) it is a plain re-export. eslint.config.js keeps other modules from
 * importing typebox directly, which would load the 683 files again beside the bundle.
 */
export { Type, type Static, type TSchema } from 'typebox'
export { Compile, type Validator } from 'typebox/compile'
export { Value } from 'typebox/value'
export type { TLocalizedValidationError } from 'typebox/error'
