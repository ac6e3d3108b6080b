/** A message from AWS sent to the mock: the answer says it looks like AWS's and how to decode it (API and Import page). */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { buildTestApp } from '../helpers/build.js'
import { html, postForm } from '../routes/pages/support.js'
import { MOCK_MARKER } from '../../server/sts/token.js'

/** Shaped like what AWS prints: several hundred base64url characters, mixed case, no mock marker. */
export const AWS_LIKE = 'fYzQ3-Ab' + randomBytes(540).toString('base64url')

t.test('POST /api/decode: a real-looking message gets the --aws and import advice', async t => {
  const app = await buildTestApp(t)
  const res = await app.inject({ method: 'POST', url: '/api/decode', payload: { text: `Encoded authorization failure message: ${AWS_LIKE}` } })
  t.equal(res.statusCode, 400)
  const body = res.json()
  t.equal(body.code, 'WHYDENIED_STS_INVALID_MESSAGE')
  t.match(body.message, /looks like a message from AWS/)
  t.match(body.message, `those start with ${MOCK_MARKER}`)
  t.match(body.message, /whydenied decode --aws/)
  t.match(body.message, /sts:DecodeAuthorizationMessage/)
  t.match(body.message, /paste the decoded JSON into `whydenied import -` \(or the Import page\)/)
})

t.test('POST /api/decode: a mock message of another secret says where the secret lives', async t => {
  const app = await buildTestApp(t)
  const other = await buildTestApp(t)
  const minted = await other.inject({ method: 'POST', url: '/api/mock-sts/encode', payload: { allowed: false, explicitDeny: false, context: { action: 'iam:PassRole' } } })
  const token = minted.json().EncodedMessage as string
  const res = await app.inject({ method: 'POST', url: '/api/decode', payload: { text: token } })
  t.equal(res.statusCode, 400)
  t.match(res.json().message, /A whydenied mock minted it, but not with its secret, \/.*mock-sts\.key/)
  t.match(res.json().message, /lives next to the database/)
  t.notMatch(res.json().message, /looks like a message from AWS/)
})

t.test('the Import page\'s decode form shows the same advice', async t => {
  const app = await buildTestApp(t)
  const res = await postForm(app, '/import/decode', [{ name: 'text', value: `An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: ${AWS_LIKE}` }])
  t.equal(res.statusCode, 400)
  const box = html(res).querySelector('#decode-error')!
  t.ok(box, 'the error box')
  t.match(box.text, /looks like a message from AWS/)
  t.match(box.text, /whydenied decode --aws/)
  t.match(box.text, /Import page/)
})
