/** Token hygiene: finding messages in error text, repairing copy damage, refusing what cannot be repaired. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { DECODED_FIXTURES } from '../helpers/files.js'
import { extractTokens } from '../../server/decode/extract.js'
import { TokenCodec } from '../../server/sts/token.js'

const codec = new TokenCodec('extract-test-secret')
const raw = (f: string): string => JSON.parse(readFileSync(path.join(DECODED_FIXTURES, f), 'utf8')).DecodedMessage as string
const A = codec.mint(raw('seed-passrole.json'))
const B = codec.mint(raw('kms-decrypt.json'))
const wrap = (s: string, width: number): string => s.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n')

const ok = (text: string): string[] => {
  const r = extractTokens(text)
  if (r.problems.length > 0) throw new Error(JSON.stringify(r.problems))
  return r.tokens
}

t.test('finds the message in the forms people paste', async t => {
  t.same(ok(A), [A], 'the message alone')
  t.same(ok(`  ${A}\n`), [A], 'with white space')
  t.same(ok(`An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: ${A}`), [A], 'the CLI error line')
  t.same(ok(`Launch Failed - You are not authorized to perform this operation. Encoded authorization failure message: ${A}`), [A], "the console's banner")
  t.same(ok(`RunInstances オペレーションを呼び出す際に、エラーが発生しました (UnauthorizedOperation):この操作を実行する権限がありません。エンコードした認証失敗メッセージ ${A}`), [A], 'the Japanese console wording of the seed article')
  t.same(ok(`aws sts decode-authorization-message --encoded-message ${A}`), [A], 'a command line')
  t.same(ok(`aws sts decode-authorization-message --encoded-message "${A}" --query DecodedMessage`), [A], 'a quoted command-line argument')
  t.same(ok(`Error: creating EC2 Instance: UnauthorizedOperation: You are not authorized to perform this operation. Encoded authorization failure message: ${A}\n\tstatus code: 403, request id: 3f0a1d1e-6b8c-4f7e-9c2a-1d2e3f4a5b6c`), [A], 'Terraform output with a following line')
})

t.test('repairs copy damage: quotes, trailing punctuation, line breaks', async t => {
  t.same(ok(`"${A}"`), [A], 'double quotes')
  t.same(ok(`'${A}'`), [A], 'single quotes')
  t.same(ok(`“${A}”`), [A], 'typographic quotes')
  t.same(ok(`Encoded authorization failure message: ${A}.`), [A], 'full stop')
  t.same(ok(`(Encoded authorization failure message: ${A}),`), [A], 'bracket and comma')
  const line = `Encoded authorization failure message: ${A}`
  t.same(ok(wrap(line, 80)), [A], 'terminal wrapping at 80 columns')
  t.same(ok(`Launch Failed - Encoded authorization failure message:\n${wrap(A, 64)}\n\nNext steps: ask your admin.`), [A], 'message on the following lines, wrapped at 64')
  t.same(ok(`Encoded authorization failure message: ${A.slice(0, 50)}\r\n    ${A.slice(50, 150)}\r\n    ${A.slice(150)}."`), [A], 'indented CRLF continuation lines')
  t.same(ok(wrap(A, 76)), [A], 'a bare message wrapped at 76 (e-mail)')
  t.same(ok(`${A}\nok\n`), [A], 'a short word on the next line is not part of it')
})

t.test('several messages in one text are each found, once', async t => {
  const text = `first: Encoded authorization failure message: ${A}\nsecond: Encoded authorization failure message: ${B}\nagain: Encoded authorization failure message: ${A}`
  t.same(ok(text), [A, B])
  t.same(ok(`${A}\n${B}\n`), [A, B], 'one per line')
  t.same(ok(`${A} ${B}`), [A, B], 'separated by a space')
  t.same(ok(`then "${B}".\nEncoded authorization failure message: ${A}`), [B, A], 'a marked and an unmarked one, in text order')
})

t.test('refuses, with a specific reason, what must not be sent', async t => {
  const refuse = (text: string, reason: RegExp, name: string): void => {
    const r = extractTokens(text)
    t.same(r.tokens, [], `${name}: nothing to send`)
    t.match(r.problems.map(p => p.reason).join(' | '), reason, name)
  }
  refuse(`Encoded authorization failure message: ${A.slice(0, 40)}...${A.slice(-10)}`, /elided/, 'elided in the middle')
  refuse(`Encoded authorization failure message: ${A.slice(0, 300)}...`, /elided/, 'elided at the end')
  refuse(`Encoded authorization failure message: ${A.slice(0, 300)}…`, /elided/, 'ellipsis character')
  refuse('8sJ2k...Qp9', /elided/, 'a short elided sample')
  refuse(`Encoded authorization failure message: ${A.toLowerCase()}`, /lower case/, 'lowercased')
  refuse(A.toUpperCase(), /upper case/, 'uppercased')
  refuse('Launch Failed - You are not authorized to perform this operation. Encoded authorization failure message: 4GIOHlTkIaWHQD0Q0m6XSnuUMCm-abcdefghijklmn-abcdefghijklmn-abcdefghijklmn', /too short \(72 characters/, "the seed article's placeholder")
  refuse('abc123', /too short/, 'a short word')
  const cut = A.slice(0, A.length - ((A.length - 1) % 4 || 4))
  refuse(`Encoded authorization failure message: ${cut}`, /impossible length/, 'visibly truncated')
  refuse('A'.repeat(5000) + 'b'.repeat(5300), /longer than STS's limit/, 'too long')
  refuse('You are not authorized to perform this operation.', /no encoded authorization message found/, 'no message at all')
  refuse('You are not authorized to perform this operation. Encoded authorization failure message:', /holds none after it/, 'the marker without a message')
  const mixed = extractTokens(`Encoded authorization failure message: ${A}\nEncoded authorization failure message: ${B.slice(0, 200)}...`)
  t.same(mixed.tokens, [A], 'the good one is kept')
  t.equal(mixed.problems.length, 1, 'and the bad one is reported (callers send nothing when any is refused)')
  refuse('x'.repeat(1024 * 1024 + 1), /longer than/, 'huge text')
})

t.test('hostile text of the maximum size is handled in linear time', async t => {
  const n = 1024 * 1024 - 16
  const inputs: Array<[string, string]> = [
    ['many markers', 'Encoded authorization failure message: '.repeat(Math.floor(n / 40))],
    ['many markers with short tokens', `Encoded authorization failure message: ${'x'.repeat(20)}\n`.repeat(Math.floor(n / 62))],
    ['one long run', 'A'.repeat(n)],
    ['dots then a stop', 'Encoded authorization failure message: AAAAAAAAAAAAAAAAAAAA\n' + '.'.repeat(n - 100) + 'x '],
    ['quotes', '"'.repeat(n) + ' x'],
    ['wrapped lines', ('B'.repeat(63) + '\n').repeat(Math.floor(n / 64))],
    ['words', ('w'.repeat(70) + ' ').repeat(Math.floor(n / 71))]
  ]
  for (const [name, text] of inputs) {
    const t0 = performance.now()
    const r = extractTokens(text)
    const ms = performance.now() - t0
    t.ok(ms < 2000, `${name}: ${ms.toFixed(0)} ms`)
    t.ok(r.tokens.length <= 100, `${name}: bounded output`)
  }
})
