/** Where the CLI decodes (real AWS, an endpoint, or the local mock in process), shared by `decode` and `import --decode`. */
import type { STSClient } from '@aws-sdk/client-sts'
import { loadConfig } from '../config.js'
import { createStsClient, describeTarget, type StsTarget } from '../decode/client.js'
import { localTarget } from '../services/decode.js'
import type { PendingSummary } from '../services/pending.js'
import { buildStsMock } from '../sts/plugin.js'
import { dbPath, fail, type DbOption } from './common.js'

export interface StsChoice extends DbOption { endpoint?: string | undefined, aws?: boolean | undefined, region?: string | undefined, identities?: string | undefined }

/**
 * Where to decode: real AWS (--aws), an endpoint (--endpoint or $WHYDENIED_STS_ENDPOINT), else the local
 * mock in process with the secret next to --db. `close` ends the client and the mock.
 */
export async function openSts (opts: StsChoice): Promise<{ client: STSClient, label: string, close: () => Promise<void> }> {
  const config = loadConfig()
  const endpoint = opts.endpoint ?? (opts.aws ? null : config.stsEndpoint)
  let mock: Awaited<ReturnType<typeof buildStsMock>> | null = null
  let target: StsTarget
  if (endpoint) target = { kind: 'endpoint', endpoint: checkedUrl(endpoint), region: opts.region }
  else if (opts.aws) target = { kind: 'aws', region: opts.region }
  else {
    mock = await buildStsMock({ identitiesFile: opts.identities ?? config.stsIdentitiesFile, secret: config.stsSecret, dbPath: dbPath(opts), logger: false })
    await mock.ready()
    target = localTarget(mock, mock.sts.identities, opts.region)
  }
  const client = createStsClient(target)
  return { client, label: describeTarget(target), close: async () => { client.destroy(); await mock?.close() } }
}

/** What decoding the pending messages did, in a line for a person. */
export function pendingLine (p: PendingSummary): string {
  return `decoded ${p.decoded} encoded message${p.decoded === 1 ? '' : 's'} from CloudTrail (${p.fromCache} without a call), ${p.undecodable} undecodable, ${p.remaining} still pending`
}

export function checkedUrl (value: string): string {
  let u: URL
  try {
    u = new URL(value)
  } catch {
    fail(`--endpoint ${value} is not a URL: give e.g. http://127.0.0.1:3001/sts`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(`--endpoint ${value}: use an http:// or https:// URL`)
  return value
}
