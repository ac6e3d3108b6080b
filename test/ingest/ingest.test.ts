import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { expandPath, nestingExceeds, readFileRecords, readStreamRecords, readTextRecords, transcodeUtf16 } from '../../server/ingest/index.js'
import type { InputItem, RejectedRecord } from '../../server/authz/types.js'
import { DECODED_FIXTURES, tempDir } from '../helpers/files.js'

const cliOutput = readFileSync(path.join(DECODED_FIXTURES, 'seed-passrole.json'), 'utf8')
const text = JSON.parse(cliOutput).DecodedMessage as string
const obj = JSON.parse(text)

async function all (it: AsyncIterable<InputItem>): Promise<InputItem[]> {
  const out: InputItem[] = []
  for await (const x of it) out.push(x)
  return out
}
const records = (items: InputItem[]) => items.filter(i => i.kind === 'record').map(i => (i as Extract<InputItem, { kind: 'record' }>).record)
const rejects = (items: InputItem[]) => items.filter(i => i.kind === 'rejected').map(i => (i as Extract<InputItem, { kind: 'rejected' }>).rejected)

t.test('(1) AWS CLI output, any indentation', async t => {
  for (const body of [cliOutput, JSON.stringify({ DecodedMessage: text }), JSON.stringify({ DecodedMessage: text }, null, 1)]) {
    const items = await all(readTextRecords(body, 'f.json'))
    t.same(records(items).map(r => [r.line, r.value]), [[1, { DecodedMessage: text }]])
  }
})

t.test('(2) bare decoded JSON, compact or pretty', async t => {
  t.same(records(await all(readTextRecords(text, 's'))).map(r => r.value), [obj])
  const pretty = '\n\n' + JSON.stringify(obj, null, 2)
  t.same(records(await all(readTextRecords(pretty, 's'))).map(r => [r.line, r.value]), [[3, obj]], 'line of the first character')
})

t.test('(3) a JSON array of either, with the line of each element', async t => {
  const body = `[\n  ${JSON.stringify({ DecodedMessage: text })},\n  ${JSON.stringify(obj, null, 2).replace(/\n/g, '\n  ')},\n  42\n]\n`
  const items = await all(readTextRecords(body, 'arr.json'))
  t.same(records(items).map(r => r.line), [2, 3, 3 + JSON.stringify(obj, null, 2).split('\n').length])
  t.same(await all(readTextRecords('[]', 'e')), [{ kind: 'rejected', rejected: { source: 'e', line: 1, reason: 'the JSON array is empty' } }])
})

t.test('a pretty-printed array whose second line parses alone is still one array, not NDJSON', async t => {
  // Found by test/services/import-fuzz.test.ts: `[`, `42`, `]` was read as three NDJSON lines
  // (three rejects) instead of one array holding one value that is not a message (one reject).
  t.same(records(await all(readTextRecords('[\n42\n]\n', 'a.json'))).map(r => [r.line, r.value]), [[2, 42]], 'one element, on its own line (the importer rejects it)')
  const c = JSON.stringify(obj)
  for (const body of [`[\n${c}\n]\n`, ` [ \r\n  ${c}\r\n]`, `\n[\n\n${c}\n]`]) {
    const items = await all(readTextRecords(body, 'b.json'))
    t.same([records(items).length, rejects(items).length], [1, 0], JSON.stringify(body))
  }
  t.same(records(await all(readTextRecords(`{\n"DecodedMessage": ${JSON.stringify(text)}\n}\n`, 'o.json'))).length, 1)
  // NDJSON whose first line is damaged is still NDJSON: the bad line costs only itself.
  const nd = await all(readTextRecords(`{"trunc\n${c}\n${c}\n`, 'x.ndjson'))
  t.same([records(nd).length, rejects(nd).map(r => r.line)], [2, [1]])
})

t.test('(4) NDJSON with LF or CRLF, blank lines skipped, bad lines rejected with their line', async t => {
  for (const eol of ['\n', '\r\n']) {
    const body = [JSON.stringify({ DecodedMessage: text }), '', text, '{"DecodedMessage": "trunc', JSON.stringify(obj)].join(eol) + eol
    const items = await all(readTextRecords(body, 'x.ndjson'))
    t.same(records(items).map(r => r.line), [1, 3, 5])
    t.same(rejects(items).map(r => r.line), [4])
    t.match(rejects(items)[0]!.reason, /ends before the JSON does|not valid JSON/)
  }
  // A bad first line must not hide the rest of an NDJSON file.
  const items = await all(readTextRecords(`garbage\n${text}\n${text}\n`, 'y'))
  t.same(records(items).map(r => r.line), [2, 3])
  t.same(rejects(items).map(r => r.line), [1])
})

t.test('(5) our envelope with metadata, DecodedMessage as string or object', async t => {
  const body = JSON.stringify({ DecodedMessage: obj, observedAt: '2026-11-01T10:00:00Z', source: 'ticket' })
  t.same(records(await all(readTextRecords(body, 's'))).map(r => r.value), [JSON.parse(body)])
})

t.test('(6) BOM, UTF-16 LE/BE (PowerShell), files and directories', async t => {
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(cliOutput)])
  t.equal(records(await all(readStreamRecords([bom], 'b'))).length, 1)
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(cliOutput.replace(/\n/g, '\r\n'), 'utf16le')])
  t.same(records(await all(readStreamRecords([le.subarray(0, 7), le.subarray(7)], 'le'))).map(r => r.value), [{ DecodedMessage: text }], 'UTF-16LE with BOM, split chunks')
  const noBom = Buffer.from(JSON.stringify({ DecodedMessage: text }), 'utf16le')
  t.equal(records(await all(readStreamRecords([noBom], 'nb'))).length, 1, 'UTF-16LE without BOM')
  const be = Buffer.from(cliOutput, 'utf16le')
  be.swap16()
  t.equal(records(await all(readStreamRecords([Buffer.concat([Buffer.from([0xfe, 0xff]), be])], 'be'))).length, 1, 'UTF-16BE with BOM')

  const dir = tempDir(t)
  mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true })
  writeFileSync(path.join(dir, 'a.json'), cliOutput)
  writeFileSync(path.join(dir, 'sub', 'b.jsonl'), text + '\n')
  writeFileSync(path.join(dir, 'sub', 'deeper', 'c.NDJSON'), text + '\n')
  writeFileSync(path.join(dir, 'sub', 'notes.txt'), 'ignored')
  const files = await expandPath(dir)
  t.same(files.map(f => path.relative(dir, f)), ['a.json', 'sub/b.jsonl', 'sub/deeper/c.NDJSON'])
  t.same(records(await all(readFileRecords(path.join(dir, 'a.json')))).map(r => r.source), [path.join(dir, 'a.json')])
})

t.test('bad input: each gets a reason naming the cause and place', async t => {
  const one = async (body: string | Buffer) => rejects(await all(readTextRecords(body, 'bad.json')))
  t.match(await one(''), [{ line: 1, reason: 'the input is empty' }])
  t.match(await one('  \n\n '), [{ reason: /empty/ }])
  t.match(await one('hello world'), [{ line: 1, reason: /not JSON: the line starts with "hello world"|not JSON: the document starts with/ }])
  t.match(await one('{\n  "DecodedMessage": "abc",\n  "x": \n'), [{ line: 3, reason: /ends before the JSON does/ }])
  // The seed article's text, line-wrapped by the web page inside the JSON string.
  const wrapped = cliOutput.replace('"principal":', '"principal"\n:').replace('\\"action\\"', '\n\\"action\\"')
  t.match(await one(wrapped), [{ reason: /line-wrapped/ }])
  t.match(await one('{"DecodedMessage": "{\\"allowed\\":false, (...) }",\n"x": (...) }'), [{ reason: /elided/ }])
  t.match(await one('An error occurred (UnauthorizedOperation) when calling the RunInstances operation: Encoded authorization failure message: abcDEF123'), [{ reason: /encoded authorization message.*whydenied decode/ }])
  t.match(await one(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])), [{ reason: /not valid UTF-8/ }])
  t.match(await one('{"a":"\u0000"}'), [{ reason: /not valid JSON/ }], 'a raw NUL byte is not JSON')
})

t.test('size limits: a record over 1 MiB is refused, the rest kept', async t => {
  const big = JSON.stringify({ DecodedMessage: text, pad: 'x'.repeat(1024 * 1024 + 10) })
  const items = await all(readTextRecords(`${text}\n${big}\n${text}\n`, 'big'))
  t.same(records(items).map(r => r.line), [1, 3])
  t.match(rejects(items), [{ line: 2, reason: /larger than the 1 MiB limit/ }])
  const single = await all(readTextRecords(big, 'one'))
  t.match(rejects(single), [{ reason: /larger than the 1 MiB limit/ }])
  let deep = '"x"'
  for (let i = 0; i < 20000; i++) deep = `[${deep}]`
  const deepItems = await all(readTextRecords(`[${deep}, ${text}]`, 'deep'))
  t.match(rejects(deepItems), [{ reason: /nesting/ }])
  t.equal(records(deepItems).length, 1)
})

t.test('concatenated documents (aws ... >> all.json) are read one by one', async t => {
  const good = JSON.stringify({ DecodedMessage: text }, null, 4)
  const body = `${good}\n${good}\n{\n  "DecodedMessage": 42,\n}\n${good}\n`
  const items = await all(readTextRecords(body, 'appended.json'))
  const n = good.split('\n').length
  t.same(records(items).map(r => r.line), [1, n + 1, 2 * n + 4])
  t.same(rejects(items).map(r => r.line), [2 * n + 1])
})

t.test('each record is numbered within its line: its place in the input', async t => {
  const place = async (body: string) => records(await all(readTextRecords(body, 's'))).map(r => [r.line, r.index])
  const c = JSON.stringify(obj)
  t.same(await place(`[${c},${c},${c}]`), [[1, 0], [1, 1], [1, 2]], 'compact array')
  t.same(await place(JSON.stringify([obj, obj], null, 2)), [[2, 0], [2 + JSON.stringify(obj, null, 2).split('\n').length, 0]], 'pretty array: a line each')
  t.same(await place(`${c} ${c}${c}\n`), [[1, 0], [1, 1], [1, 2]], 'documents on one line')
  t.same(await place(`${c}\n[${c},${c}]\n\n${c}\n`), [[1, 0], [2, 0], [2, 1], [4, 0]], 'NDJSON with an array line')
  t.same(await place(`${c}\n[1, ${c}, 2]\n`), [[1, 0], [2, 0], [2, 1], [2, 2]], 'values that are not messages take their number too')
  let deep = '"x"'
  for (let i = 0; i < 20000; i++) deep = `[${deep}]`
  const items = await all(readTextRecords(`[${deep},${c}]`, 'd'))
  t.equal(rejects(items).length, 1)
  t.same(records(items).map(r => [r.line, r.index]), [[1, 1]], 'a piece rejected while reading keeps its place')
})

t.test('UTF-16 streams: every chunk boundary, LE and BE, with and without BOM', async t => {
  // Non-ASCII and non-BMP text (surrogate pairs), over several lines.
  const lines = [{ v: 'a😀é' }, { w: '日本語 🚫 policy' }, { x: '𝒜\u00e9' }]
  const body = lines.map(l => JSON.stringify(l)).join('\r\n') + '\n'
  const le = Buffer.from(body, 'utf16le')
  const be = Buffer.from(le)
  be.swap16()
  const variants: Array<[string, Buffer]> = [
    ['LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), le])],
    ['BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), be])],
    ['LE without BOM', le],
    ['BE without BOM', be]
  ]
  const want = lines.map((v, i) => [i + 1, v])
  for (const [name, bytes] of variants) {
    // Two chunks, cut at every byte: inside a code unit, between the halves of a surrogate pair, inside the BOM.
    let bad = 0
    for (let cut = 0; cut <= bytes.length; cut++) {
      const got = records(await all(readStreamRecords([bytes.subarray(0, cut), bytes.subarray(cut)], 's'))).map(r => [r.line, r.value])
      if (JSON.stringify(got) !== JSON.stringify(want)) { bad++; t.same(got, want, `${name}, cut at byte ${cut}`) }
    }
    t.equal(bad, 0, `${name}: the same records wherever the input is cut`)
    const bytewise = [...bytes].map(b => Buffer.from([b]))
    t.same(records(await all(readStreamRecords(bytewise, 's'))).map(r => [r.line, r.value]), want, `${name}, one byte per chunk`)
  }
  const chunks: Buffer[] = []
  for await (const c of transcodeUtf16([le.subarray(0, 5), le.subarray(5, 6), le.subarray(6)], 'utf-16le')) chunks.push(c)
  t.equal(Buffer.concat(chunks).toString('utf8'), body, 'transcodeUtf16 alone: UTF-8 out')
  t.same(records(await all(readStreamRecords([Buffer.from([0xff, 0xfe, 0x3d, 0xd8, 0x7b, 0x00, 0x7d, 0x00])], 'lone'))).length, 0, 'an unpaired surrogate becomes U+FFFD (then not JSON), not a crash')
})

t.test('only regular files are read: FIFOs and devices are refused with the path and what they are', async t => {
  await t.rejects(expandPath('/dev/zero'), { message: 'a character device, not a regular file or directory: not read' })
  const dir = tempDir(t)
  const fifo = path.join(dir, 'pipe.ndjson')
  execFileSync('mkfifo', [fifo])
  await t.rejects(expandPath(fifo), { message: 'a FIFO (named pipe), not a regular file or directory: not read' })
  writeFileSync(path.join(dir, 'a.json'), cliOutput)
  symlinkSync('/dev/zero', path.join(dir, 'zero.json'))
  execFileSync('mkfifo', [path.join(dir, 'other-pipe')]) // not an import file name: not even looked at
  const refused: RejectedRecord[] = []
  t.same(await expandPath(dir, r => refused.push(r)), [path.join(dir, 'a.json')], 'the regular file is still read')
  t.same(refused, [
    { source: fifo, line: 0, reason: 'a FIFO (named pipe), not a regular file: not read' },
    { source: path.join(dir, 'zero.json'), line: 0, reason: 'a character device, not a regular file: not read' }
  ])
  await t.rejects(expandPath(dir), { message: `${fifo}: a FIFO (named pipe), not a regular file: not read` }, 'without a callback, a refusal throws')
})

t.test('symbolic links in a directory are followed; a loop is refused; what is reached twice is read once', async t => {
  const root = tempDir(t)
  const dir = path.join(root, 'in')
  const elsewhere = path.join(root, 'elsewhere')
  mkdirSync(path.join(dir, 'sub'), { recursive: true })
  mkdirSync(elsewhere)
  writeFileSync(path.join(elsewhere, 'far.json'), cliOutput)
  writeFileSync(path.join(elsewhere, 'also.ndjson'), text + '\n')
  writeFileSync(path.join(dir, '2026-11.json'), cliOutput)
  symlinkSync(path.join(elsewhere, 'far.json'), path.join(dir, 'far.json'))
  symlinkSync('2026-11.json', path.join(dir, 'latest.json')) // the same file as one in the tree
  symlinkSync(elsewhere, path.join(dir, 'sub', 'more'))
  symlinkSync('..', path.join(dir, 'sub', 'up')) // a loop
  symlinkSync(path.join(root, 'missing.json'), path.join(dir, 'broken.json'))
  const refused: RejectedRecord[] = []
  const files = await expandPath(dir, r => refused.push(r))
  t.same(files.map(f => path.relative(dir, f)), ['2026-11.json', 'far.json', 'sub/more/also.ndjson'],
    'a linked file is read (far.json); a file reached twice is read once, under its own name (not latest.json, nor sub/more/far.json)')
  t.same(refused.map(r => [path.relative(dir, r.source), r.reason]), [
    ['broken.json', 'a broken symbolic link: not read'],
    ['sub/up', `a symbolic link loop (it leads back to ${realpathSync(dir)}): not followed`]
  ])
  t.same(records(await all(readFileRecords(path.join(dir, 'far.json')))).length, 1)
})

t.test('nesting depth is checked on the bytes, before JSON.parse and before anything recursive', async t => {
  t.equal(nestingExceeds(Buffer.from('[[[1]]]'), 3), false)
  t.equal(nestingExceeds(Buffer.from('[[[[1]]]]'), 3), true)
  t.equal(nestingExceeds(Buffer.from('{"a": "[[[[[[\\"[[[[["}'), 3), false, 'brackets inside strings (and escaped quotes) do not count')
  const deep = '['.repeat(20_000) + ']'.repeat(20_000)
  const nd = `${text}\n${deep}\n${JSON.stringify({ a: JSON.parse('['.repeat(70) + ']'.repeat(70)) })}\n${text}\n`
  const items = await all(readTextRecords(nd, 'deep.ndjson'))
  t.same(records(items).map(r => r.line), [1, 4])
  t.same(rejects(items), [{ source: 'deep.ndjson', line: 2, reason: 'JSON nesting deeper than 64 levels' }, { source: 'deep.ndjson', line: 3, reason: 'JSON nesting deeper than 64 levels' }])
  const atLimit = JSON.stringify([JSON.parse('['.repeat(63) + ']'.repeat(63))])
  t.equal(records(await all(readTextRecords(`${text}\n${atLimit}\n`, 'x'))).length, 2, 'a line holding an array of records may nest one level more')
  const appended = `${JSON.stringify({ DecodedMessage: text }, null, 2)}\n${deep}\n${JSON.stringify({ DecodedMessage: text }, null, 2)}\n`
  const cat = await all(readTextRecords(appended, 'cat.json'))
  t.equal(records(cat).length, 2)
  t.match(rejects(cat), [{ reason: 'JSON nesting deeper than 64 levels' }])
})

t.test('records carry the size of their text, so the worker is fed by bytes', async t => {
  const line = JSON.stringify({ DecodedMessage: text })
  t.same(records(await all(readTextRecords(`${line}\n${line}\n`, 'n'))).map(r => r.bytes), [line.length, line.length])
  t.same(records(await all(readTextRecords(`[${line},${line}]`, 'a'))).map(r => r.bytes), [line.length, line.length])
})

t.test('a document of many short lines, joined into blocks as read, keeps its line numbers', async t => {
  const items = await all(readTextRecords('x\n'.repeat(100_000), 'lines'))
  t.same(rejects(items).map(r => r.line), [100_000])
  const good = JSON.stringify({ DecodedMessage: text }, null, 2).split('\n')
  const padded = [...good.slice(0, 2), ...Array.from({ length: 20_000 }, () => ''), ...good.slice(2), '{']
  t.match(rejects(await all(readTextRecords(padded.join('\n'), 'p'))), [{ line: padded.length }], 'the position found after the joins')
})

t.test('NDJSON: a too-deep element costs only itself; documents side by side on one line are each a record', async t => {
  const c = JSON.stringify(obj)
  const deepValue = '['.repeat(200) + ']'.repeat(200)
  const items = await all(readTextRecords(`${c}\n[${deepValue},${c}]\n${c} ${c}\n`, 'n'))
  t.same(records(items).map(r => [r.line, r.index]), [[1, 0], [2, 1], [3, 0], [3, 1]])
  t.same(rejects(items), [{ source: 'n', line: 2, reason: 'JSON nesting deeper than 64 levels' }])
})
