/** Mint encoded messages from decoded ones in any import format (shared by the CLI and the API). */
import { parseEnvelope, RecordError } from '../authz/parse.js'
import type { InputItem, RejectedRecord } from '../authz/types.js'
import { CannotMintError } from '../errors.js'
import type { TokenCodec } from './token.js'

export interface MintedRecord { source: string, line: number, token: string }
export interface MintSummary { minted: MintedRecord[], rejected: RejectedRecord[] }

/**
 * One token per record, in input order. The token carries `raw` (the decoded JSON exactly as it was
 * given: the DecodedMessage string byte for byte, or the compact JSON of an object), so decoding it
 * gives back what `aws sts decode-authorization-message` would print for it.
 */
export async function mintRecords (items: AsyncIterable<InputItem> | Iterable<InputItem>, codec: TokenCodec, opts: { ttlSeconds?: number | null, now?: number } = {}): Promise<MintSummary> {
  const out: MintSummary = { minted: [], rejected: [] }
  for await (const item of items) {
    if (item.kind === 'rejected') { out.rejected.push(item.rejected); continue }
    const { source, line, value } = item.record
    try {
      const { message } = parseEnvelope(value)
      out.minted.push({ source, line, token: codec.mint(message.raw, opts) })
    } catch (err) {
      if (err instanceof RecordError || err instanceof CannotMintError) out.rejected.push({ source, line, reason: err.message })
      else throw err
    }
  }
  return out
}
