/**
 * Property-based fault suite over the importer (issue: "keep it true"). For any mix of valid records,
 * damaged records, arrays, NDJSON and concatenated documents, on the single-thread path and on the
 * worker path: nothing throws, every record is counted exactly once (imported + duplicates +
 * rejectedCount), the valid ones are the imported ones, a re-import yields only duplicates, and the
 * database stays consistent. Fast by default (every CI run); WHYDENIED_FUZZ_RUNS=N for a long run
 * (`npm run test:fuzz`).
 */
import t from 'tap'
import fc from 'fast-check'
import path from 'node:path'
import { readTextRecords } from '../../server/ingest/index.js'
import { openDatabase, type DB } from '../../server/db/connection.js'
import { repositoriesOn } from '../../server/db/index.js'
import { Importer, type ImportOptions } from '../../server/services/importer.js'
import { tempDir, type TapLike } from '../helpers/files.js'

const RUNS = Number(process.env.WHYDENIED_FUZZ_RUNS ?? 40)
// The worker path starts a thread per import: fewer inputs there keep the default run to seconds.
const WORKER_RUNS = Math.max(4, Math.round(RUNS / 10))

/** A piece of input that is exactly one record, valid or not. */
interface Atom { json: string, valid: boolean, object: boolean }

// Text a hostile or careless source may put in a value: markup, template syntax, SQL, bidi controls,
// control characters, odd Unicode (combining marks, astral planes, RTL), and long runs.
const hostile = fc.oneof(
  fc.constantFrom('<script>alert(1)</script>', '{{constructor.constructor}}', "'; DROP TABLE denials;--", '\u202Egpj.exe', 'a\u0007b\u001bc', 'e\u0301\u0301', '𝒜😀', 'مرحبا', '%s%n', '\\"', '*?[]'),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map(s => s.replace(/\0/g, '')),
  fc.nat({ max: 4000 }).map(n => 'x'.repeat(n))
)

const decoded = (resource: string, action: string | null = 'ec2:DescribeInstances'): Record<string, unknown> => ({
  allowed: false,
  explicitDeny: false,
  matchedStatements: { items: [] },
  failures: { items: [] },
  context: {
    principal: { arn: 'arn:aws:iam::111122223333:user/fuzz' },
    ...(action === null ? {} : { action }),
    resource,
    conditions: { items: [{ key: 'aws:Region', values: { items: [{ value: 'us-east-1' }] } }] }
  }
})

const validAtom: fc.Arbitrary<Atom> = fc.tuple(hostile, fc.constantFrom('bare', 'cli', 'envelope')).map(([s, form]) => {
  const msg = decoded(`arn:aws:s3:::bucket/${s}`)
  const json = form === 'bare'
    ? JSON.stringify(msg)
    : form === 'cli'
      ? JSON.stringify({ DecodedMessage: JSON.stringify(msg) })
      : JSON.stringify({ DecodedMessage: msg, observedAt: '2026-11-01T00:00:00Z' })
  return { json, valid: true, object: true }
})

const deep = (levels: number): string => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels)

const invalidAtom: fc.Arbitrary<Atom> = fc.oneof(
  fc.constant({ json: '{"foo": 1}', valid: false, object: true }),
  fc.constant({ json: JSON.stringify({ DecodedMessage: '{"allowed": fals' }), valid: false, object: true }),
  fc.constant({ json: JSON.stringify({ DecodedMessage: JSON.stringify(decoded('r', null)) }), valid: false, object: true }),
  fc.constant({ json: JSON.stringify({ DecodedMessage: JSON.stringify(decoded('r')), observedAt: 'yesterday' }), valid: false, object: true }),
  fc.constant({ json: deep(70), valid: false, object: true }),
  fc.constant({ json: deep(500), valid: false, object: true }),
  fc.constantFrom('42', '"text"', 'null', 'true').map(json => ({ json, valid: false, object: false }))
)

const atom = fc.oneof({ weight: 3, arbitrary: validAtom }, { weight: 2, arbitrary: invalidAtom })
const objectAtom = atom.filter(a => a.object)

/** An NDJSON line and the atoms it holds (a damaged line is one rejected record). */
interface Line { text: string, atoms: Atom[] }
const line: fc.Arbitrary<Line> = fc.oneof(
  { weight: 4, arbitrary: atom.map(a => ({ text: a.json, atoms: [a] })) },
  { weight: 2, arbitrary: fc.array(atom, { minLength: 1, maxLength: 4 }).map(as => ({ text: `[${as.map(a => a.json).join(',')}]`, atoms: as })) },
  { weight: 1, arbitrary: fc.array(objectAtom, { minLength: 2, maxLength: 3 }).map(as => ({ text: as.map(a => a.json).join(' '), atoms: as })) },
  { weight: 1, arbitrary: validAtom.map(a => ({ text: a.json.slice(0, Math.floor(a.json.length / 2)), atoms: [{ ...a, valid: false }] })) },
  { weight: 1, arbitrary: fc.constant<Line>({ text: '', atoms: [] }) }
)

/** A whole input and the atoms it holds, in order. */
interface Input { text: string, atoms: Atom[], form: string }

const ndjson: fc.Arbitrary<Input> = fc.tuple(validAtom, validAtom, fc.array(line, { maxLength: 25 }), fc.boolean()).map(([a, b, rest, crlf]) => {
  // Two plain records first: the format is detected from the first two non-empty lines.
  const lines: Line[] = [{ text: a.json, atoms: [a] }, { text: b.json, atoms: [b] }, ...rest]
  return { text: lines.map(l => l.text).join(crlf ? '\r\n' : '\n') + '\n', atoms: lines.flatMap(l => l.atoms), form: 'ndjson' }
})

const prettyArray: fc.Arbitrary<Input> = fc.array(atom, { minLength: 1, maxLength: 20 }).map(as => ({
  text: '[\n' + as.map(a => JSON.stringify(JSON.parse(a.json), null, 2)).join(',\n') + '\n]\n', atoms: as, form: 'array'
}))

const concatenated: fc.Arbitrary<Input> = fc.array(objectAtom, { minLength: 2, maxLength: 10 }).map(as => ({
  text: as.map(a => JSON.stringify(JSON.parse(a.json), null, 2)).join('\n'), atoms: as, form: 'concatenated'
}))

const input = fc.oneof({ weight: 3, arbitrary: ndjson }, prettyArray, concatenated)

function open (t: TapLike): DB {
  const db = openDatabase(path.join(tempDir(t), 'fuzz.db'))
  t.teardown(() => db.close())
  return db
}

function consistent (db: DB): { occurrences: number, counted: number, unfinished: number } {
  return {
    occurrences: db.prepare('SELECT count(*) FROM occurrences').pluck().get() as number,
    counted: db.prepare('SELECT coalesce(sum(occurrences), 0) FROM denials').pluck().get() as number,
    unfinished: db.prepare('SELECT count(*) FROM imports WHERE finished_at IS NULL').pluck().get() as number
  }
}

const paths: Array<[string, ImportOptions, number]> = [
  ['single thread', { parallel: false }, RUNS],
  ['worker', { parallelAfter: 0 }, WORKER_RUNS]
]

for (const [name, opts, runs] of paths) {
  t.test(`any mix of records, ${name}: every record counted once, re-import all duplicates`, async t => {
    const db = open(t)
    const { writer, imports } = repositoriesOn(db)
    const importer = new Importer(writer, imports)
    let run = 0
    await fc.assert(fc.asyncProperty(input, async inp => {
      const source = `fuzz-${name}-${run++}.${inp.form}`
      const first = await importer.run(readTextRecords(inp.text, source), opts)
      const valid = inp.atoms.filter(a => a.valid).length
      if (first.imported + first.duplicates + first.rejectedCount !== inp.atoms.length) throw new Error(`counted ${first.imported}+${first.duplicates}+${first.rejectedCount}, expected ${inp.atoms.length} records`)
      if (first.imported !== valid) throw new Error(`imported ${first.imported}, expected the ${valid} valid records: ${JSON.stringify(first.rejected.slice(0, 3))}`)
      if (first.rejected.length !== Math.min(first.rejectedCount, 1000)) throw new Error('rejected detail and count disagree')
      const again = await importer.run(readTextRecords(inp.text, source), opts)
      if (again.imported !== 0 || again.duplicates !== valid || again.rejectedCount !== first.rejectedCount) {
        throw new Error(`re-import: ${again.imported} imported, ${again.duplicates} duplicates, ${again.rejectedCount} rejected`)
      }
      const c = consistent(db)
      if (c.occurrences !== c.counted || c.unfinished !== 0) throw new Error(`inconsistent store: ${JSON.stringify(c)}`)
    }), { numRuns: runs })
    t.pass(`${runs} inputs`)
  })

  t.test(`arbitrary bytes, ${name}: never a crash, the store stays consistent`, async t => {
    const db = open(t)
    const { writer, imports } = repositoriesOn(db)
    const importer = new Importer(writer, imports)
    let run = 0
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 2000 }),
      fc.array(fc.oneof(fc.constantFrom('{', '}', '[', ']', '"', ',', ':', '\n', '\r\n', '\\', ' ', '\uFEFF', '\u0000', '\uD800'), validAtom.map(a => a.json)), { maxLength: 60 })
        .map(parts => Buffer.from(parts.join(''), 'utf8'))
    )
    await fc.assert(fc.asyncProperty(bytes, async b => {
      const s = await importer.run(readTextRecords(Buffer.from(b), `bytes-${name}-${run++}`), opts)
      if (s.imported + s.duplicates + s.rejectedCount < 1) throw new Error('an input with no outcome at all')
      const c = consistent(db)
      if (c.occurrences !== c.counted || c.unfinished !== 0) throw new Error(`inconsistent store: ${JSON.stringify(c)}`)
    }), { numRuns: runs })
    t.pass(`${runs} inputs`)
  })
}
