/** A database file of the test's own, holding generated denials (fixtures/generate.ts), closed when the test ends. */
import path from 'node:path'
import type { Test } from 'tap'
import { openDatabase, type DB } from '../../server/db/connection.js'
import { repositoriesOn, type Repositories } from '../../server/db/index.js'
import { readTextRecords } from '../../server/ingest/index.js'
import { Importer } from '../../server/services/importer.js'
import { generate, type GenerateOptions } from '../../fixtures/generate.js'
import { tempDir } from './files.js'

/** Import `n` generated messages into `db` as the importer does, from a source named `source`. */
export async function importGenerated (db: DB, n: number, opts: GenerateOptions, source: string, batchSize = 500): Promise<void> {
  const repos = repositoriesOn(db)
  const text = [...generate(n, opts)].join('\n')
  await new Importer(repos.writer, repos.imports).run(readTextRecords(text, source), { batchSize })
}

/** A new database `name` in the test's directory with `n` generated messages; its repositories without facet columns. */
export async function generatedStore (t: Test, name: string, n: number, opts: GenerateOptions, batchSize = 500): Promise<{ db: DB, repos: Repositories }> {
  const db = openDatabase(path.join(tempDir(t), name))
  t.teardown(() => { db.close() })
  await importGenerated(db, n, opts, 'a.ndjson', batchSize)
  return { db, repos: repositoriesOn(db) }
}
