/** `whydenied what-if`: a stored request evaluated with some policy documents replaced. */
import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { readReplacements, whatIfOf } from '../services/policies.js'
import { collect, fail, withDb, type DbOption } from './common.js'
import { denialId, open, readInput } from './policies.js'

export function register (program: Command): void {
  withDb(program.command('what-if'))
    .description('Evaluate a stored request with some policy documents replaced')
    .requiredOption('--denial <id>', 'denial id', denialId)
    .option('--policy <name=file>', 'replace the policy named NAME (its ARN or name) with the document in FILE; repeatable', collect, [])
    .option('--json', 'print {"decision","deciding","reasons"}')
    .action(async (opts: DbOption & { denial: number, policy: string[], json?: boolean }) => {
      if (opts.policy.length === 0) fail('--policy NAME_OR_ARN=FILE: give at least one policy to replace')
      const items: Array<{ policy: string, document: unknown, field: string }> = []
      for (const spec of opts.policy) {
        // NAME=FILE where either may hold "=" (IAM allows it in policy names): the first split whose FILE exists.
        const cuts = [...spec.matchAll(/=/g)].map(m => m.index).filter(i => i > 0 && i < spec.length - 1)
        if (cuts.length === 0) fail(`--policy ${JSON.stringify(spec.slice(0, 80))}: write NAME_OR_ARN=FILE`)
        const at = cuts.find(i => spec.slice(i + 1) === '-' || existsSync(spec.slice(i + 1))) ?? cuts[0]!
        const r = await readInput(spec.slice(at + 1))
        if ('error' in r) fail(`--policy ${r.source}: ${r.error}`)
        items.push({ policy: spec.slice(0, at), document: r.text, field: r.source })
      }
      const store = open(opts)
      let result
      try {
        const d = store.repos.denials.get(opts.denial)
        if (!d) fail(`No denial with id ${opts.denial}`)
        result = whatIfOf(store.repos, d, readReplacements(items))
      } catch (err) {
        store.close()
        fail(err)
      }
      store.close()
      if (opts.json) { process.stdout.write(JSON.stringify(result) + '\n'); return }
      process.stdout.write(`decision: ${result.decision}\n`)
      for (const x of result.deciding) process.stdout.write(`  deciding: ${x.policyType} ${x.policyArn ?? x.policyName}${x.statementId ? ` statement "${x.statementId}"` : ''} (${x.effect})\n`)
      for (const r of result.reasons) process.stdout.write(`  ${r}\n`)
    })
}
