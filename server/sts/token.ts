/**
 * Encoded authorization messages minted by the mock STS: opaque, self-contained, authenticated.
 *
 * Format (version 2): base64url without padding of
 *   marker (12 bytes) | IV (12 bytes) | AES-256-GCM ciphertext | GCM tag (16 bytes)
 * where the 12 marker bytes are chosen so that every token starts with the text `whyDeniedMock-v2`
 * (MOCK_MARKER): a person, and `whydenied decode`, can tell a mock's message from one AWS issued.
 * Version 1 (before the marker) had a single version byte 0x01 instead; such tokens still decode.
 * The plaintext is
 *   expiry (uint32 BE, Unix seconds; 0 = never) | pad length (1 byte) | deflateRaw(decoded JSON, UTF-8) | pad
 * The marker (or version byte) is authenticated as additional data, so changing any character fails the tag check.
 * The key is HKDF-SHA256 of a local secret (see loadStsSecret), so any process that shares the
 * secret decodes any token without a lookup table, also after a restart.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { CannotMintError, StsKeyError } from '../errors.js'
import { xmlIllegalChar } from './xml.js'

/** STS's limit on EncodedMessage (service model: length 1..10240). */
export const MAX_ENCODED_LENGTH = 10240
/** Minted tokens are padded to at least this many characters (real ones are several hundred). */
export const MIN_ENCODED_LENGTH = 100
/** A decoded message this large cannot fit anyway; refuse before compressing. */
const MAX_DECODED_BYTES = 4 * 1024 * 1024

/** Every token the mock mints starts with this text (12 bytes, so base64url keeps it intact). */
export const MOCK_MARKER = 'whyDeniedMock-v2'
const MARKER_BYTES = Buffer.from(MOCK_MARKER, 'base64url')
/** The version byte of tokens minted before the marker (still opened). */
const VERSION_1 = 0x01
const IV_BYTES = 12
const TAG_BYTES = 16
const HEADER_BYTES = MARKER_BYTES.length + IV_BYTES
const PLAIN_HEADER = 5
const TOKEN_RE = /^[A-Za-z0-9_-]+$/

/** Why a token did not open; the mock answers all of these with InvalidAuthorizationMessageException. */
export class InvalidTokenError extends Error {
  constructor (readonly reason: 'malformed' | 'tampered' | 'expired', message: string) {
    super(message)
    this.name = 'InvalidTokenError'
  }
}

export interface OpenedToken {
  decoded: string
  /** Expiry in ms since the epoch, or null. */
  expiresAt: number | null
}

export interface MintOptions {
  /** Lifetime in seconds (null/undefined: never expires). */
  ttlSeconds?: number | null
  now?: number
}

export class TokenCodec {
  private readonly key: Buffer

  /** `secret`: any non-empty bytes; the AES key is derived from it. */
  constructor (secret: Buffer | string) {
    const ikm = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret
    if (ikm.length === 0) throw new Error('the mock STS secret is empty')
    this.key = Buffer.from(hkdfSync('sha256', ikm, 'whydenied-mock-sts', 'encoded-authorization-message v1', 32))
  }

  /** Encode a decoded message (its exact JSON text). Throws CannotMintError with the reason. */
  mint (decoded: string, opts: MintOptions = {}): string {
    const bad = xmlIllegalChar(decoded)
    if (bad !== null) {
      throw new CannotMintError(`the decoded message contains the character U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}, which no STS XML response can carry`)
    }
    const json = Buffer.from(decoded, 'utf8')
    if (json.length > MAX_DECODED_BYTES) throw new CannotMintError(`the decoded message is ${json.length} bytes; it cannot fit in an encoded message of at most ${MAX_ENCODED_LENGTH} characters`)
    const ttl = opts.ttlSeconds
    if (ttl != null && (!Number.isFinite(ttl) || ttl <= 0)) throw new CannotMintError(`ttl must be a positive number of seconds, got ${ttl}`)
    const now = opts.now ?? Date.now()
    const expiry = ttl == null ? 0 : Math.min(0xffffffff, Math.ceil(now / 1000 + ttl))
    const body = deflateRawSync(json, { level: 9 })
    const minPlain = Math.ceil(MIN_ENCODED_LENGTH * 3 / 4) - HEADER_BYTES - TAG_BYTES
    const padLen = Math.max(0, Math.min(255, minPlain - PLAIN_HEADER - body.length))
    const plain = Buffer.alloc(PLAIN_HEADER + body.length + padLen)
    plain.writeUInt32BE(expiry, 0)
    plain.writeUInt8(padLen, 4)
    body.copy(plain, PLAIN_HEADER)
    randomBytes(padLen).copy(plain, PLAIN_HEADER + body.length)
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    cipher.setAAD(MARKER_BYTES)
    const ct = Buffer.concat([cipher.update(plain), cipher.final()])
    const token = Buffer.concat([MARKER_BYTES, iv, ct, cipher.getAuthTag()]).toString('base64url')
    if (token.length > MAX_ENCODED_LENGTH) {
      throw new CannotMintError(`the encoded message would be ${token.length} characters, over STS's limit of ${MAX_ENCODED_LENGTH}: the decoded message (${json.length} bytes, ${body.length} compressed) is too large`)
    }
    return token
  }

  /** Decode a token minted with the same secret. Throws InvalidTokenError. */
  open (token: string, now = Date.now()): OpenedToken {
    if (!TOKEN_RE.test(token)) throw new InvalidTokenError('malformed', 'the message contains characters outside base64url (A-Z a-z 0-9 - _), such as line breaks or quotes')
    if (token.length % 4 === 1) throw new InvalidTokenError('malformed', 'the message has an impossible length (truncated?)')
    const bytes = Buffer.from(token, 'base64url')
    const marked = isMockToken(token)
    // Version 1 tokens (no marker) are told apart by their first byte; anything else is not ours.
    const header = marked ? MARKER_BYTES.length : bytes[0] === VERSION_1 ? 1 : 0
    if (header === 0) throw new InvalidTokenError('malformed', NOT_MINTED_HERE)
    if (bytes.length < header + IV_BYTES + PLAIN_HEADER + TAG_BYTES) {
      throw new InvalidTokenError('malformed', 'the message is too short to be one this mock minted (truncated?)')
    }
    const iv = bytes.subarray(header, header + IV_BYTES)
    const tag = bytes.subarray(bytes.length - TAG_BYTES)
    const ct = bytes.subarray(header + IV_BYTES, bytes.length - TAG_BYTES)
    let plain: Buffer
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv)
      decipher.setAAD(bytes.subarray(0, header))
      decipher.setAuthTag(tag)
      plain = Buffer.concat([decipher.update(ct), decipher.final()])
    } catch {
      throw new InvalidTokenError('tampered', 'the message failed its integrity check: it was changed, truncated, or issued with another secret')
    }
    const expiry = plain.readUInt32BE(0)
    if (expiry !== 0 && now >= expiry * 1000) {
      throw new InvalidTokenError('expired', `the message expired at ${new Date(expiry * 1000).toISOString()}`)
    }
    const padLen = plain.readUInt8(4)
    const decoded = inflateRawSync(plain.subarray(PLAIN_HEADER, plain.length - padLen)).toString('utf8')
    return { decoded, expiresAt: expiry === 0 ? null : expiry * 1000 }
  }
}

/** What the mock answers for a message without its marker: most likely a real one, from AWS. */
export const NOT_MINTED_HERE = `the message is not one a whydenied mock minted (those start with ${MOCK_MARKER}); a message from AWS decodes only with AWS STS`

/** Whether a token carries the mock's marker (was minted by a whydenied mock STS, with some secret). */
export function isMockToken (token: string): boolean {
  return token.startsWith(MOCK_MARKER)
}

/** Where the mock STS secret lives for a database: next to it. Null for an in-memory database. */
export function stsKeyFile (dbPath: string): string | null {
  if (dbPath === '' || dbPath === ':memory:' || dbPath.startsWith('file::memory:')) return null
  return path.join(path.dirname(path.resolve(dbPath)), 'mock-sts.key')
}

export interface StsSecret {
  secret: Buffer
  /** 'config' ($WHYDENIED_STS_SECRET), the key file's path, or 'ephemeral' (in-memory database). */
  origin: string
}

/**
 * The mock STS secret: the configured one, else the key file next to the database (created on first
 * use, mode 0600, atomically so that two processes starting together agree; with create: false a
 * missing file gives a random secret instead), else a random one for an in-memory database (its
 * tokens do not survive a restart).
 */
export function loadStsSecret (opts: { secret?: string | null, dbPath: string, create?: boolean }): StsSecret {
  if (opts.secret) return { secret: Buffer.from(opts.secret, 'utf8'), origin: 'config' }
  const file = stsKeyFile(opts.dbPath)
  if (file === null) return { secret: randomBytes(32), origin: 'ephemeral' }
  try {
    return { secret: readKeyFile(file), origin: file }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new StsKeyError(file, (err as Error).message)
  }
  // A reader (`whydenied decode`) creates nothing: with no key file, no message minted for this --db exists.
  if (opts.create === false) return { secret: randomBytes(32), origin: `${file}, which does not exist (nothing was minted with this --db)` }
  try {
    mkdirSync(path.dirname(file), { recursive: true })
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    writeFileSync(tmp, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' })
    try {
      linkSync(tmp, file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    } finally {
      unlinkSync(tmp)
    }
    return { secret: readKeyFile(file), origin: file }
  } catch (err) {
    if (err instanceof StsKeyError) throw err
    throw new StsKeyError(file, (err as Error).message)
  }
}

function readKeyFile (file: string): Buffer {
  const text = readFileSync(file, 'utf8').trim()
  if (text.length < 16) throw new StsKeyError(file, 'holds fewer than 16 characters: delete it to generate a new one (tokens minted with the old secret stop working), or write a longer secret into it')
  return Buffer.from(text, 'utf8')
}
