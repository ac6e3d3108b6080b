/** The CLI's subcommands, in the order `whydenied --help` lists them. Each module exports register(program). */
import type { Command } from 'commander'
import * as serve from './serve.js'
import * as importCmd from './import.js'
import * as search from './search.js'
import * as decode from './decode.js'
import * as mockSts from './mock-sts.js'
import * as report from './report.js'
import * as policies from './policies.js'

export const commands: Array<{ register: (program: Command) => void }> = [serve, importCmd, search, decode, mockSts, report, policies]
