/** Child process for concurrent-open.test.ts: open (and migrate) one database when told "go" on stdin. */
import { openDatabase } from '../../server/db/connection.js'

const file = process.argv[2]
if (!file) throw new Error('usage: open-child.ts <db file>')
// Modules are loaded before the parent says go, so every child reaches openDatabase at nearly the
// same instant: the race is on the database file, not on module loading.
process.stdout.write('ready\n')
process.stdin.once('data', () => {
  try {
    const db = openDatabase(file)
    const version = db.pragma('user_version', { simple: true })
    db.close()
    process.stdout.write(JSON.stringify({ ok: true, version }) + '\n')
    process.exit(0)
  } catch (err) {
    process.stdout.write(JSON.stringify({ ok: false, error: (err as Error).message, stack: (err as Error).stack, code: (err as { code?: string }).code }) + '\n')
    process.exit(1)
  }
})
