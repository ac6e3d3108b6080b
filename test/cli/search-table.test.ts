/** The search table (in process): whole values when not on a terminal; at a terminal width, the meaningful end of each ARN. */
import t from 'tap'
import { fitArn, printable, table } from '../../server/cli/search.js'
import type { DenialSummary } from '../../server/authz/types.js'

const item = (principalArn: string, resource: string, action = 'iam:PassRole'): DenialSummary => ({
  id: 12, kind: 'decoded', decision: 'implicit-deny', policyType: null, policyArn: null, action, service: 'iam', principalArn, resource, region: 'us-east-1', occurrences: 3, firstSeen: '2026-11-01T10:00:00.000Z', lastSeen: '2026-11-02T10:00:00.000Z'
})
const session = 'arn:aws:sts::111122223333:assumed-role/ci-runner/session-0ab51ed10'
const resource = 'arn:aws:iam::111122223333:role/EC2_instance_Profile_role'

t.test('no width (piped): every value whole', async t => {
  const out = table([item(session, resource)], null)
  t.match(out, session)
  t.match(out, resource)
  t.notMatch(out, '…')
})

t.test('a fake terminal 120 columns wide: the role and session end, and the resource name, stay', async t => {
  const lines = table([item(session, resource), item('arn:aws:iam::111122223333:user/alice-with-a-rather-long-user-name', 'arn:aws:s3:::analytics-raw/2026/11/30/part-00042.parquet', 'ec2:AuthorizeSecurityGroupIngress')], 120).trimEnd().split('\n')
  t.ok(lines.every(l => l.length <= 120), 'fits')
  t.match(lines[1], /ci-runner\/…?[\w-]*0ab51ed10/)
  t.match(lines[1], /EC2_instance_Profile_role/)
  t.match(lines[2], /…[\w-]*long-user-name /)
  t.match(lines[2], /part-00042\.parquet/)
  t.notMatch(lines[1], /arn:aws:st…0ab51ed10/, 'not the old cut that lost the role name')
})

t.test('fitArn keeps the meaningful end', async t => {
  t.equal(fitArn(session, 80), session)
  t.equal(fitArn(session, 50), 'arn:aws:s…assumed-role/ci-runner/session-0ab51ed10')
  t.equal(fitArn(session, 30), 'ci-runner/session-0ab51ed10')
  t.equal(fitArn(session, 22), 'ci-runner/…n-0ab51ed10')
  t.equal(fitArn('arn:aws:iam::111122223333:user/alice', 20), 'arn:aws:i…user/alice')
  t.equal(fitArn('not-an-arn-but-a-long-value-of-some-kind', 16), 'not…of-some-kind')
  for (const w of [1, 2, 5, 20, 40]) t.ok(fitArn(session, w).length <= w, `width ${w}`)
})

t.test('hostile values cannot drive the terminal or shift columns', async t => {
  const evil = 'arn:aws:iam::111122223333:user/\u001b[2J\u001b]0;pwned\u0007x\ty\nz\u202Eexe.jpg'
  const out = table([item(evil, resource)], null)
  // eslint-disable-next-line no-control-regex -- the test is that no control character is left
  t.notMatch(out, /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/)
  t.equal(out.trimEnd().split('\n').length, 2, 'one line per denial')
  t.equal(printable('a\u001bb\u202Ec'), 'a\\u001Bb\\u202Ec')
})
