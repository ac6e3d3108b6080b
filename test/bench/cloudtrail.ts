/**
 * `npm run bench`, CloudTrail section (a file of its own, beside run.ts): days of delivered CloudTrail
 * logs (288 five-minute .json.gz files a day; 1M events a day, 5% of them denials) imported in one run
 * of the built CLI, with the peak RSS reached after half a day, one day, … of logs: flat memory means
 * the peak stops growing once SQLite's page cache (capped, see server/db/connection.ts) is full. The run
 * fails (exit 1) if the peak grows more than FLAT_MARGIN over the second half of the logs or passes 400 MB.
 *
 *   node dist/test/bench/cloudtrail.js [--events 1000000] [--days 3] [--keep]
 *
 * --events is per day (scale it down to iterate: the verdict then reads "NOT FLAT" while the page cache
 * is still filling at the end, since the database grows too slowly to fill it); --keep reuses the
 * generated logs. Linux only: the child's memory and the log file it has open are read from /proc.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'

const args = process.argv.slice(2)
const opt = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined }
const eventsPerDay = Number(opt('events') ?? 1_000_000)
const days = Number(opt('days') ?? 3)
const keep = args.includes('--keep')
if (!Number.isInteger(days) || days < 1 || !Number.isInteger(eventsPerDay) || eventsPerDay < 288) throw new Error('--days: a whole number ≥ 1; --events: a whole number ≥ 288 (one event per file)')
const dir = path.resolve('bench-data', 'cloudtrail')
const cli = path.resolve('dist', 'server', 'cli.js')
const FILES_PER_DAY = 288
/** The peak may grow this much from the middle of the run to its end and still count as flat. */
const FLAT_MARGIN = 0.05
const BUDGET_MB = 400

/** A deterministic pseudo-random sequence (the same logs every run). */
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 }
}

const SERVICES = [['s3', 'GetObject'], ['s3', 'PutObject'], ['dynamodb', 'GetItem'], ['kms', 'Decrypt'], ['ec2', 'DescribeInstances'], ['sts', 'AssumeRole'], ['lambda', 'Invoke'], ['sqs', 'SendMessage']] as const
const REASONS = ['because no identity-based policy allows the {a} action', 'with an explicit deny in a service control policy', 'because no resource-based policy allows the {a} action', 'with an explicit deny in an identity-based policy']

/**
 * Day `d` (0-based, from 2026-11-28): FILES_PER_DAY five-minute log files under root/AWSLogs/…/YYYY/MM/DD/,
 * `n` events spread over them, event ids numbered from `firstId` (unique across days). The paths, in the
 * order the CLI reads them (sorted).
 */
function writeDay (root: string, d: number, n: number, firstId: number): string[] {
  const r = rng(7 + d)
  const date = new Date(Date.UTC(2026, 10, 28 + d))
  const [yyyy, mm, dd] = [String(date.getUTCFullYear()), String(date.getUTCMonth() + 1).padStart(2, '0'), String(date.getUTCDate()).padStart(2, '0')]
  const day = path.join(root, 'AWSLogs', '111122223333', 'CloudTrail', 'us-east-1', yyyy, mm, dd)
  mkdirSync(day, { recursive: true })
  const written: string[] = []
  let id = firstId
  for (let f = 0; f < FILES_PER_DAY; f++) {
    const count = Math.floor(n / FILES_PER_DAY) + (f < n % FILES_PER_DAY ? 1 : 0)
    const records: unknown[] = []
    for (let i = 0; i < count; i++) {
      const [svc, name] = SERVICES[Math.floor(r() * SERVICES.length)]!
      const session = `s-${Math.floor(r() * 200)}`
      const role = `app-${Math.floor(r() * 40)}`
      const minute = f * 5 + Math.floor(r() * 5)
      const e: Record<string, unknown> = {
        eventVersion: '1.11',
        userIdentity: {
          type: 'AssumedRole',
          principalId: `AROAEXAMPLE:${session}`,
          arn: `arn:aws:sts::111122223333:assumed-role/${role}/${session}`,
          accountId: '111122223333',
          sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::111122223333:role/${role}`, userName: role } }
        },
        eventTime: `${yyyy}-${mm}-${dd}T${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:${String(Math.floor(r() * 60)).padStart(2, '0')}Z`,
        eventSource: `${svc}.amazonaws.com`,
        eventName: name,
        awsRegion: 'us-east-1',
        sourceIPAddress: `10.0.${Math.floor(r() * 4)}.${Math.floor(r() * 250)}`,
        userAgent: 'aws-sdk-java/2.25.0 Linux/6.1 OpenJDK_64-Bit_Server_VM/21',
        requestParameters: { key: `k-${Math.floor(r() * 1e6)}` },
        responseElements: null,
        requestID: `req-${id}`,
        eventID: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
        readOnly: true,
        eventType: 'AwsApiCall',
        managementEvent: true,
        recipientAccountId: '111122223333'
      }
      id++
      if (r() < 0.05) {
        const action = `${svc}:${name === 'Invoke' ? 'InvokeFunction' : name}`
        e.errorCode = svc === 'ec2' ? 'Client.UnauthorizedOperation' : svc === 's3' ? 'AccessDenied' : 'AccessDeniedException'
        e.errorMessage = `User: arn:aws:sts::111122223333:assumed-role/${role}/${session} is not authorized to perform: ${action} on resource: arn:aws:${svc}:us-east-1:111122223333:thing/${Math.floor(r() * 50)} ${REASONS[Math.floor(r() * REASONS.length)]!.replace('{a}', action)}`
      }
      records.push(e)
    }
    const stamp = `${yyyy}${mm}${dd}T${String(Math.floor(f * 5 / 60)).padStart(2, '0')}${String(f * 5 % 60).padStart(2, '0')}Z`
    const file = path.join(day, `111122223333_CloudTrail_us-east-1_${stamp}_bench${f}.json.gz`)
    writeFileSync(file, gzipSync(JSON.stringify({ Records: records }), { level: 1 }))
    written.push(file)
  }
  return written
}

/** From /proc: a process's peak RSS so far (VmHWM, MB), or null once it is gone. */
function peakRssMb (pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : null
  } catch {
    return null
  }
}

/** The log files a process has open (its read position in the import). */
function openLogs (pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).flatMap(fd => {
      try { return [readlinkSync(`/proc/${pid}/fd/${fd}`)] } catch { return [] }
    }).filter(p => p.endsWith('.json.gz'))
  } catch {
    return []
  }
}

interface Checkpoint { label: string, events: number, ms: number, peakMb: number }

/**
 * Import the tree with the CLI under GNU time (its %M is the whole run's peak RSS); every 100 ms, the
 * CLI's peak so far and the file it reads. When it opens the first file past a checkpoint, the peak so
 * far is that checkpoint's: the memory needed for the logs before it.
 */
async function importMeasured (root: string, db: string, files: string[], checkpoints: Array<{ label: string, files: number, events: number }>): Promise<{ ms: number, peakMb: number, at: Checkpoint[], summary: { imported: number, skipped: number, rejectedCount: number } }> {
  rmSync(db, { force: true })
  for (const suffix of ['-wal', '-shm']) rmSync(db + suffix, { force: true })
  const index = new Map(files.map((f, i) => [f, i]))
  const started = process.hrtime.bigint()
  const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e6
  const child = spawn('/usr/bin/time', ['-f', 'PEAK_KB %M', process.execPath, cli, 'import', '--json', '--no-progress', '--db', db, root], { env: { ...process.env, WHYDENIED_DB: '' } })
  let out = ''
  let err = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr.on('data', (c: Buffer) => { err += c.toString() })
  const at: Checkpoint[] = []
  let next = 0
  let cliPid: number | null = null
  const poll = setInterval(() => {
    if (cliPid === null) {
      try { cliPid = Number(readFileSync(`/proc/${child.pid!}/task/${child.pid!}/children`, 'utf8').trim().split(/\s+/)[0]) || null } catch { return }
      if (cliPid === null) return
    }
    const reading = Math.max(-1, ...openLogs(cliPid).map(f => index.get(f) ?? -1))
    const peak = peakRssMb(cliPid)
    if (peak === null) return
    while (next < checkpoints.length && reading >= checkpoints[next]!.files) {
      const c = checkpoints[next++]!
      at.push({ label: c.label, events: c.events, ms: elapsed(), peakMb: peak })
    }
  }, 100)
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  clearInterval(poll)
  const ms = elapsed()
  const m = /PEAK_KB (\d+)/.exec(err)
  if (!m || (code !== 0 && code !== 2)) throw new Error(`the import failed (exit ${String(code)}): ${err.slice(-2000)}`)
  return { ms, peakMb: Number(m[1]) / 1024, at, summary: JSON.parse(out.trim().split('\n').pop()!) as { imported: number, skipped: number, rejectedCount: number } }
}

const root = path.join(dir, `days-${days}x${eventsPerDay}`)
const files: string[] = []
if (keep && existsSync(`${root}.files.json`)) {
  files.push(...(JSON.parse(readFileSync(`${root}.files.json`, 'utf8')) as string[]))
} else {
  rmSync(root, { recursive: true, force: true })
  const t0 = Date.now()
  for (let d = 0; d < days; d++) files.push(...writeDay(root, d, eventsPerDay, d * eventsPerDay))
  writeFileSync(`${root}.files.json`, JSON.stringify(files))
  process.stderr.write(`generated ${days} day(s), ${(days * eventsPerDay).toLocaleString('en-US')} events in ${files.length} files (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`)
}
const dayText = (d: number): string => d === 0.5 ? 'half a day' : d === 1 ? 'one day' : `${d} days`
// Each half day of logs, up to the end: the checkpoint is reached when the CLI opens the file after it.
const halves = Array.from({ length: days * 2 - 1 }, (_, i) => (i + 1) / 2)
const checkpoints = halves.map(d => ({ label: dayText(d), files: Math.round(d * FILES_PER_DAY), events: Math.round(d * eventsPerDay) }))
const r = await importMeasured(root, path.join(dir, 'bench.db'), files, checkpoints)
const total = days * eventsPerDay
const rows: Checkpoint[] = [...r.at, { label: dayText(days), events: total, ms: r.ms, peakMb: r.peakMb }]
const fmt = (n: number): string => n.toLocaleString('en-US')
const lines = rows.map(c => `| after ${c.label} (${Math.round(c.events / eventsPerDay * FILES_PER_DAY)} files, ${fmt(c.events)} events) | ${(c.ms / 1000).toFixed(1)} s, ${fmt(Math.round(c.events / (c.ms / 1000)))} events/s | ${Math.round(c.peakMb)} MB |`)
// Flat: from the middle of the run to its end, the peak grows by at most FLAT_MARGIN, and stays in budget.
// A checkpoint missed (a run too short for the 100 ms sampling) fails the run rather than passing unmeasured.
const middle = r.at.find(c => c.events >= total / 2)
if (middle === undefined) {
  process.stdout.write(`\nNOT MEASURED: the middle of the run was not sampled (${r.at.length} of ${checkpoints.length} checkpoints); use more --events\n`)
  process.exit(1)
}
const growth = r.peakMb / middle.peakMb - 1
const flat = growth <= FLAT_MARGIN && r.peakMb < BUDGET_MB
const verdict = `${flat ? 'flat' : 'NOT FLAT'}: peak RSS ${Math.round(middle.peakMb)} MB after ${middle.label}, ${Math.round(r.peakMb)} MB after ${dayText(days)} (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%; allowed +${FLAT_MARGIN * 100}%, under ${BUDGET_MB} MB)`
process.stdout.write([
  '',
  `CloudTrail: ${days} day(s) of logs in one import, ${fmt(r.summary.imported)} denials stored, ${fmt(r.summary.skipped)} events skipped, ${fmt(r.summary.rejectedCount)} rejected`,
  '',
  '| logs read | time (cumulative) | peak RSS so far |',
  '|---|---|---|',
  ...lines,
  '',
  verdict,
  ''
].join('\n'))
if (!flat) process.exitCode = 1
