/** The Import page with CloudTrail and text: a delivered .json.gz upload (events that are not denials counted apart), and the decode form given access-denied text with nothing encoded. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { buildTestApp, tempDir } from '../../helpers/build.js'
import { writeCloudTrailTree } from '../../helpers/cloudtrail.js'
import { postForm } from './support.js'

t.test('a CloudTrail .json.gz upload on the Import page', async t => {
  const app = await buildTestApp(t)
  const tree = writeCloudTrailTree(tempDir(t))
  const res = await postForm(app, '/import', [{ name: 'files', filename: path.basename(tree.logFile), content: readFileSync(tree.logFile), type: 'application/gzip' }])
  t.equal(res.statusCode, 200)
  t.match(res.body, /8 new occurrences stored, 0 duplicates skipped, 0 records rejected; 4 CloudTrail events that are not a denial passed over\./)
  t.match(res.body, /<dd id="count-skipped">4<\/dd>/)
  const json = await postForm(app, '/import?format=json', [{ name: 'files', filename: 'again.json.gz', content: readFileSync(tree.logFile), type: 'application/gzip' }])
  t.match(json.json(), { imported: 0, duplicates: 8, skipped: 4 })
})

t.test('the decode form with access-denied text and no encoded message: stored as a text denial', async t => {
  const app = await buildTestApp(t)
  const text = 'An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:iam::111122223333:user/<b>mary</b> is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444455556666:role/x'
  const res = await postForm(app, '/import/decode', [{ name: 'text', value: text }])
  t.equal(res.statusCode, 200)
  t.match(res.body, /1 new occurrence stored/)
  t.match(res.body, /access-denied text \(no encoded message to decode\)/)
  t.notMatch(res.body, /<b>mary<\/b>/, 'escaped')
  const list = (await app.inject({ url: '/api/denials?kind=text' })).json()
  t.match(list.items, [{ action: 'sts:AssumeRole', principalArn: 'arn:aws:iam::111122223333:user/<b>mary</b>', kind: 'text', policyType: null }])
  const bare = await postForm(app, '/import/decode', [{ name: 'text', value: 'Access Denied' }])
  t.equal(bare.statusCode, 400, 'nothing to decode or read: refused as before')
})
