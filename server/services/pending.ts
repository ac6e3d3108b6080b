/**
 * Decoding the encoded messages CloudTrail recorded (import --decode, decode --pending): each waiting
 * event's message is decoded once (cached by its SHA-256), a few at a time, with backoff when STS
 * throttles; the event's occurrence then moves from its text denial to the decoded one.
 */
import type { STSClient } from '@aws-sdk/client-sts'
import { parseEnvelope, RecordError } from '../authz/parse.js'
import type { DenialWriter } from '../db/repositories/denial-writer.js'
import { sha256, type EventsRepository, type PendingEvent } from '../db/repositories/events.js'
import { decodeMessage, DecodeError } from '../decode/client.js'

export interface PendingOptions {
  /** Calls to STS at once (default 4): STS's DecodeAuthorizationMessage quota is low. */
  concurrency?: number
  /** Attempts per message when STS throttles (default 6), waiting baseDelayMs, 2×, 4×… (with jitter) between them. */
  maxAttempts?: number
  baseDelayMs?: number
  /** Events read per round (default 200). */
  batch?: number
}

export interface PendingSummary {
  /** Events whose occurrence now belongs to a decoded denial. */
  decoded: number
  /** Of those, decoded without a call: the message had been decoded before. */
  fromCache: number
  /** STS cannot decode the message (damaged, expired, another account's): the event keeps its text denial. */
  undecodable: number
  /** Events still waiting (a failure stopped the run: STS unreachable, access denied…). */
  remaining: number
  /** Why the run stopped early, if it did. */
  error: string | null
}

const THROTTLED = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException'])

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** DecodeAuthorizationMessage with backoff on throttling (beyond the SDK's own retry). */
export async function decodeWithBackoff (client: STSClient, token: string, label: string, opts: PendingOptions = {}): Promise<string> {
  const attempts = opts.maxAttempts ?? 6
  const base = opts.baseDelayMs ?? 200
  for (let i = 1; ; i++) {
    try {
      return await decodeMessage(client, token, { target: label })
    } catch (err) {
      if (!(err instanceof DecodeError) || err.stsCode === null || !THROTTLED.has(err.stsCode) || i >= attempts) throw err
      await sleep(base * 2 ** (i - 1) * (0.5 + Math.random() / 2))
    }
  }
}

export async function decodePending (events: EventsRepository, writer: DenialWriter, client: STSClient, label: string, opts: PendingOptions = {}): Promise<PendingSummary> {
  const out: PendingSummary = { decoded: 0, fromCache: 0, undecodable: 0, remaining: 0, error: null }
  const concurrency = Math.max(1, opts.concurrency ?? 4)
  // One call per distinct message in this run, also when several events carry it.
  const inFlight = new Map<string, Promise<string>>()
  let after = 0
  let stop: DecodeError | null = null
  while (stop === null) {
    const batch = events.pending(after, opts.batch ?? 200)
    if (batch.length === 0) break
    after = batch[batch.length - 1]!.id
    let next = 0
    const work = async (): Promise<void> => {
      while (stop === null && next < batch.length) {
        const e = batch[next++]!
        try {
          await decodeOne(e)
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err
          if (err.stsCode === 'InvalidAuthorizationMessageException') {
            events.markUndecodable(e.id)
            out.undecodable++
          } else {
            stop = err
          }
        }
      }
    }
    const decodeOne = async (e: PendingEvent): Promise<void> => {
      let decoded = events.cached(e.token)
      if (decoded !== undefined) out.fromCache++
      else {
        let p = inFlight.get(e.token)
        if (p === undefined) {
          p = decodeWithBackoff(client, e.token, label, opts)
          inFlight.set(e.token, p)
        } else {
          out.fromCache++
        }
        decoded = await p
        events.cache(e.token, decoded)
      }
      let message
      try {
        message = parseEnvelope({ DecodedMessage: decoded }).message
      } catch (err) {
        if (!(err instanceof RecordError)) throw err
        throw new DecodeError(`${label} answered with a message whydenied cannot read: ${err.message}`, 502, 'WHYDENIED_STS_BAD_RESPONSE', 'InvalidAuthorizationMessageException')
      }
      writer.transaction(() => {
        const id = writer.decodedDenial(message, e.eventTime)
        events.relink(e.id, e.occurrenceId, id, sha256(e.token))
      })
      out.decoded++
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, work))
  }
  out.remaining = events.pendingCount()
  out.error = (stop as DecodeError | null)?.message ?? null
  return out
}
