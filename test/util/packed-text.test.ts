/** The raw JSON's stored form: packed and unpacked byte for byte, whatever the text; old rows' text read as it is. */
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { packText, unpackText } from '../../server/util/packed-text.js'
import { DECODED_FIXTURES } from '../helpers/files.js'

t.test('every decoded fixture round-trips, and packs to well under half its size', async t => {
  for (const f of readdirSync(DECODED_FIXTURES)) {
    const raw = JSON.parse(readFileSync(path.join(DECODED_FIXTURES, f), 'utf8')).DecodedMessage as string
    const packed = packText(raw)
    t.equal(unpackText(packed), raw, f)
    t.ok(packed.length < raw.length / 2, `${f}: ${raw.length} bytes packed to ${packed.length}`)
  }
})

t.test('hostile and odd text round-trips exactly', async t => {
  const cases = ['', 'x', '\u0000\u0001\u007f', '{"a":"\\u0000"}', 'ünï 😀 𝕏 \u202e rtl \ufeff', '<script>{{x}}</script>\'";--',
    'a'.repeat(1024 * 1024), JSON.stringify({ deep: Array.from({ length: 5000 }, (_, i) => ({ [`k${i}`]: '💥'.repeat(i % 7) })) })]
  for (const c of cases) t.equal(unpackText(packText(c)), c, `${c.length} chars`)
})

t.test('a value of its own, with the format first', async t => {
  const p = packText('hello')
  t.equal(p[0], 1, 'format 1')
  t.equal(p.byteOffset, 0, 'not a view into a shared pool')
  t.equal(p.buffer.byteLength, p.length, 'its whole buffer is the value (cloned to the main thread without more)')
  t.equal(unpackText(new Uint8Array(p)), 'hello', 'read from a plain Uint8Array too')
})

t.test('text stored before packing is read as it is; an unknown format is an error, not garbage', async t => {
  t.equal(unpackText('{"allowed":false}'), '{"allowed":false}')
  const p = packText('hello')
  p[0] = 2
  t.throws(() => unpackText(p), /unknown packed-text format 2/)
  t.throws(() => unpackText(new Uint8Array(0)), /unknown packed-text format/)
})
