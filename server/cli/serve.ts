/** `whydenied serve`: start the web app (pages, API and mock STS) on 127.0.0.1 by default. */
import type { Command } from 'commander'
import { buildApp } from '../app.js'
import { loadConfig } from '../config.js'
import { dbPath, fail, listenFailure, logLevelOption, serverLogLevel, withDb, type DbOption, parsePort, parseTtl } from './common.js'

interface ServeOptions extends DbOption { host?: string, port?: number, token?: string, trustProxy?: boolean, quiet?: boolean, logLevel?: string, ttl?: number | null, teams?: string }

export function register (program: Command): void {
  withDb(program.command('serve'))
    .description('Start the whydenied server and print its URL')
    .option('--host <host>', 'address or name to bind (anything that does not resolve to loopback only requires --token; default: $WHYDENIED_HOST, else 127.0.0.1)')
    .option('--port <port>', 'port, 0 picks a free one (default: $WHYDENIED_PORT, else 3000)', parsePort)
    .option('--token <token>', 'access token required by every page and API call (env WHYDENIED_TOKEN)')
    .option('--trust-proxy', 'behind a reverse proxy: honour its X-Forwarded-Proto and X-Forwarded-For (the nearest hop only)')
    .option('--quiet', 'log warnings and errors only (the default, unless $WHYDENIED_LOG_LEVEL says otherwise)')
    .addOption(logLevelOption())
    .option('--teams <file>', 'teams file for /reports (YAML or JSON; env WHYDENIED_TEAMS)')
    .option('--ttl <seconds>', 'lifetime of messages minted by POST /api/mock-sts/encode (default: $WHYDENIED_STS_TTL, else never expire)', parseTtl)
    .action(async (opts: ServeOptions) => {
      // The environment gives the defaults (loadConfig); an option given on the command line wins.
      const base = loadConfig()
      const config = loadConfig({
        dbPath: dbPath(opts),
        host: opts.host ?? base.host,
        port: opts.port ?? base.port,
        token: opts.token ?? base.token,
        trustProxy: opts.trustProxy === true,
        logLevel: serverLogLevel(opts),
        stsTtlSeconds: opts.ttl !== undefined ? opts.ttl : base.stsTtlSeconds,
        teamsFile: opts.teams ?? base.teamsFile
      })
      let app
      try {
        app = await buildApp(config)
      } catch (err) {
        fail(err)
      }
      try {
        await app.listen({ host: config.host, port: config.port })
      } catch (err) {
        await app.close()
        fail(listenFailure(err, config.host, config.port, '--port N (or WHYDENIED_PORT)'))
      }
      const addr = app.server.address()
      const actualPort = typeof addr === 'object' && addr ? addr.port : config.port
      const host = config.host.includes(':') ? `[${config.host}]` : config.host
      process.stdout.write(`whydenied listening on http://${host}:${actualPort}/\n`)
      process.stdout.write(`mock STS endpoint: http://${host}:${actualPort}/sts\n`)
      const stop = (): void => { void app.close().then(() => process.exit(0)) }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
}
