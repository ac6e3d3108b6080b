/** `whydenied import`: files, directories and stdin into the database, with a summary and exit code. */
import { Option, type Command } from 'commander'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { SingleBar, Presets } from 'cli-progress'
import { expandPath, readStreamRecords } from '../ingest/index.js'
import type { InputItem } from '../authz/types.js'
import { openStore } from '../db/index.js'
import { CLI_IMPORT_OPTIONS, Importer, SummaryBuilder } from '../services/importer.js'
import type { PendingSummary } from '../services/pending.js'
import { dbPath, Exit, fail, wholeNumber, withDb, type DbOption } from './common.js'

interface ImportOptions extends DbOption { json?: boolean, source?: string, progress?: boolean, batchSize?: number, decode: 'none' | 'mock' | 'aws', endpoint?: string, region?: string }

export function register (program: Command): void {
  withDb(program.command('import'))
    .description('Import denials: decoded messages (JSON, JSON array, NDJSON), CloudTrail logs (also .json.gz, lookup-events output), access-denied text; files, directories, or - for stdin')
    .argument('<paths...>', 'files, directories (searched for .json, .jsonl, .ndjson and their .gz) or - for stdin')
    .option('--json', 'print the summary as JSON: {"imported","duplicates","skipped","rejected":[{source,line,reason}] (the first 1000),"rejectedCount","rejectedReasons"}')
    .addOption(new Option('--decode <mode>', 'encoded messages in CloudTrail errorMessages: none (store the text denial, decode later with `whydenied decode --pending`), mock (the built-in mock STS), aws (real STS, default credential chain)').choices(['none', 'mock', 'aws']).default('none'))
    .option('--endpoint <url>', 'with --decode aws: the STS endpoint to call instead of AWS\'s (any STS-compatible one, e.g. `whydenied mock-sts`)')
    .option('--region <region>', 'with --decode aws: the signing region')
    .option('--source <name>', 'label the occurrences with NAME instead of the file name')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .option('--batch-size <n>', 'records per transaction (default 20000): smaller commits more often, larger is faster', wholeNumber(1, Number.MAX_SAFE_INTEGER, 'Give a whole number of records, at least 1.'))
    .addHelpText('after', '\nExit status: 0 all stored, 2 some records rejected (the valid ones are stored), 1 nothing could be done.')
    .action(async (paths: string[], opts: ImportOptions) => {
      const batchSize = opts.batchSize
      let store
      try {
        store = openStore(dbPath(opts))
      } catch (err) {
        fail(err)
      }
      const importer = new Importer(store.repos.writer, store.repos.imports)
      const total = new SummaryBuilder()
      const files: Array<{ path: string, size: number }> = []
      for (const p of paths) {
        if (p === '-') { files.push({ path: '-', size: 0 }); continue }
        try {
          for (const f of await expandPath(p, r => total.reject(r))) files.push({ path: f, size: (await stat(f)).size })
        } catch (err) {
          total.reject({ source: p, line: 0, reason: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message })
        }
      }
      const bar = opts.progress !== false && process.stderr.isTTY && !opts.json ? progressBar(files.reduce((n, f) => n + f.size, 0)) : null
      const started = Date.now()
      let bytes = 0
      /**
       * Every file in one run: one imports row and transactions that span many files (10,000 small
       * files in a few seconds instead of one commit each). Each record keeps its own file as source.
       */
      async function * allFiles (): AsyncGenerator<InputItem> {
        for (const f of files) {
          const stream = f.path === '-' ? process.stdin : createReadStream(f.path, { highWaterMark: readSize(f.size) })
          try {
            yield * readStreamRecords(counted(stream as AsyncIterable<Buffer>), f.path === '-' ? 'stdin' : f.path)
          } catch (err) {
            // A file that cannot be read costs only itself: the others are still imported.
            yield { kind: 'rejected', rejected: { source: f.path, line: 0, reason: `could not be read: ${(err as Error).message}` } }
          }
        }
      }
      // Counted as the records are read (a 'data' listener would switch the stream to flowing mode,
      // and it would be read ahead of the import without bound).
      async function * counted (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
        for await (const c of chunks) {
          bytes += c.length
          yield c
        }
      }
      const label = opts.source ?? (files.length === 1 ? files[0]!.path : clip(`${paths.join(' ')} (${files.length} files)`, 200))
      try {
        if (files.length > 0) {
          total.add(await importer.run(allFiles(), {
            source: opts.source,
            label,
            ...CLI_IMPORT_OPTIONS,
            batchSize,
            onProgress: bar
              ? ({ records }) => {
                  const secs = Math.max((Date.now() - started) / 1000, 0.001)
                  bar.update(bytes, { records, rate: Math.round(records / secs) })
                }
              : undefined
          }))
        }
      } catch (err) {
        bar?.stop()
        store.close()
        fail(err)
      }
      bar?.stop()
      // Encoded messages of the CloudTrail events just stored (and any left pending before), decoded now.
      let decoded: PendingSummary | null = null
      if (opts.decode !== 'none') {
        try {
          // Loaded only when asked for: the STS client is most of a second of start-up.
          const { openSts } = await import('./sts.js')
          const { decodePending } = await import('../services/pending.js')
          const sts = await openSts({ db: opts.db, aws: opts.decode === 'aws', endpoint: opts.decode === 'aws' ? opts.endpoint : undefined, region: opts.region })
          try {
            decoded = await decodePending(store.repos.events, store.repos.writer, sts.client, sts.label)
          } finally {
            await sts.close()
          }
        } catch (err) {
          store.close()
          fail(err)
        }
      }
      store.close()
      const summary = total.summary()
      if (opts.json) {
        process.stdout.write(JSON.stringify(decoded === null ? summary : { ...summary, decoded }) + '\n')
      } else {
        const secs = (Date.now() - started) / 1000
        const shown = summary.rejected.length < summary.rejectedCount ? ` (first ${summary.rejected.length} shown)` : ''
        process.stdout.write(`imported ${summary.imported}, duplicates ${summary.duplicates}, rejected ${summary.rejectedCount}${shown}${summary.skipped > 0 ? `, skipped ${summary.skipped} (not denials)` : ''} (${secs.toFixed(1)} s)\n`)
        if (decoded !== null) process.stdout.write((await import('./sts.js')).pendingLine(decoded) + '\n')
        if (decoded?.error) process.stderr.write(`whydenied: decoding stopped: ${decoded.error}\n`)
        // Written in pieces, not joined: 150,000 rejections stay out of one giant string.
        for (const r of summary.rejected) process.stdout.write(`  rejected ${r.source}${r.line > 0 ? `:${r.line}` : ''}: ${r.reason}\n`)
        if (shown !== '') {
          process.stdout.write('rejections by reason:\n')
          for (const [reason, n] of Object.entries(summary.rejectedReasons).sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${n}  ${reason}\n`)
        }
      }
      const stored = total.imported + total.duplicates
      process.exitCode = total.rejectedCount === 0 ? Exit.ok : stored > 0 ? Exit.partial : Exit.failed
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

function clip (s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s
}

/** Read buffer for a file: small files in one small read (a 1 MiB buffer per file is mostly garbage). */
function readSize (size: number): number {
  return Math.min(1 << 20, Math.max(size + 1, 4096))
}
