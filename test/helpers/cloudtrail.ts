/** The CloudTrail fixtures made whole at test time: encoded messages minted by our mock with the test's secret, in a delivered-log tree. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { TokenCodec } from '../../server/sts/token.js'
import { DECODED_FIXTURES, ROOT } from './files.js'

export const CLOUDTRAIL_FIXTURES = path.join(ROOT, 'fixtures', 'cloudtrail')
export const TEXT_FIXTURES = path.join(ROOT, 'fixtures', 'text')
/** The secret the tests give the mock (WHYDENIED_STS_SECRET): tokens depend on it, so they are minted here. */
export const TEST_STS_SECRET = 'cloudtrail-fixture-secret'

export interface CloudTrailTree {
  /** The AWSLogs/ tree's parent: give it to `whydenied import`. */
  root: string
  /** The one delivered log file (.json.gz). */
  logFile: string
  /** The two whole encoded messages (RunInstances by the assumed role, RunInstances by bob). */
  tokens: { run: string, region: string }
  /** The delivered log's JSON text, tokens filled in. */
  json: string
}

function decodedOf (fixture: string): string {
  return (JSON.parse(readFileSync(path.join(DECODED_FIXTURES, fixture), 'utf8')) as { DecodedMessage: string }).DecodedMessage
}

/**
 * Write AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/28/<file>.json.gz (and a digest file, which
 * holds no events) under `dir`. The truncated token is a whole one cut to an impossible length.
 */
export function writeCloudTrailTree (dir: string, secret = TEST_STS_SECRET): CloudTrailTree {
  const codec = new TokenCodec(secret)
  const run = codec.mint(decodedOf('assumed-role-runinstances.json'))
  const region = codec.mint(decodedOf('region-explicit-deny.json'))
  const whole = codec.mint(decodedOf('minimal-no-conditions.json'))
  const cut = whole.slice(0, Math.floor(whole.length / 2 / 4) * 4 + 1)
  const json = readFileSync(path.join(CLOUDTRAIL_FIXTURES, 'delivered.template.json'), 'utf8')
    .replace('@@TOKEN_RUN@@', run).replace('@@TOKEN_REGION@@', region).replace('@@TOKEN_TRUNCATED@@', cut)
  const day = path.join(dir, 'AWSLogs', '111122223333', 'CloudTrail', 'us-east-1', '2026', '11', '28')
  mkdirSync(day, { recursive: true })
  const logFile = path.join(day, '111122223333_CloudTrail_us-east-1_20261128T1010Z_a1B2c3D4e5F6g7H8.json.gz')
  writeFileSync(logFile, gzipSync(json))
  const digest = path.join(dir, 'AWSLogs', '111122223333', 'CloudTrail-Digest', 'us-east-1', '2026', '11', '28')
  mkdirSync(digest, { recursive: true })
  writeFileSync(path.join(digest, '111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20261128T1100Z.json.gz'), gzipSync(JSON.stringify({
    awsAccountId: '111122223333', digestStartTime: '2026-11-28T10:00:00Z', digestEndTime: '2026-11-28T11:00:00Z', logFiles: []
  })))
  return { root: dir, logFile, tokens: { run, region }, json }
}
