// `node --import=./test/helpers/module-log.mjs …`: every module the process loads is appended, one URL
// a line, to the file WHYDENIED_MODULE_LOG names (test/cli/start-up.test.ts counts a command's).
import { register } from 'node:module'

register(new URL('./module-log-hooks.mjs', import.meta.url), { data: { log: process.env.WHYDENIED_MODULE_LOG } })
