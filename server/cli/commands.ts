/** The CLI's subcommands, in the order `whydenied --help` lists them. Each module exports register(program). */
import type { Command } from 'commander'

export interface CommandModule { register: (program: Command) => void }

/**
 * Loaded on demand: a run loads only the module of the command it names (`search` needs neither
 * Fastify nor the AWS SDK), which takes about half the start-up time off every command but `serve`.
 * `--help`, `help` and unknown names load them all, so the list stays complete.
 */
export const commands: ReadonlyArray<{ name: string, load: () => Promise<CommandModule> }> = [
  { name: 'serve', load: async () => await import('./serve.js') },
  { name: 'import', load: async () => await import('./import.js') },
  { name: 'search', load: async () => await import('./search.js') },
  { name: 'decode', load: async () => await import('./decode.js') },
  { name: 'mock-sts', load: async () => await import('./mock-sts.js') },
  { name: 'report', load: async () => await import('./report.js') },
  { name: 'policies', load: async () => await import('./policies.js') },
  { name: 'explain', load: async () => await import('./explain.js') },
  { name: 'what-if', load: async () => await import('./what-if.js') }
]

/** The modules to register for these arguments (argv without node and the script). */
export async function commandsFor (args: readonly string[]): Promise<CommandModule[]> {
  const first = args.find(a => !a.startsWith('-'))
  const named = commands.find(c => c.name === first)
  return await Promise.all((named !== undefined ? [named] : commands).map(async c => await c.load()))
}
