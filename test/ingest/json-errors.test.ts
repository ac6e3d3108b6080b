/** Broken JSON is diagnosed as what happened to it: truncated (and where) vs line-wrapped vs elided vs a syntax error; our sentence always comes first. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { readTextRecords } from '../../server/ingest/index.js'
import { parseEnvelope } from '../../server/authz/parse.js'
import type { InputItem } from '../../server/authz/types.js'
import { DECODED_FIXTURES } from '../helpers/files.js'
import { jsonShape } from '../../server/util/json-errors.js'

/** The AWS CLI's output for the seed article's message (pretty, 4 spaces), as users save it. */
const cliOutput = readFileSync(path.join(DECODED_FIXTURES, 'seed-passrole.json'), 'utf8')
const inner = JSON.parse(cliOutput).DecodedMessage as string
/** A cut right after a backslash of an escaped quote: Node 20 says `Bad escaped character in JSON at position N`. */
const afterBackslash = cliOutput.indexOf('\\"', Math.floor(cliOutput.length / 2)) + 1

async function reasons (body: string, source = 'x.json'): Promise<Array<{ line: number, reason: string }>> {
  const out: Array<{ line: number, reason: string }> = []
  for await (const it of readTextRecords(body, source) as AsyncIterable<InputItem>) if (it.kind === 'rejected') out.push({ line: it.rejected.line, reason: it.rejected.reason })
  return out
}

/** The parser's own wording, which must never open a reason. */
const PARSER_FIRST = /^not valid JSON: (?:Unexpected|Expected|Bad|Unterminated|JSON)/

const cases: Array<{ name: string, body: string, reason: RegExp, not?: RegExp }> = [
  {
    name: 'the file ends inside a string (then a newline)',
    body: cliOutput.slice(0, cliOutput.indexOf('principal') + 20) + '\n',
    reason: /^not valid JSON: the text ends before the JSON does, inside a string \(line 2 column \d+\): it is truncated; copy the complete message$/,
    not: /line-wrapped/
  },
  {
    name: 'the file cut in half, right after a backslash (Bad escaped character)',
    body: cliOutput.slice(0, afterBackslash),
    reason: /^not valid JSON: the text ends before the JSON does, inside a string \(line 2 column \d+\): it is truncated/
  },
  {
    name: 'the final } missing',
    body: cliOutput.trimEnd().slice(0, -1),
    reason: /^not valid JSON: the text ends before the JSON does, with a bracket still open \(line 2 column \d+\): it is truncated/
  },
  {
    name: 'an array missing its last two brackets',
    body: `[${cliOutput}, {"DecodedMessage": {"allowed": false, "context": {`,
    reason: /with 4 brackets still open \(line 4 column \d+\): it is truncated/
  },
  {
    name: 'line-wrapped: raw line breaks inside a string that goes on',
    body: cliOutput.replace('\\"action\\"', '\n\\"action\\"'),
    reason: /^not valid JSON: a string contains a raw line break \(line 2 column \d+\): the text was probably line-wrapped .*rejoin the lines \(Bad control character/,
    not: /truncated/
  },
  {
    name: 'a raw tab in a string is not called line-wrapping',
    body: '{"DecodedMessage": "a\tb"}',
    reason: /^not valid JSON: a string contains a raw control character \(line 1 column 22\)/,
    not: /line-wrapped/
  },
  {
    name: 'a syntax error: where, in our words, then the parser\'s',
    body: '{\n  "DecodedMessage": "x",\n  "source": }\n',
    // Node 20 gives no position for this one (Node 22 does): then the parser's snippet shows where.
    reason: /^not valid JSON: the JSON is broken(?: \(line 3 column 13\): a character there|: a character in it) is not where JSON allows it .*\(Unexpected token [^\n]*\)$/
  },
  {
    name: 'elided with (...)',
    body: '{"DecodedMessage": "{\\"allowed\\":false, (...) }",\n"x": (...) }',
    reason: /^not valid JSON: the text appears elided/
  }
]

t.test('the issue\'s examples, as whole files', async t => {
  for (const c of cases) {
    const got = await reasons(c.body)
    t.equal(got.length, 1, c.name)
    t.match(got[0]!.reason, c.reason, c.name)
    t.notMatch(got[0]!.reason, PARSER_FIRST, `${c.name}: our sentence first`)
    if (c.not) t.notMatch(got[0]!.reason, c.not, c.name)
  }
})

t.test('NDJSON: a line that ends early is truncated at its own line, and may be a wrapped record', async t => {
  const line = JSON.stringify({ DecodedMessage: inner })
  const got = await reasons(`${line}\n${line.slice(0, 300)}\n${line}\n`, 'x.ndjson')
  t.same(got.map(r => r.line), [2])
  t.match(got[0]!.reason, /^not valid JSON: the line ends before the JSON does, inside a string \(line 2 column 301\): it is truncated; copy the complete record onto one line$/)
})

t.test('concatenated documents: the place is in the file, not in the document', async t => {
  const got = await reasons(`${cliOutput}${cliOutput.trimEnd().slice(0, -1)}`)
  t.same(got.map(r => r.line), [4])
  t.match(got[0]!.reason, /with a bracket still open \(line 5 column \d+\)/)
})

t.test('a DecodedMessage string whose JSON is cut off says so', async t => {
  const cut = { DecodedMessage: inner.slice(0, Math.floor(inner.length / 2)) }
  t.throws(() => parseEnvelope(cut), { message: /^DecodedMessage is not valid JSON: the DecodedMessage ends before the JSON does, (inside a string|with \d+ brackets? still open) \(line 1 column \d+\): it is truncated/ })
  t.throws(() => parseEnvelope({ DecodedMessage: '{"allowed":false,}' }), { message: /^DecodedMessage is not valid JSON: the JSON is broken \(line 1 column 18\)/ })
})

t.test('jsonShape: strings, escapes and brackets', async t => {
  t.same(jsonShape('{"a": "b\\"}'), { inString: true, open: 1, rawBreakInString: false })
  t.same(jsonShape('{"a": "b\\\\"}'), { inString: false, open: 0, rawBreakInString: false })
  t.same(jsonShape('["a\nb", {'), { inString: false, open: 2, rawBreakInString: true })
  t.same(jsonShape('"{[" ]'), { inString: false, open: -1, rawBreakInString: false })
})
