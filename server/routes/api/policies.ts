/** Policy snapshots over the API: the list, one policy, and what-if on a stored denial. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../util/typebox.js'
import { DenialNotFoundError, PolicyNotFoundError } from '../../errors.js'
import { listPolicies, readReplacements, whatIfOf } from '../../services/policies.js'
import { WhatIfResultSchema } from '../../schemas/policies.js'
import { ErrorBodySchema } from '../../schemas/errors.js'

export const WhatIfBodySchema = Type.Object({
  policies: Type.Array(Type.Object({
    policy: Type.String({ minLength: 1, maxLength: 2048, description: 'The policy to replace: its ARN, or its name as the snapshot has it' }),
    document: Type.Union([Type.Object({}, { additionalProperties: true }), Type.String({ maxLength: 400000 })], { description: 'The policy document to evaluate with, as JSON or as JSON text' })
  }), { minItems: 1, maxItems: 20 })
})

const policiesApi: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/policies', {
    schema: {
      tags: ['policies'],
      summary: 'Each policy of the snapshots in force, with the stored denials it decides or nearly allowed',
      response: { 200: Type.Object({ policies: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), type: Type.String(), attachedTo: Type.Array(Type.String()), decides: Type.Array(Type.Integer()), nearlyAllowed: Type.Array(Type.Integer()) }, { additionalProperties: true })) }) }
    }
  }, async () => {
    return { policies: listPolicies(app.repos).map(({ marks, ...p }) => p) }
  })

  app.get('/policies/:id', {
    schema: {
      tags: ['policies'],
      summary: 'One stored policy with its document',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      response: { 200: Type.Object({ id: Type.Integer(), name: Type.String(), kind: Type.String(), document: Type.Unknown() }, { additionalProperties: true }), 404: ErrorBodySchema }
    }
  }, async (req) => {
    const p = app.repos.policies.policy(req.params.id)
    if (!p) throw new PolicyNotFoundError(String(req.params.id))
    return p
  })

  app.post('/denials/:id/what-if', {
    schema: {
      tags: ['policies'],
      summary: 'Evaluate the stored request with some policy documents replaced: {"decision","deciding","reasons"}',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      body: WhatIfBodySchema,
      response: { 200: WhatIfResultSchema, 400: ErrorBodySchema, 404: ErrorBodySchema }
    }
  }, async (req) => {
    const d = app.repos.denials.get(req.params.id)
    if (!d) throw new DenialNotFoundError(String(req.params.id))
    const replacements = readReplacements(req.body.policies.map((p, i) => ({ policy: p.policy, document: p.document, field: `policies[${i}].document` })))
    return whatIfOf(app.repos, d, replacements)
  })
}

export default policiesApi
