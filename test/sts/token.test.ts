/** Encoded messages: exact round trip, authentication, expiry, size limits, and the persisted secret. */
import t from 'tap'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { deflateRawSync } from 'node:zlib'
import path from 'node:path'
import { DECODED_FIXTURES, tempDir } from '../helpers/files.js'
import { InvalidTokenError, isMockToken, loadStsSecret, MAX_ENCODED_LENGTH, MIN_ENCODED_LENGTH, MOCK_MARKER, stsKeyFile, TokenCodec } from '../../server/sts/token.js'

const fixtures = readdirSync(DECODED_FIXTURES).filter(f => f.endsWith('.json')).map(f => ({ name: f, raw: JSON.parse(readFileSync(path.join(DECODED_FIXTURES, f), 'utf8')).DecodedMessage as string }))
const codec = new TokenCodec('unit-test-secret-0123456789')

/** Why open() refused the token ('malformed' | 'tampered' | 'expired'), or 'opened'. */
function refusal (fn: () => unknown): string {
  try {
    fn()
    return 'opened'
  } catch (err) {
    return err instanceof InvalidTokenError ? err.reason : String(err)
  }
}

t.test('every fixture round-trips byte for byte; tokens are base64url without padding, within limits', async t => {
  for (const f of fixtures) {
    const token = codec.mint(f.raw)
    t.match(token, /^[A-Za-z0-9_-]+$/, f.name)
    t.ok(token.length >= MIN_ENCODED_LENGTH && token.length <= MAX_ENCODED_LENGTH)
    t.equal(codec.open(token).decoded, f.raw, f.name)
    t.not(codec.mint(f.raw), token, 'a fresh IV every time: opaque')
  }
  const odd = '\r\n  {"allowed":false,"explicitDeny":false,"context":{"x":"tab\there"}}\n\t'
  t.equal(codec.open(codec.mint(odd)).decoded, odd, 'white space and CR kept')
  const tiny = codec.mint('{}')
  t.ok(tiny.length >= MIN_ENCODED_LENGTH, 'padded to look like a real message')
  t.equal(codec.open(tiny).decoded, '{}')
})

t.test('any change makes the token invalid', async t => {
  const token = codec.mint(fixtures[0]!.raw)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  // Every position, changed to another character (the last character's low bits may be padding: skip it).
  for (let i = 0; i < token.length - 1; i++) {
    const c = alphabet[(alphabet.indexOf(token[i]!) + 17) % 64]!
    t.throws(() => codec.open(token.slice(0, i) + c + token.slice(i + 1)), InvalidTokenError)
  }
  const impossible = token.slice(0, token.length - ((token.length - 1) % 4 || 4))
  t.equal(impossible.length % 4, 1)
  t.throws(() => codec.open(impossible), { reason: 'malformed', message: /impossible length/ }, 'truncated to an impossible length')
  t.throws(() => codec.open(token.slice(0, -1)), InvalidTokenError, 'truncated by one')
  t.equal(refusal(() => codec.open(token.slice(0, -4))), 'tampered', 'truncated')
  t.equal(refusal(() => codec.open(token + 'AAAA')), 'tampered', 'extended')
  t.equal(refusal(() => codec.open(token.slice(0, 60) + '\n' + token.slice(60))), 'malformed', 'line-wrapped')
  t.throws(() => codec.open(token.toLowerCase()), InvalidTokenError, 'lower-cased')
  t.equal(refusal(() => new TokenCodec('another secret').open(token)), 'tampered', 'another secret')
  t.equal(refusal(() => codec.open('')), 'malformed')
})

t.test('expiry is inside the token', async t => {
  const now = Date.UTC(2026, 10, 28, 12, 0, 0)
  const token = codec.mint(fixtures[0]!.raw, { ttlSeconds: 60, now })
  t.equal(codec.open(token, now + 59_000).expiresAt, now + 60_000)
  t.throws(() => codec.open(token, now + 60_000), { reason: 'expired', message: /expired at 2026-11-28T12:01:00.000Z/ })
  t.equal(codec.open(codec.mint('{}'), now + 1e12).expiresAt, null, 'no ttl: never expires')
  t.throws(() => codec.mint('{}', { ttlSeconds: -1 }), { code: 'WHYDENIED_CANNOT_MINT' })
})

t.test('what cannot be minted is refused with the reason', async t => {
  // Incompressible content: far over 10240 characters once encoded.
  const big = JSON.stringify({ allowed: false, explicitDeny: false, context: { noise: randomBytes(12_000).toString('base64') } })
  t.throws(() => codec.mint(big), { code: 'WHYDENIED_CANNOT_MINT', statusCode: 400, message: /over STS's limit of 10240/ })
  // Large but repetitive content compresses under the limit.
  const repetitive = JSON.stringify({ allowed: false, explicitDeny: false, context: { items: Array.from({ length: 500 }, () => ({ key: 'aws:Region', value: 'us-east-1' })) } })
  t.equal(codec.open(codec.mint(repetitive)).decoded, repetitive)
  t.throws(() => codec.mint('{"a":"\u0001"}'), { message: /U\+0001/ }, 'a character XML cannot carry')
  t.throws(() => codec.mint('{"a":"\uD800"}'), { message: /U\+D800/ }, 'a lone surrogate')
})

t.test('the secret: a key file next to the database (0600), reused after a restart; or configured', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'sub', 'whydenied.db')
  const file = stsKeyFile(db)!
  t.equal(file, path.join(dir, 'sub', 'mock-sts.key'))
  const first = loadStsSecret({ dbPath: db })
  t.equal(first.origin, file)
  t.equal(statSync(file).mode & 0o777, 0o600, 'readable by the owner only')
  const token = new TokenCodec(first.secret).mint(fixtures[0]!.raw)
  const second = loadStsSecret({ dbPath: db })
  t.equal(new TokenCodec(second.secret).open(token).decoded, fixtures[0]!.raw, 'decodes after a restart')

  const configured = loadStsSecret({ dbPath: db, secret: 'from-config-secret' })
  t.equal(configured.origin, 'config')
  t.throws(() => new TokenCodec(configured.secret).open(token), InvalidTokenError)
  t.equal(loadStsSecret({ dbPath: ':memory:' }).origin, 'ephemeral')

  writeFileSync(file, 'short\n')
  t.throws(() => loadStsSecret({ dbPath: db }), { code: 'WHYDENIED_STS_KEY', message: /fewer than 16 characters/ })
})

t.test('every minted token carries the documented marker; tokens minted before it still open', async t => {
  const token = codec.mint(fixtures[0]!.raw)
  t.ok(token.startsWith(MOCK_MARKER), `starts with ${MOCK_MARKER}`)
  t.ok(isMockToken(token))
  // Version 1, as minted before the marker: 0x01 | IV | AES-256-GCM(...) | tag, the version byte as AAD.
  const key = Buffer.from(hkdfSync('sha256', Buffer.from('unit-test-secret-0123456789'), 'whydenied-mock-sts', 'encoded-authorization-message v1', 32))
  const body = deflateRawSync(Buffer.from(fixtures[0]!.raw))
  const plain = Buffer.concat([Buffer.alloc(5), body])
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from([1]))
  const ct = Buffer.concat([cipher.update(plain), cipher.final()])
  const v1 = Buffer.concat([Buffer.from([1]), iv, ct, cipher.getAuthTag()]).toString('base64url')
  t.notOk(isMockToken(v1))
  t.equal(codec.open(v1).decoded, fixtures[0]!.raw, 'a version 1 token decodes')

  // What AWS issues carries no marker: the mock says it did not mint it.
  const foreign = 'Rk9yZWlnbi' + randomBytes(600).toString('base64url')
  t.throws(() => codec.open(foreign), { reason: 'malformed', message: /not one a whydenied mock minted \(those start with whyDeniedMock-v2\)/ })
})

t.test('a reader (create: false) does not create the key file or its directory', async t => {
  const dir = tempDir(t)
  const db = path.join(dir, 'typo', 'x.db')
  const s = loadStsSecret({ dbPath: db, create: false })
  t.match(s.origin, /mock-sts\.key, which does not exist/)
  t.notOk(existsSync(path.join(dir, 'typo')), 'no directory')
})
