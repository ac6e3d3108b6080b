/** Load decoded fixtures into an in-memory database and read them back as DenialDetail, as the app does. */
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { parseEnvelope } from '../../server/authz/parse.js'
import type { DenialDetail } from '../../server/authz/types.js'
import { openStore } from '../../server/db/index.js'
import { DECODED_FIXTURES } from '../helpers/files.js'

export function fixtureNames (): string[] {
  return readdirSync(DECODED_FIXTURES).filter(f => f.endsWith('.json')).map(f => f.replace(/\.json$/, '')).sort()
}

/** Every decoded fixture by name (without .json), stored once and read back whole. */
export function loadFixtureDenials (): Map<string, DenialDetail> {
  const store = openStore(':memory:')
  const repos = store.repos
  const out = new Map<string, DenialDetail>()
  for (const name of fixtureNames()) {
    const env = parseEnvelope(JSON.parse(readFileSync(path.join(DECODED_FIXTURES, `${name}.json`), 'utf8')))
    repos.writer.storeBatch([{ message: env.message, source: name, line: 1, observedAt: '2026-11-01T10:00:00.000Z' }], [], null)
    out.set(name, repos.denials.get(repos.denials.idByHash(env.message.contentHash)!)!)
  }
  store.close()
  return out
}
