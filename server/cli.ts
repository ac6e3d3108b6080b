#!/usr/bin/env node
/** The `whydenied` command: parses argv and hands each subcommand its options. */
import { Command } from 'commander'
import { commandsFor } from './cli/commands.js'
import { fail } from './cli/common.js'
import { readEnv } from './config.js'
import { packageVersion } from './paths.js'

// Output piped into a reader that stops early (`whydenied search | head`): the reader has what it
// wanted, so stop quietly, as Unix tools do on SIGPIPE, instead of an EPIPE stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})

const program = new Command()
  .name('whydenied')
  .description('Local, offline analyzer for decoded AWS authorization failure messages')
  .version(packageVersion())
  .showHelpAfterError()

for (const c of await commandsFor(process.argv.slice(2))) c.register(program)

// The environment is checked once, before any command runs: a bad variable stops here, named.
program.hook('preAction', () => {
  try {
    readEnv()
  } catch (err) {
    fail(err)
  }
})

await program.parseAsync(process.argv)
