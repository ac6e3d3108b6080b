/** `whydenied policies import|list`: policy snapshots from the exports, and the policies they hold. */
import { InvalidArgumentError, type Command } from 'commander'
import { readFile, stat } from 'node:fs/promises'
import { openStore, type Store } from '../db/index.js'
import { SnapshotLimits } from '../authz/evaluate/snapshot.js'
import { importPolicies, listPolicies } from '../services/policies.js'
import { dbPath, Exit, fail, readStdin, wholeNumber, withDb, type DbOption } from './common.js'

interface ImportOpts extends DbOption { json?: boolean, account: string[], takenAt?: string, resource?: string }

export const denialId = wholeNumber(1, Number.MAX_SAFE_INTEGER, 'Give the id of a stored denial (a whole number, as `whydenied search` lists it).')

export function open (opts: DbOption): Store {
  try {
    return openStore(dbPath(opts))
  } catch (err) {
    fail(err)
  }
}

function account (value: string, previous: string[] = []): string[] {
  if (!/^\d{12}$/.test(value)) throw new InvalidArgumentError('Give a 12-digit AWS account ID.')
  return [...previous, value]
}

export async function readInput (path: string): Promise<{ source: string, text: string } | { source: string, error: string }> {
  if (path === '-') return { source: 'stdin', text: (await readStdin()).toString('utf8') }
  try {
    const s = await stat(path)
    if (!s.isFile()) return { source: path, error: 'not a regular file' }
    if (s.size > SnapshotLimits.maxFileBytes) return { source: path, error: `larger than ${SnapshotLimits.maxFileBytes} bytes` }
    return { source: path, text: await readFile(path, 'utf8') }
  } catch (err) {
    return { source: path, error: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message }
  }
}

export function register (program: Command): void {
  const policies = program.command('policies').description('Policy snapshots: import the exports, list the policies')

  withDb(policies.command('import'))
    .description('Import policy exports: get-account-authorization-details (whole or in pages), organizations describe-policy (SCP, RCP), get-bucket-policy or a policy document (with --resource)')
    .argument('<paths...>', 'export files, or - for stdin')
    .option('--json', 'print {"policies","principals","rejected":[{source,reason}],"snapshot":{id,takenAt},"snapshots","assumed"}')
    .option('--account <id>', 'the account SCPs, RCPs and resource policies apply to; repeatable (default: every account in the snapshots, said in the output)', account, [])
    .option('--taken-at <iso>', 'when the exports were made (default: now); the newest snapshot of an account is the one in force')
    .option('--resource <arn>', 'what a bucket policy or bare policy document is attached to')
    .addHelpText('after', '\nExit status: 0 all imported, 2 some parts rejected (the rest is imported), 1 nothing imported.')
    .action(async (paths: string[], opts: ImportOpts) => {
      let takenAt: string | null = null
      if (opts.takenAt !== undefined) {
        const t = Date.parse(opts.takenAt)
        if (!/^\d{4}-\d{2}-\d{2}/.test(opts.takenAt) || Number.isNaN(t)) fail(`--taken-at: give an ISO-8601 date or instant, got ${JSON.stringify(opts.takenAt.slice(0, 40))}`)
        takenAt = new Date(t).toISOString()
      }
      const files: Array<{ source: string, text: string }> = []
      const unreadable: Array<{ source: string, reason: string }> = []
      for (const p of paths) {
        const r = await readInput(p)
        if ('error' in r) unreadable.push({ source: r.source, reason: r.error })
        else files.push(r)
      }
      const store = open(opts)
      let summary
      try {
        summary = importPolicies(store.repos, files, { accounts: opts.account, takenAt, resource: opts.resource ?? null })
      } catch (err) {
        store.close()
        fail(err)
      }
      store.close()
      summary.rejected.unshift(...unreadable)
      if (opts.json) {
        process.stdout.write(JSON.stringify(summary) + '\n')
      } else {
        const snaps = summary.snapshots.map(s => `#${s.id} (account ${s.account}, taken ${s.takenAt})`).join(', ')
        process.stdout.write(`imported ${summary.policies} polic${summary.policies === 1 ? 'y' : 'ies'} and ${summary.principals} principal${summary.principals === 1 ? '' : 's'}${snaps ? ` into snapshot ${snaps}` : ''}, rejected ${summary.rejected.length}\n`)
        for (const r of summary.rejected) process.stdout.write(`  rejected ${r.source}: ${r.reason}\n`)
        if (summary.assumed) process.stdout.write(`note: ${summary.assumed}\n`)
      }
      process.exitCode = summary.rejected.length === 0 ? Exit.ok : summary.snapshots.length > 0 ? Exit.partial : Exit.failed
    })

  withDb(policies.command('list'))
    .description('Each policy of the snapshots in force: its type, where it is attached, the stored denials it decides or nearly allowed')
    .option('--json', 'print the list as JSON')
    .action((opts: DbOption & { json?: boolean }) => {
      const store = open(opts)
      let items
      try {
        items = listPolicies(store.repos)
      } catch (err) {
        store.close()
        fail(err)
      }
      store.close()
      if (opts.json) { process.stdout.write(JSON.stringify({ policies: items.map(({ marks, ...p }) => p) }) + '\n'); return }
      if (items.length === 0) { process.stdout.write('No policy snapshot yet: import one with whydenied policies import (see README, "Which policy, and the fix").\n'); return }
      const rows = items.map(p => [String(p.id), p.type, p.arn ?? p.name, p.attachedTo.length === 0 ? '-' : `${p.attachedTo[0]}${p.attachedTo.length > 1 ? ` +${p.attachedTo.length - 1}` : ''}`, String(p.decides.length), String(p.nearlyAllowed.length)])
      const head = ['ID', 'TYPE', 'POLICY', 'ATTACHED TO', 'DECIDES', 'NEAR']
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i]!.length)))
      for (const r of [head, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n')
    })
}
