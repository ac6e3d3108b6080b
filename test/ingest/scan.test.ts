/** The JSON structure scanner of ingest/: where values start, at the top level and in the top-level array. */
import t from 'tap'
import { valuesAt } from '../../server/ingest/scan.js'

const slices = (text: string, level: 0 | 1): Array<[string, number]> => valuesAt(text, level).map(v => [text.slice(v.start, v.end), v.line])

t.test('level 0: documents written one after another, each with the line it starts on', async t => {
  const text = '{"a": "}{"}\n\n{\n  "b": [1, {"c": "\\"]"}]\n}[1,\n2]  {"d": 1}'
  t.same(slices(text, 0), [['{"a": "}{"}', 1], ['{\n  "b": [1, {"c": "\\"]"}]\n}', 3], ['[1,\n2]', 5], ['{"d": 1}', 6]])
  t.same(slices('  {"a": 1} junk {"b": 2', 0), [['{"a": 1}', 1], ['junk {"b": 2', 1]], 'text between documents joins the next one; an unclosed one runs to the end')
  t.same(slices('} {"a": 1}', 0), [['} {"a": 1}', 1]], 'a stray closing bracket does not go below zero')
  t.same(valuesAt('', 0), [])
})

t.test('level 1: the elements of the top-level array, scalars too, with their lines', async t => {
  const text = '[\n  {"a": [1, 2], "s": "x,]"},\n  "two",\n  3,\n  [4, [5]]\n]'
  t.same(slices(text, 1), [['{"a": [1, 2], "s": "x,]"}', 2], ['"two"', 3], ['3', 4], ['[4, [5]]', 5]])
  t.same(valuesAt('[]', 1), [], 'an empty array has no elements')
  t.same(valuesAt('[\n]', 1), [])
  t.same(valuesAt('[{"a":1},{"b":2}]', 1).map(v => v.line), [1, 1], 'compact: every element on line 1')
})
