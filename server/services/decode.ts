/** The decode workflow shared by `whydenied decode`, POST /api/decode and the import page: text → messages → decoded JSON → stored. */
import type { STSClient } from '@aws-sdk/client-sts'
import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { parseEnvelope } from '../authz/parse.js'
import { MAX_LINE, parseDenialText, type TextDenial } from '../authz/text.js'
import type { DenialsRepository } from '../db/repositories/denials.js'
import { decodingIdentity, type IdentityTable } from '../sts/identities.js'
import { contextOf, createStsClient, decodeMessage, DecodeError, type DecodeContext, type StsTarget } from '../decode/client.js'
import { extractTokens, type TokenProblem } from '../decode/extract.js'
import type { Importer } from './importer.js'

export interface DecodedItem {
  token: string
  /** Exactly what STS returned. */
  DecodedMessage: string
  /** With store: whether this message was new, or another occurrence of a stored one. */
  stored?: 'imported' | 'duplicate'
  /** With store: the denial's id (GET /api/denials/:id). */
  denialId?: number
}

export type DecodeOutcome = { ok: true, item: DecodedItem } | { ok: false, token: string, error: DecodeError }

/**
 * The access-denied sentences of a text that holds no encoded message (nothing to decode), or null:
 * `whydenied decode` and the Import page's decode form then show and store them as text denials.
 */
export function textDenialsOnly (text: string): TextDenial[] | null {
  if (text.length > 16 * MAX_LINE || extractTokens(text).tokens.length > 0 || /encoded\s+(?:authori[sz]ation\s+)?failure\s+message/i.test(text)) return null
  const found: TextDenial[] = []
  for (const line of text.split(/\r?\n/)) {
    const r = parseDenialText(line)
    if (r?.ok === true) found.push(r.denial)
  }
  return found.length > 0 ? found : null
}

/** Decode every token, in order, one call each; a failure does not stop the others. */
export async function decodeAll (client: STSClient, tokens: string[], ctx: DecodeContext): Promise<DecodeOutcome[]> {
  const out: DecodeOutcome[] = []
  for (const token of tokens) {
    try {
      out.push({ ok: true, item: { token, DecodedMessage: await decodeMessage(client, token, ctx) } })
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err
      out.push({ ok: false, token, error: err })
    }
  }
  return out
}

/**
 * Import decoded messages exactly as the AWS CLI would have printed them ({"DecodedMessage": "..."}),
 * through the Importer like any other import; one import per item so each gets its outcome and id.
 */
export async function storeDecoded (importer: Importer, denials: DenialsRepository, items: DecodedItem[], source: string): Promise<{ imported: number, duplicates: number, rejected: Array<{ line: number, reason: string }> }> {
  const total = { imported: 0, duplicates: 0, rejected: [] as Array<{ line: number, reason: string }> }
  for (const [i, item] of items.entries()) {
    const value = { DecodedMessage: item.DecodedMessage }
    // The encoded message is the failure's identity: the same message decoded twice is one
    // occurrence, two messages that decode to the same content are two.
    const encodedSha256 = createHash('sha256').update(item.token).digest('hex')
    const s = await importer.run([{ kind: 'record', record: { source, line: i + 1, index: 0, value, encodedSha256 } }], { source, label: source })
    total.imported += s.imported
    total.duplicates += s.duplicates
    for (const r of s.rejected) total.rejected.push({ line: r.line, reason: r.reason })
    if (s.imported + s.duplicates > 0) {
      item.stored = s.imported > 0 ? 'imported' : 'duplicate'
      const id = denials.idByHash(parseEnvelope(value).message.contentHash)
      if (id !== undefined) item.denialId = id
    }
  }
  return total
}

/**
 * The target for a mock served by `app` (at /sts), signed as the first identity allowed to decode; if none
 * is, as the first identity, so that the mock answers AccessDenied and the user learns why.
 */
export function localTarget (app: FastifyInstance, identities: IdentityTable, region?: string, secretOrigin?: string): StsTarget {
  const id = decodingIdentity(identities) ?? identities.values().next().value!
  return { kind: 'local', app, region, secretOrigin, credentials: { accessKeyId: id.accessKeyId, secretAccessKey: id.secretAccessKey, ...(id.sessionToken ? { sessionToken: id.sessionToken } : {}) } }
}

/** What decoding a text gave: every message decoded (and stored, if asked), or why not. */
export type DecodeTextOutcome =
  | { ok: true, items: DecodedItem[] }
  /** Some candidate is doubtful: nothing was sent to STS. */
  | { ok: false, problems: TokenProblem[] }
  /** STS (or the way to it) failed on `token`, the `index`-th (0-based) of `count` messages; nothing was stored. */
  | { ok: false, problems?: undefined, token: string, index: number, count: number, error: DecodeError }

/** One STS client for the app's decoding (POST /api/decode and the import page), stored through the importer. */
export class Decoder {
  /** A human label for messages: "the local mock STS", "the STS at URL". */
  readonly label: string
  private readonly client: STSClient
  private readonly context: DecodeContext

  constructor (target: StsTarget, private readonly importer: Importer, private readonly denials: DenialsRepository) {
    this.client = createStsClient(target)
    this.context = contextOf(target)
    this.label = this.context.target
  }

  async decodeText (text: string, store: { source: string } | null): Promise<DecodeTextOutcome> {
    const { tokens, problems } = extractTokens(text)
    if (problems.length > 0) return { ok: false, problems }
    const outcomes = await decodeAll(this.client, tokens, this.context)
    const index = outcomes.findIndex(o => !o.ok)
    const failed = outcomes[index]
    if (failed !== undefined && !failed.ok) return { ok: false, token: failed.token, index, count: tokens.length, error: failed.error }
    const items = outcomes.flatMap(o => o.ok ? [o.item] : [])
    if (store !== null) await storeDecoded(this.importer, this.denials, items, store.source)
    return { ok: true, items }
  }

  close (): void {
    this.client.destroy()
  }
}
