/** `whydenied import`: files, directories and stdin into the database, with a summary and exit code. */
import type { Command } from 'commander'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { SingleBar, Presets } from 'cli-progress'
import { expandPath, readStreamRecords } from '../authz/ingest.js'
import type { InputItem } from '../authz/types.js'
import { openStore } from '../db/index.js'
import { Importer, type ImportSummary } from '../services/importer.js'
import { dbPath, Exit, fail, withDb, type DbOption } from './common.js'

interface ImportOptions extends DbOption { json?: boolean, source?: string, progress?: boolean, batchSize?: string }

export function register (program: Command): void {
  withDb(program.command('import'))
    .description('Import decoded messages (JSON, JSON array, NDJSON; files, directories, or - for stdin)')
    .argument('<paths...>', 'files, directories (searched for .json, .jsonl, .ndjson) or - for stdin')
    .option('--json', 'print the summary as JSON: {"imported","duplicates","rejected":[{source,line,reason}]}')
    .option('--source <name>', 'label the occurrences with NAME instead of the file name')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .option('--batch-size <n>', 'records per transaction (default 20000): smaller commits more often, larger is faster')
    .addHelpText('after', '\nExit status: 0 all stored, 2 some records rejected (the valid ones are stored), 1 nothing could be done.')
    .action(async (paths: string[], opts: ImportOptions) => {
      const batchSize = opts.batchSize === undefined ? undefined : Number(opts.batchSize)
      if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1)) fail(`--batch-size ${opts.batchSize}: give a whole number of records, at least 1`)
      let store
      try {
        store = openStore(dbPath(opts))
      } catch (err) {
        fail(err)
      }
      const importer = new Importer(store.repos.writer, store.repos.imports)
      const total: ImportSummary = { imported: 0, duplicates: 0, rejected: [] }
      const files: Array<{ path: string, size: number }> = []
      for (const p of paths) {
        if (p === '-') { files.push({ path: '-', size: 0 }); continue }
        try {
          for (const f of await expandPath(p, r => total.rejected.push(r))) files.push({ path: f, size: (await stat(f)).size })
        } catch (err) {
          total.rejected.push({ source: p, line: 0, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message })
        }
      }
      const bar = opts.progress !== false && process.stderr.isTTY && !opts.json ? progressBar(files.reduce((n, f) => n + f.size, 0)) : null
      const started = Date.now()
      let bytesBefore = 0
      let recordsBefore = 0
      try {
        for (const f of files) {
          const stream = f.path === '-' ? process.stdin : createReadStream(f.path, { highWaterMark: 1 << 20 })
          let bytes = 0
          stream.on('data', (c: Buffer | string) => { bytes += c.length })
          const items: AsyncIterable<InputItem> = readStreamRecords(stream as AsyncIterable<Buffer>, f.path === '-' ? 'stdin' : f.path)
          const s = await importer.run(items, {
            source: opts.source,
            label: opts.source ?? f.path,
            collectGarbage: true,
            batchSize,
            onProgress: bar
              ? ({ records }) => {
                  const secs = Math.max((Date.now() - started) / 1000, 0.001)
                  bar.update(bytesBefore + bytes, { records: recordsBefore + records, rate: Math.round((recordsBefore + records) / secs) })
                }
              : undefined
          })
          bytesBefore += bytes
          recordsBefore += s.imported + s.duplicates + s.rejected.length
          total.imported += s.imported
          total.duplicates += s.duplicates
          total.rejected.push(...s.rejected)
        }
      } catch (err) {
        bar?.stop()
        store.close()
        fail(err)
      }
      bar?.stop()
      store.close()
      if (opts.json) {
        process.stdout.write(JSON.stringify(total) + '\n')
      } else {
        const secs = (Date.now() - started) / 1000
        process.stdout.write(`imported ${total.imported}, duplicates ${total.duplicates}, rejected ${total.rejected.length} (${secs.toFixed(1)} s)\n`)
        for (const r of total.rejected) process.stdout.write(`  rejected ${r.source}${r.line > 0 ? `:${r.line}` : ''}: ${r.reason}\n`)
      }
      const stored = total.imported + total.duplicates
      process.exitCode = total.rejected.length === 0 ? Exit.ok : stored > 0 ? Exit.partial : Exit.failed
    })
}

function progressBar (totalBytes: number): SingleBar {
  const bar = new SingleBar({
    format: 'importing |{bar}| {percentage}% | {records} records | {rate} records/s',
    stream: process.stderr,
    hideCursor: true,
    etaBuffer: 50
  }, Presets.shades_classic)
  bar.start(Math.max(totalBytes, 1), 0, { records: 0, rate: 0 })
  return bar
}
