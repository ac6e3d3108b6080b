/**
 * A command starts without loading what it does not need: TypeBox as one bundled module (see
 * server/util/typebox.ts: its 683 files took two thirds of the start-up), and no web server or AWS
 * SDK for `search`.
 */
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/files.js'
import { openDatabase } from '../../server/db/connection.js'

const HOOK = fileURLToPath(new URL('../helpers/module-log.mjs', import.meta.url))
/** What tap's coverage hooks load into every child under `npm test` (@tapjs/processinfo and its dependencies). */
const TAP_HOOKS = /\/node_modules\/(@tapjs|uuid|signal-exit|process-on-spawn|pirates|node-options-to-argv)\//

async function loadedBy (t: Test, args: string[]): Promise<string[]> {
  const log = path.join(tempDir(t), 'modules.log')
  const r = await runCli(args, { env: { NODE_OPTIONS: `--import=${HOOK}`, WHYDENIED_MODULE_LOG: log } })
  t.equal(r.code, 0, r.stderr)
  return readFileSync(log, 'utf8').split('\n').filter(u => u !== '' && !TAP_HOOKS.test(u))
}

t.test('whydenied search loads TypeBox as one module, and about sixty in all', async t => {
  const db = path.join(tempDir(t), 'w.db')
  openDatabase(db).close()
  const urls = await loadedBy(t, ['search', '--db', db, '--json'])
  t.same(urls.filter(u => u.includes('/node_modules/typebox/')), [], 'nothing from typebox\'s own files')
  t.ok(urls.some(u => u.endsWith('/dist/server/util/typebox.js')), 'the bundle')
  t.same(urls.filter(u => /\/node_modules\/(fastify|@aws-sdk|handlebars)\//.test(u)), [], 'no web server, AWS SDK or templates')
  // 59 (50 of them ours) on 2026-11-30; 741 before the bundle. Room for a few more of our own.
  t.ok(urls.length < 100, `${urls.length} modules`)
})
