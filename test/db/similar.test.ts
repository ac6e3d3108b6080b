/** A denial's similar denials (same principal and action; same action and resource) are the plain predicate's, however they are looked up. */
import t from 'tap'
import { SUMMARY_COLUMNS } from '../../server/db/repositories/denial-rows.js'
import { generatedStore } from '../helpers/generated-store.js'

t.test('same principal and action: by the principal\'s indexes, the same denials as (role_arn = P OR principal_arn = P)', async t => {
  const { db, repos } = await generatedStore(t, 'similar.db', 1500, { seed: 71, end: '2026-11-20T00:00:00Z', days: 30 })
  // Rows the indexes must not miss: a principal ARN equal to another denial's role, beside a role of its
  // own; the action in another case (action compares NOCASE).
  const some = db.prepare('SELECT * FROM denials WHERE role_arn IS NOT NULL LIMIT 1').get() as Record<string, unknown>
  const insert = db.prepare(`INSERT INTO denials (content_hash, decision, principal_arn, role_arn, principal_account, action, resource, service, kind, key_ids, first_seen, last_seen, created_at)
    VALUES (?, 'implicit-deny', ?, ?, '111122223333', ?, ?, 's3', 'decoded', '', '2026-11-19T00:00:00Z', '2026-11-19T00:00:00Z', '2026-11-19T00:00:00Z')`)
  insert.run('odd-1', some.role_arn, 'arn:aws:iam::111122223333:role/other', String(some.action).toUpperCase(), 'arn:aws:s3:::elsewhere')
  insert.run('odd-2', some.role_arn, null, some.action, 'arn:aws:s3:::elsewhere-2')
  const plain = db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM denials d
    WHERE (d.role_arn = @principal OR d.principal_arn = @principal) AND d.action = @action AND d.id <> @id
      AND d.resource IS NOT (SELECT resource FROM denials WHERE id = @id)
    ORDER BY d.last_seen DESC, d.id DESC LIMIT @limit`)
  let nonEmpty = 0
  type Row = { id: number, action: string | null, resource: string | null, principal_arn: string | null, role_arn: string | null }
  const of = (r: Row) => ({ id: r.id, action: r.action, resource: r.resource, principal: { arn: r.principal_arn, roleArn: r.role_arn } })
  for (const r of db.prepare('SELECT id, action, resource, principal_arn, role_arn FROM denials').all() as Row[]) {
    const d = of(r)
    const id = r.id
    const principal = d.principal.roleArn ?? d.principal.arn
    if (principal === null || d.action === null) continue
    const got = repos.stats.similar(d, 50).samePrincipalAction.map(s => s.id)
    const want = (plain.all({ id, principal, action: d.action, limit: 50 }) as Array<{ id: number }>).map(r => r.id)
    if (JSON.stringify(got) !== JSON.stringify(want)) t.fail(`denial ${id}: ${JSON.stringify(got)} instead of ${JSON.stringify(want)}`)
    if (want.length > 0) nonEmpty++
  }
  t.ok(nonEmpty > 20, `${nonEmpty} denials have similar ones, each the same list`)
  const odd = db.prepare("SELECT id FROM denials WHERE content_hash = 'odd-1'").pluck().get() as number
  t.ok(repos.stats.similar(of(some as unknown as Row), 1000).samePrincipalAction.some(s => s.id === odd), 'a principal ARN equal to the role, with a role of its own, in another case')
})
