/** The CLI loads only the module of the command it runs; help and unknown names load every command. */
import t from 'tap'
import { Command } from 'commander'
import { commands, commandsFor } from '../../server/cli/commands.js'

t.test('a named command loads its module alone', async t => {
  for (const { name } of commands) {
    const mods = await commandsFor([name, '--json'])
    t.equal(mods.length, 1, name)
    const program = new Command()
    mods[0]!.register(program)
    t.same(program.commands.map(c => c.name()), [name], `${name} registers itself`)
  }
})

t.test('help, no command and unknown names load them all, so the list stays complete', async t => {
  for (const args of [[], ['--help'], ['help', 'search'], ['bogus']]) {
    const program = new Command()
    for (const m of await commandsFor(args)) m.register(program)
    t.same(program.commands.map(c => c.name()), commands.map(c => c.name), JSON.stringify(args))
  }
})
