/** A second app built in the same process reuses the first one's compiled validators and serializers, and they behave the same. */
import t, { type Test } from 'tap'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../server/app.js'
import { loadConfig } from '../../server/config.js'
import { tempDir } from '../helpers/files.js'

interface Compiled { validate: unknown, serialize: unknown }

/** An app on a fresh database that hands out the compiled functions of the route each request hits. */
async function appWithProbe (t: Test, seen: Compiled[]): Promise<FastifyInstance> {
  const config = loadConfig({ dbPath: path.join(tempDir(t), 'c.db'), logLevel: 'silent' }, {})
  const app = await buildApp(config, { logger: false })
  t.teardown(() => app.close())
  app.addHook('preHandler', async (req, reply) => {
    seen.push({ validate: req.getValidationFunction('querystring'), serialize: reply.getSerializationFunction('200') })
  })
  await app.ready()
  return app
}

t.test('GET /api/denials: the same compiled functions in two apps, the same answers', async t => {
  const seen: Compiled[] = []
  const apps = [await appWithProbe(t, seen), await appWithProbe(t, seen)]
  const answers = []
  for (const app of apps) {
    const ok = await app.inject({ url: '/api/denials?limit=5&decision=explicit-deny' })
    const bad = await app.inject({ url: '/api/denials?limit=0' })
    answers.push({ ok: [ok.statusCode, ok.json()], bad: [bad.statusCode, bad.json()] })
  }
  t.equal(seen.length, 2, 'one probe per valid request: the invalid one fails validation before the handler')
  t.type(seen[0]!.validate, 'function')
  t.type(seen[0]!.serialize, 'function')
  t.equal(seen[1]!.validate, seen[0]!.validate, 'one querystring validator, compiled once')
  t.equal(seen[1]!.serialize, seen[0]!.serialize, 'one response serializer, built once')
  t.same(answers[1], answers[0], 'both apps answer alike')
  t.equal(answers[0]!.ok[0], 200)
  t.equal(answers[0]!.bad[0], 400, 'still validated')
})
