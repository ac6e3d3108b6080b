/**
 * GET /policies (each policy of the snapshots in force, with the denials it decides or nearly
 * allowed), GET /policies/:id (its document, those statements marked) and POST
 * /denials/:id/what-if (the denial page's form: works without JavaScript).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../util/typebox.js'
import { BadPolicyDocumentError, DenialNotFoundError, PolicyNotFoundError, UnknownPolicyError } from '../../errors.js'
import { listPolicies, policiesOf, readReplacements, whatIfOf } from '../../services/policies.js'
import { csrfToken, layoutModel } from '../../render/layout.js'
import { formatInstant } from '../../render/helpers.js'
import { decisionBadge, statementBlocks, typeLabel, whatIfForm } from './policies-view.js'

/** A what-if document typed into the form: IAM's largest inline policy is 10,240 characters. */
const MAX_FORM_DOCUMENT = 60000

const denialLinks = (ids: number[]): Array<{ id: number, href: string }> => ids.slice(0, 20).map(id => ({ id, href: `/denials/${id}` }))

const policyPages: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/policies', async (req, reply) => {
    const items = listPolicies(app.repos)
    const snapshots = [...new Map(items.map(p => [p.snapshotId, { id: p.snapshotId, account: p.account, takenAt: formatInstant(p.takenAt) }])).values()]
    return reply.viewAsync('pages/policies.hbs', {
      ...layoutModel(req, reply, 'Policies', 'policies'),
      snapshots,
      policies: items.map(p => ({
        href: `/policies/${p.id}`,
        name: p.arn ?? p.name,
        inline: p.arn === null && p.type !== 'resource',
        type: typeLabel(p.type),
        attachedTo: p.attachedTo.slice(0, 5),
        attachedMore: p.attachedTo.length > 5 ? p.attachedTo.length - 5 : 0,
        assumed: p.assumedScope,
        decides: denialLinks(p.decides),
        near: denialLinks(p.nearlyAllowed)
      }))
    })
  })

  app.get('/policies/:id', { schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) } }, async (req, reply) => {
    const p = app.repos.policies.policy(req.params.id)
    if (!p) throw new PolicyNotFoundError(String(req.params.id))
    const listed = listPolicies(app.repos).find(x => x.id === p.id)
    const marks = listed?.marks
    const blocks = statementBlocks(p.document, i => {
      const dec = marks?.decides.get(i)
      const near = marks?.near.get(i)
      if (dec) return { cls: 'stmt-deciding', note: `decides denial${dec.length === 1 ? '' : 's'} ${dec.map(x => `#${x}`).join(', ')}` }
      if (near) return { cls: 'stmt-near', note: `nearly allowed denial${near.length === 1 ? '' : 's'} ${near.map(x => `#${x}`).join(', ')}` }
      return null
    })
    return reply.viewAsync('pages/policy.hbs', {
      ...layoutModel(req, reply, `Policy ${p.name}`, 'policies'),
      name: p.arn ?? p.name,
      type: typeLabel(listed?.type ?? p.kind),
      kind: p.kind,
      account: p.account,
      takenAt: formatInstant(p.takenAt),
      versionId: p.versionId,
      attachedTo: listed?.attachedTo ?? p.attachedTo,
      assumed: p.assumedScope,
      version: p.document.Version ?? null,
      blocks,
      decides: denialLinks(listed?.decides ?? []),
      near: denialLinks(listed?.nearlyAllowed ?? []),
      jsonHref: `/api/policies/${p.id}`
    })
  })

  app.post('/denials/:id/what-if', {
    schema: {
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      body: Type.Object({ _csrf: Type.Optional(Type.String()), policy: Type.String({ minLength: 1, maxLength: 2048 }), document: Type.String({ maxLength: MAX_FORM_DOCUMENT }) })
    },
    preHandler: app.csrfProtection
  }, async (req, reply) => {
    const d = app.repos.denials.get(req.params.id)
    if (!d) throw new DenialNotFoundError(String(req.params.id))
    const v = policiesOf(app.repos, d)
    let result = null
    let error: string | null = null
    try {
      const r = whatIfOf(app.repos, d, readReplacements([{ policy: req.body.policy, document: req.body.document, field: 'document' }]))
      result = {
        badge: decisionBadge(r.decision),
        deciding: r.deciding.map(x => ({ name: x.policyArn ?? x.policyName, type: typeLabel(x.policyType), statement: x.statementIndex === null ? null : x.statementId ? `statement "${x.statementId}"` : `statement ${x.statementIndex + 1}`, effect: x.effect })),
        reasons: r.reasons
      }
    } catch (err) {
      if (!(err instanceof BadPolicyDocumentError || err instanceof UnknownPolicyError)) throw err
      error = err.message
      reply.code(400)
    }
    return reply.viewAsync('pages/what-if.hbs', {
      ...layoutModel(req, reply, `What if: denial #${d.id}`, 'denials'),
      id: d.id,
      denialHref: `/denials/${d.id}`,
      heading: d.action ?? d.actionRaw ?? 'Unknown action',
      message: decisionBadge(d.decision),
      result,
      error,
      form: whatIfForm(d.id, v, csrfToken(reply), req.body.policy, req.body.document)
    })
  })
}

export default policyPages
