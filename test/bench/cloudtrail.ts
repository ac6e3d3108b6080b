/**
 * `npm run bench`, CloudTrail section (a file of its own, beside run.ts): a day of delivered CloudTrail
 * logs (288 five-minute .json.gz files; 1M events, 5% of them denials) imported by the built CLI, with its
 * time and peak memory, and half a day (144 files of the same size) for comparison: flat memory means the
 * same peak for both, whatever the number of files.
 *
 *   node dist/test/bench/cloudtrail.js [--events 1000000] [--keep]
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'

const args = process.argv.slice(2)
const opt = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined }
const events = Number(opt('events') ?? 1_000_000)
const keep = args.includes('--keep')
const dir = path.resolve('bench-data', 'cloudtrail')
const cli = path.resolve('dist', 'server', 'cli.js')
const FILES_PER_DAY = 288

/** A deterministic pseudo-random sequence (the same logs every run). */
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 }
}

const SERVICES = [['s3', 'GetObject'], ['s3', 'PutObject'], ['dynamodb', 'GetItem'], ['kms', 'Decrypt'], ['ec2', 'DescribeInstances'], ['sts', 'AssumeRole'], ['lambda', 'Invoke'], ['sqs', 'SendMessage']] as const
const REASONS = ['because no identity-based policy allows the {a} action', 'with an explicit deny in a service control policy', 'because no resource-based policy allows the {a} action', 'with an explicit deny in an identity-based policy']

/** `files` five-minute log files under root/AWSLogs/…/YYYY/MM/DD/, `n` events spread over them. */
function writeDay (root: string, n: number, files: number): void {
  const r = rng(7)
  const day = path.join(root, 'AWSLogs', '111122223333', 'CloudTrail', 'us-east-1', '2026', '11', '28')
  mkdirSync(day, { recursive: true })
  let id = 0
  for (let f = 0; f < files; f++) {
    const count = Math.floor(n / files) + (f < n % files ? 1 : 0)
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
        eventTime: `2026-11-28T${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:${String(Math.floor(r() * 60)).padStart(2, '0')}Z`,
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
    const stamp = `20261128T${String(Math.floor(f * 5 / 60)).padStart(2, '0')}${String(f * 5 % 60).padStart(2, '0')}Z`
    writeFileSync(path.join(day, `111122223333_CloudTrail_us-east-1_${stamp}_bench${f}.json.gz`), gzipSync(JSON.stringify({ Records: records }), { level: 1 }))
  }
}

function importMeasured (root: string, db: string): { ms: number, peakMb: number, summary: { imported: number, skipped: number, rejectedCount: number } } {
  rmSync(db, { force: true })
  const started = process.hrtime.bigint()
  // GNU time's %M is the child's peak RSS (KiB); stdout is the CLI's --json summary (exit 2 also prints it).
  const child = spawnSync('/usr/bin/time', ['-f', 'PEAK_KB %M', process.execPath, cli, 'import', '--json', '--no-progress', '--db', db, root], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, WHYDENIED_DB: '' } })
  const out = child.stdout
  const err = child.stderr
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  const m = /PEAK_KB (\d+)/.exec(err)
  return { ms, peakMb: m ? Number(m[1]) / 1024 : NaN, summary: JSON.parse(out.trim().split('\n').pop()!) as { imported: number, skipped: number, rejectedCount: number } }
}

const rows: string[] = []
for (const [n, files] of [[Math.round(events / 2), FILES_PER_DAY / 2], [events, FILES_PER_DAY]] as const) {
  const root = path.join(dir, `day-${n}-${files}`)
  if (!keep || !existsSync(root)) {
    rmSync(root, { recursive: true, force: true })
    const t0 = Date.now()
    writeDay(root, n, files)
    process.stderr.write(`generated ${n} events in ${files} files (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`)
  }
  const r = importMeasured(root, path.join(dir, `bench-${n}.db`))
  const line = `| CloudTrail import, ${files} .json.gz files, ${n.toLocaleString('en-US')} events (${r.summary.imported.toLocaleString('en-US')} denials, ${r.summary.skipped.toLocaleString('en-US')} skipped) | ${(r.ms / 1000).toFixed(1)} s, ${Math.round(n / (r.ms / 1000)).toLocaleString('en-US')} events/s | peak RSS ${Number.isNaN(r.peakMb) ? '?' : Math.round(r.peakMb)} MB |`
  rows.push(line)
  process.stderr.write(line + '\n')
}
process.stdout.write(['', '| CloudTrail (a day of logs, 5% denials) | time | memory |', '|---|---|---|', ...rows, ''].join('\n'))
