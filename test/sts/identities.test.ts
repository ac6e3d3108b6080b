/** The mock STS identities file: both accepted forms, and errors that name the file and the field. */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { decodingIdentity, loadIdentities, parseIdentities } from '../../server/sts/identities.js'
import { tempDir } from '../helpers/files.js'

const alice = { accessKeyId: 'AKIAALICE', secretAccessKey: 'secret', arn: 'arn:aws:iam::111122223333:user/alice', userId: 'AIDAALICE', account: '111122223333', canDecode: false }
const bob = { ...alice, accessKeyId: 'ASIABOB', arn: 'arn:aws:sts::111122223333:assumed-role/r/bob', sessionToken: 'tok', canDecode: true, comment: 'extra fields are ignored' }

t.test('{"identities": [...]} or a bare array; the default file is valid', async t => {
  for (const value of [{ identities: [alice, bob] }, [alice, bob]]) {
    const table = parseIdentities(value)
    t.same([...table.keys()], ['AKIAALICE', 'ASIABOB'])
    t.same(table.get('AKIAALICE'), { ...alice, sessionToken: null })
    t.equal(table.get('ASIABOB')!.sessionToken, 'tok')
    t.equal(decodingIdentity(table)!.accessKeyId, 'ASIABOB')
  }
  t.ok(loadIdentities(null).size >= 2, 'fixtures/sts/identities.json')
})

t.test('errors name the field and what was expected', async t => {
  const { secretAccessKey: _, ...noSecret } = alice
  const cases: Array<[unknown, string]> = [
    ['x', 'must be a list or a mapping'],
    [{}, 'identities: is missing'],
    [[], 'identities: must list at least one entry'],
    [{ identities: 3 }, 'identities: must be a list'],
    [[3], 'identities[0]: must be a mapping'],
    [[noSecret], 'identities[0].secretAccessKey: is missing: the secret access key'],
    [{ identities: [alice, { ...bob, canDecode: 'yes' }] }, 'identities[1].canDecode: must be true or false'],
    [[{ ...alice, arn: 'alice' }], 'identities[0].arn: "alice" is not an IAM or STS principal ARN'],
    [[{ ...alice, accessKeyId: 'AKIA/X' }], 'identities[0].accessKeyId: must be printable ASCII without spaces or "/"'],
    [[{ ...alice, userId: '' }], 'identities[0].userId: must be a non-empty string'],
    [[{ ...alice, sessionToken: 5 }], 'identities[0].sessionToken: must be a string or empty'],
    [[alice, alice], 'identities[1].accessKeyId: AKIAALICE is listed twice']
  ]
  for (const [value, message] of cases) t.throws(() => parseIdentities(value), { message }, message)
})

t.test('loadIdentities names the file', async t => {
  const dir = tempDir(t)
  const bad = path.join(dir, 'ids.json')
  writeFileSync(bad, JSON.stringify({ identities: [{ ...alice, canDecode: 1 }] }))
  t.throws(() => loadIdentities(bad), { code: 'WHYDENIED_STS_IDENTITIES', message: `Mock STS identities file ${bad}: identities[0].canDecode: must be true or false` })
  writeFileSync(bad, '{')
  t.throws(() => loadIdentities(bad), { message: new RegExp(`^Mock STS identities file ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`) })
  t.throws(() => loadIdentities(path.join(dir, 'missing.json')), { message: /missing\.json: no such file$/ })
})
