/**
 * `whydenied decode`: find the encoded messages in error text, decode them with DecodeAuthorizationMessage
 * (the real @aws-sdk/client-sts), print exactly what `aws sts decode-authorization-message` prints, and
 * with --store import them. Default STS: whydenied's own mock, run in process with the secret next to --db.
 */
import type { Command } from 'commander'
import { loadConfig } from '../config.js'
import { openStore } from '../db/index.js'
import { contextOf, createStsClient, type StsTarget } from '../decode/client.js'
import { excerpt, extractTokens } from '../decode/extract.js'
import { decodeAll, localTarget, storeDecoded, textDenialsOnly } from '../services/decode.js'
import { readTextRecords } from '../ingest/index.js'
import { Importer } from '../services/importer.js'
import { decodePending, type PendingSummary } from '../services/pending.js'
import { checkedUrl, openSts, pendingLine } from './sts.js'
import { buildStsMock } from '../sts/plugin.js'
import { dbPath, Exit, fail, readStdin, withDb, type DbOption } from './common.js'

interface DecodeOptions extends DbOption { endpoint?: string, aws?: boolean, region?: string, store?: boolean, source?: string, identities?: string, pending?: boolean }

/** Exactly the AWS CLI's output for one decoded message (json.dump indent=4, then a newline). */
export function cliOutput (decodedMessage: string): string {
  return JSON.stringify({ DecodedMessage: decodedMessage }, null, 4) + '\n'
}

export function register (program: Command): void {
  withDb(program.command('decode'))
    .description('Decode the encoded authorization messages in error text (or a message alone), as `aws sts decode-authorization-message` prints them')
    .argument('[text...]', 'the message, or text that holds it (e.g. the whole error line); - or nothing reads stdin')
    .option('--endpoint <url>', 'STS endpoint, e.g. http://127.0.0.1:3001/sts of `whydenied mock-sts` (default: $WHYDENIED_STS_ENDPOINT, else the local mock in process); credentials from the default AWS chain')
    .option('--aws', 'use real AWS STS: no endpoint override, the default credential chain (AWS_PROFILE, aws configure, SSO, environment)')
    .option('--region <region>', 'signing region (default: us-east-1 for --endpoint and the local mock; the AWS default chain with --aws)')
    .option('--store', 'import the decoded messages into the database')
    .option('--source <name>', 'with --store: label the occurrences (default "decode")')
    .option('--identities <file>', 'local mock only: identities file (default: $WHYDENIED_STS_IDENTITIES, else fixtures/sts/identities.json)')
    .option('--pending', 'decode the encoded messages of imported CloudTrail events that wait for it (imported with --decode none), instead of text')
    .addHelpText('after', [
      '',
      'Messages are rejoined when broken across lines, and quotes and trailing punctuation are removed; a message',
      'that is elided ("...", "…"), truncated, lower-cased or too short is refused before anything is sent.',
      'The local mock decodes the messages that `whydenied mock-sts encode` (same --db) minted: they start with whyDeniedMock-v2.',
      'A message from AWS needs --aws (credentials allowed sts:DecodeAuthorizationMessage), or decode it with the AWS CLI and `whydenied import -` its output.',
      'Exit status: 0 every message decoded (and stored); 1 otherwise.'
    ].join('\n'))
    .action(async (words: string[], opts: DecodeOptions) => {
      if (opts.aws && opts.endpoint) fail('--aws and --endpoint exclude each other: --aws means AWS\'s own endpoint')
      if (opts.pending) {
        if (words.length > 0) fail('--pending decodes what is stored: give no text with it')
        let summary: PendingSummary
        try {
          const store = openStore(dbPath(opts))
          const sts = await openSts(opts)
          try {
            summary = await decodePending(store.repos.events, store.repos.writer, sts.client, sts.label)
          } finally {
            await sts.close()
            store.close()
          }
        } catch (err) {
          fail(err)
        }
        process.stdout.write(pendingLine(summary) + '\n')
        if (summary.error !== null) process.stderr.write(`whydenied: stopped: ${summary.error}\n`)
        process.exitCode = summary.error === null && summary.remaining === 0 ? Exit.ok : Exit.failed
        return
      }
      const fromStdin = words.length === 0 || (words.length === 1 && words[0] === '-')
      if (fromStdin && words.length === 0 && process.stdin.isTTY) fail('give the error text (or the message) as an argument, or - to read it from stdin')
      const text = fromStdin ? (await readStdin()).toString('utf8') : words.join(' ')
      // No encoded message, but access-denied sentences: nothing to send to STS; they are shown (and stored) as text denials.
      const sentences = textDenialsOnly(text)
      if (sentences !== null) {
        for (const d of sentences) process.stdout.write(JSON.stringify({ kind: 'text', ...d }, null, 4) + '\n')
        if (opts.store) {
          try {
            const store = openStore(dbPath(opts))
            const s = await new Importer(store.repos.writer, store.repos.imports).run(readTextRecords(text, opts.source ?? 'decode'), { source: opts.source ?? 'decode', label: opts.source ?? 'decode' })
            store.close()
            process.stderr.write(`stored: imported ${s.imported}, duplicates ${s.duplicates}, rejected ${s.rejectedCount} (text denials: no encoded message to decode)\n`)
          } catch (err) {
            fail(err)
          }
        } else {
          process.stderr.write('whydenied: no encoded message in the text: the access-denied message is shown as read (--store stores it as a text denial)\n')
        }
        process.exitCode = Exit.ok
        return
      }
      const { tokens, problems } = extractTokens(text)
      if (problems.length > 0) {
        for (const p of problems) process.stderr.write(`whydenied: not sent to STS: ${p.excerpt}: ${p.reason}\n`)
        process.exit(Exit.failed)
      }

      const config = loadConfig()
      const endpoint = opts.endpoint ?? (opts.aws ? null : config.stsEndpoint)
      let mock: Awaited<ReturnType<typeof buildStsMock>> | null = null
      let target: StsTarget
      try {
        if (opts.aws) target = { kind: 'aws', region: opts.region }
        else if (endpoint) target = { kind: 'endpoint', endpoint: checkedUrl(endpoint), region: opts.region }
        else {
          // Decoding reads the key next to --db and creates nothing (no key file, no directory).
          mock = await buildStsMock({ identitiesFile: opts.identities ?? config.stsIdentitiesFile, secret: config.stsSecret, dbPath: dbPath(opts), createKey: false, logger: false })
          await mock.ready()
          target = localTarget(mock, mock.sts.identities, opts.region, mock.sts.secretOrigin)
        }
      } catch (err) {
        fail(err)
      }
      const client = createStsClient(target)
      const outcomes = await decodeAll(client, tokens, contextOf(target))
      client.destroy()
      await mock?.close()

      let failed = 0
      for (const [i, o] of outcomes.entries()) {
        if (o.ok) {
          process.stdout.write(cliOutput(o.item.DecodedMessage))
        } else {
          failed++
          const which = outcomes.length > 1 ? `message ${i + 1} of ${outcomes.length} (${excerpt(o.token)}): ` : ''
          process.stderr.write(`whydenied: ${which}${o.error.message}\n`)
        }
      }
      const items = outcomes.flatMap(o => o.ok ? [o.item] : [])
      if (opts.store && items.length > 0) {
        try {
          const store = openStore(dbPath(opts))
          const s = await storeDecoded(new Importer(store.repos.writer, store.repos.imports), store.repos.denials, items, opts.source ?? 'decode')
          store.close()
          const ids = items.flatMap(it => it.denialId !== undefined ? [it.denialId] : [])
          process.stderr.write(`stored: imported ${s.imported}, duplicates ${s.duplicates}, rejected ${s.rejected.length}${ids.length > 0 ? ` (denial ${ids.join(', ')})` : ''}\n`)
          for (const r of s.rejected) process.stderr.write(`  rejected message ${r.line}: ${r.reason}\n`)
          if (s.rejected.length > 0) failed++
        } catch (err) {
          fail(err)
        }
      }
      process.exitCode = failed === 0 ? Exit.ok : Exit.failed
    })
}
