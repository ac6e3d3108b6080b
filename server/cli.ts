#!/usr/bin/env node
/** The `whydenied` command: parses argv and hands each subcommand its options. */
import { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { commands } from './cli/commands.js'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

const program = new Command()
  .name('whydenied')
  .description('Local, offline analyzer for decoded AWS authorization failure messages')
  .version(pkg.version)
  .showHelpAfterError()

for (const c of commands) c.register(program)

await program.parseAsync(process.argv)
