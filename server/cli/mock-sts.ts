/**
 * `whydenied mock-sts`: the mock STS alone (at http://HOST:PORT/sts, plus POST /api/mock-sts/encode), and
 * `whydenied mock-sts encode`: mint encoded messages for decoded ones, one per line on stdout.
 */
import type { Command } from 'commander'
import { createReadStream } from 'node:fs'
import { readStreamRecords } from '../ingest/index.js'
import { loadConfig } from '../config.js'
import { buildStsMock } from '../sts/plugin.js'
import { loadStsSecret, TokenCodec } from '../sts/token.js'
import { mintRecords } from '../sts/mint.js'
import { dbPath, Exit, fail, listenFailure, logLevelOption, serverLogLevel, withDb, type DbOption, parsePort, parseTtl } from './common.js'

interface MockOptions extends DbOption { host: string, port: number, token?: string, identities?: string, ttl?: number | null, quiet?: boolean, logLevel?: string }
interface EncodeOptions extends DbOption { ttl?: number | null }

export const DEFAULT_MOCK_PORT = 3001

export function endpointUrl (host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/sts`
}

export function register (program: Command): void {
  const mock = withDb(program.command('mock-sts'))
    .description('Run the mock STS alone and print its endpoint (for aws --endpoint-url, boto3, STSClient)')
    .option('--host <host>', 'address or name to bind (anything that does not resolve to loopback only requires --token)', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', parsePort, DEFAULT_MOCK_PORT)
    .option('--token <token>', 'required by POST /api/mock-sts/encode as "Authorization: Bearer TOKEN" (env WHYDENIED_TOKEN)')
    .option('--identities <file>', 'identities JSON file (default: $WHYDENIED_STS_IDENTITIES, else fixtures/sts/identities.json: test/test may decode, denied/denied may not)')
    .option('--ttl <seconds>', 'lifetime of messages minted by POST /api/mock-sts/encode (default: $WHYDENIED_STS_TTL, else never expire)', parseTtl)
    .option('--quiet', 'log warnings and errors only (the default, unless $WHYDENIED_LOG_LEVEL says otherwise)')
    .addOption(logLevelOption())
    .addHelpText('after', '\nThe secret that encodes messages is kept next to --db (mock-sts.key), or set with $WHYDENIED_STS_SECRET.\nExample:\n  aws --endpoint-url http://127.0.0.1:3001/sts sts decode-authorization-message --encoded-message TOKEN')
    .action(async (opts: MockOptions) => {
      const port = opts.port
      let app
      try {
        const base = loadConfig()
        app = await buildStsMock({
          identitiesFile: opts.identities ?? base.stsIdentitiesFile,
          secret: base.stsSecret,
          dbPath: dbPath(opts),
          ttlSeconds: opts.ttl !== undefined ? opts.ttl : base.stsTtlSeconds,
          logger: { level: serverLogLevel(opts) },
          host: opts.host,
          token: opts.token ?? base.token
        })
      } catch (err) {
        fail(err)
      }
      try {
        await app.listen({ host: opts.host, port })
      } catch (err) {
        await app.close()
        fail(listenFailure(err, opts.host, port, '--port N'))
      }
      const addr = app.server.address()
      const actualPort = typeof addr === 'object' && addr ? addr.port : port
      const keys = [...app.sts.identities.values()].map(i => `${i.accessKeyId}${i.canDecode ? '' : ' (may not decode)'}`).join(', ')
      process.stdout.write(`mock STS endpoint: ${endpointUrl(opts.host, actualPort)}\n`)
      process.stdout.write(`access keys: ${keys}; secret: ${app.sts.secretOrigin}\n`)
      const stop = (): void => { void app.close().then(() => process.exit(0)) }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })

  withDb(mock.command('encode'))
    .description('Mint encoded messages that the mock decodes back to exactly the given decoded JSON; one per line')
    .argument('<inputs...>', 'files with decoded messages in any import format (JSON, JSON array, NDJSON), or - for stdin')
    .option('--ttl <seconds>', 'the messages expire after this many seconds (default: $WHYDENIED_STS_TTL, else never)', parseTtl)
    .addHelpText('after', '\nThe secret is the one `whydenied serve`, `mock-sts` and `decode` use with the same --db (or $WHYDENIED_STS_SECRET).\nExit status: 0 every record minted; 1 otherwise (then nothing is printed).')
    .action(async (inputs: string[], _opts: EncodeOptions, cmd: Command) => {
      // --db and --ttl also exist on `mock-sts` itself, which may have taken them: read both levels.
      const opts = cmd.optsWithGlobals<EncodeOptions>()
      let codec: TokenCodec
      let ttl: number | null
      try {
        const base = loadConfig()
        ttl = opts.ttl !== undefined ? opts.ttl : base.stsTtlSeconds
        codec = new TokenCodec(loadStsSecret({ secret: base.stsSecret, dbPath: dbPath(opts) }).secret)
      } catch (err) {
        fail(err)
      }
      const tokens: string[] = []
      const problems: string[] = []
      for (const input of inputs) {
        const stream = input === '-' ? process.stdin : createReadStream(input)
        try {
          const { minted, rejected } = await mintRecords(readStreamRecords(stream as AsyncIterable<Buffer>, input === '-' ? 'stdin' : input), codec, { ttlSeconds: ttl })
          tokens.push(...minted.map(m => m.token))
          problems.push(...rejected.map(r => `${r.source}${r.line > 0 ? `:${r.line}` : ''}: ${r.reason}`))
        } catch (err) {
          problems.push(`${input}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
        }
      }
      if (problems.length > 0 || tokens.length === 0) {
        for (const p of problems) process.stderr.write(`whydenied: cannot encode ${p}\n`)
        if (problems.length === 0) process.stderr.write('whydenied: the input holds no decoded message\n')
        process.exitCode = Exit.failed
        return
      }
      process.stdout.write(tokens.join('\n') + '\n')
    })
}
