/** The CLI's import collects garbage (between batches, and every GC_AFTER_BYTES of input) only when the process's RSS is above its threshold; imports in the server bound the young generation. */
import t from 'tap'
import path from 'node:path'
import { readTextRecords } from '../../server/ingest/index.js'
import { openStore } from '../../server/db/index.js'
import { CLI_IMPORT_OPTIONS, Importer, SERVER_IMPORT_OPTIONS } from '../../server/services/importer.js'
import { generate } from '../../fixtures/generate.js'
import { tempDir } from '../helpers/files.js'

t.test('a forced collection per batch only above the RSS threshold', async t => {
  let calls = 0
  const collectGarbage = (): void => { calls++ }
  const store = openStore(path.join(tempDir(t), 'gc.db'))
  t.teardown(() => store.close())
  const importer = new Importer(store.repos.writer, store.repos.imports)
  const text = (seed: number): string => [...generate(50, { seed })].join('\n')
  await importer.run(readTextRecords(text(1), 'a'), { batchSize: 10, collectGarbage, collectGarbageAboveMb: 1 })
  t.equal(calls, 5, 'above the threshold (1 MiB): after each of the 5 batches')
  calls = 0
  await importer.run(readTextRecords(text(2), 'b'), { batchSize: 10, collectGarbage, collectGarbageAboveMb: 1024 * 1024 })
  t.equal(calls, 0, 'below it: never')
  await importer.run(readTextRecords(text(3), 'c'), { batchSize: 10, collectGarbage })
  t.equal(calls, 5, 'without a threshold: after each batch')
  t.same(CLI_IMPORT_OPTIONS, { collectGarbage: true, collectGarbageAboveMb: 256 }, 'the CLI (and the bench) collect above 256 MiB')
})

t.test('an import inside the server keeps the young generation bounded, without forced collections', async t => {
  let bounds = 0
  let collections = 0
  const store = openStore(path.join(tempDir(t), 'young.db'))
  t.teardown(() => store.close())
  const importer = new Importer(store.repos.writer, store.repos.imports)
  const text = [...generate(50, { seed: 4 })].join('\n')
  t.equal(SERVER_IMPORT_OPTIONS.boundYoungGeneration, true, 'the server asks for it')
  await importer.run(readTextRecords(text, 'a'), { ...SERVER_IMPORT_OPTIONS, batchSize: 10, boundYoungGeneration: () => { bounds++ } })
  t.ok(bounds >= 5, `checked after each of the 5 batches (${bounds} checks)`)
  t.equal(collections, 0)
  bounds = 0
  await importer.run(readTextRecords(text, 'b'), { batchSize: 10 })
  t.equal(bounds, 0, 'not asked: untouched (tests and one-off imports)')
  await importer.run(readTextRecords([...generate(50, { seed: 5 })].join('\n'), 'c'), { batchSize: 10, collectGarbage: () => { collections++ }, boundYoungGeneration: () => { bounds++ } })
  t.ok(bounds >= 5 && collections === 5, 'the CLI\'s collections come with the bound')
})
