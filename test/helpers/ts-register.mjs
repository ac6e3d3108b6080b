/**
 * Loaded with --import by every tap test process (.taprc node-arg): registers ts-hooks.mjs, in the
 * main thread and in every worker thread (Node 20's workers do not inherit module hooks; they inherit
 * execArgv, so this file runs in them too; on Node 24, where they are inherited as well, the hooks
 * simply run twice and the first to load a .ts file answers).
 */
import { register } from 'node:module'

register('./ts-hooks.mjs', import.meta.url)
