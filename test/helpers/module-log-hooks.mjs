// The module hooks of module-log.mjs: they run on Node's hooks thread, and only note each load.
import { appendFileSync } from 'node:fs'

let log

export function initialize (data) { log = data.log }

export async function load (url, context, nextLoad) {
  if (log) appendFileSync(log, url + '\n')
  return nextLoad(url, context)
}
