/**
 * GET /denials/:id : one denial, readable: a summary sentence, the request context, its condition
 * keys (each value links to the list filtered by it), the matched statements and failures, the
 * occurrences over time, why it was denied and how to fix it, similar denials, and the raw JSON.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../util/typebox.js'
import type { DenialDetail, PolicyType } from '../../authz/types.js'
import type { StatsRepository } from '../../db/repositories/stats.js'
import { explainDenial, type Explanation } from '../../authz/explain.js'
import { DenialNotFoundError } from '../../errors.js'
import { barChart } from '../../render/chart.js'
import { decisionClass, decisionLabel, formatInstant, formatNumber, plural, prettyJson, truncate } from '../../render/helpers.js'
import { layoutModel } from '../../render/layout.js'
import { filterHref } from './list-state.js'
import { denialRow, FormatParam } from './view-models.js'
import { policiesOf } from '../../services/policies.js'
import { csrfToken } from '../../render/layout.js'
import { denialPoliciesModel } from './policies-view.js'
import { DenialTwinSchema, twinSchema, twinSerializer } from '../../schemas/pages.js'

const SHOWN_OCCURRENCES = 20

/** Who was denied what on which resource, explicit or implicit, how often, first and last seen. */
export function summarySentence (d: DenialDetail): string {
  const p = d.principal
  const who = p.roleArn
    ? `The role ${p.roleArn}${p.sessionName ? ` (session ${p.sessionName})` : ''}`
    : p.arn ?? (p.id ? `The principal ${p.id}` : 'An unknown principal')
  const action = d.action ?? d.actionRaw ?? 'an unnamed action'
  const resource = d.resource === null || d.resource === '' ? 'no named resource' : d.resource === '*' ? 'any resource (*)' : d.resource
  const verb = d.decision === 'allowed' ? 'was allowed' : 'was denied'
  const kind = d.decision === 'explicit-deny'
    ? 'an explicit deny: a Deny statement matched'
    : d.decision === 'implicit-deny' ? 'an implicit deny: no policy allowed it' : 'an allowed request'
  const when = d.occurrences === 1
    ? `Seen once, on ${formatInstant(d.firstSeen)}.`
    : `Seen ${plural(d.occurrences, 'time')}, first on ${formatInstant(d.firstSeen)} and last on ${formatInstant(d.lastSeen)}.`
  return `${who} ${verb} ${action} on ${resource}, ${kind}. ${when}`
}

function contextRows (d: DenialDetail): Array<{ label: string, value: string, href: string | null, note: string | null }> {
  const p = d.principal
  const rows: Array<{ label: string, value: string | null, href?: string | null, note?: string | null }> = [
    { label: 'Principal', value: p.arn, href: p.arn ? filterHref({ principal: p.arn }) : null },
    { label: 'Role', value: p.roleArn, href: p.roleArn ? filterHref({ principal: p.roleArn }) : null },
    { label: 'Session', value: p.sessionName },
    { label: 'Principal ID', value: p.id },
    { label: 'Principal name', value: p.name },
    { label: 'Principal type', value: p.type },
    { label: 'Action', value: d.action ?? d.actionRaw, href: d.action ? filterHref({ action: d.action }) : null, note: d.actionRaw && d.actionRaw !== d.action ? `written "${d.actionRaw}" in the message` : null },
    { label: 'Service', value: d.service, href: d.service ? filterHref({ service: d.service }) : null },
    { label: 'Resource', value: d.resource, href: d.resource ? filterHref({ resource: d.resource }) : null },
    { label: 'Region', value: d.region },
    { label: 'Account', value: p.account, href: p.account ? filterHref({ account: p.account }) : null },
    { label: 'Decision', value: decisionLabel(d.decision), href: filterHref({ decision: d.decision }) },
    { label: 'Read from', value: d.kind === 'text' ? 'an access-denied message (text)' : 'a decoded authorization message', href: filterHref({ kind: d.kind }) },
    { label: 'Policy type', value: d.policyType === null ? null : POLICY_TYPE_LABELS[d.policyType], href: d.policyType ? filterHref({ policyType: d.policyType }) : null, note: d.kind === 'text' ? 'as the message names it' : null },
    { label: 'Policy ARN', value: d.policyArn, href: d.policyArn ? filterHref({ policyArn: d.policyArn }) : null }
  ]
  return rows.filter(r => r.value !== null && r.value !== undefined && r.value !== '')
    .map(r => ({ label: r.label, value: r.value!, href: r.href ?? null, note: r.note ?? null }))
}

/**
 * What the page says about a stored denial: the one-sentence summary, why it was denied and how to fix
 * it. Also the Import page's decode result, so a decoded message reads as on its own page.
 */
export function denialExplanationView (d: DenialDetail): { summary: string, explanation: object } {
  // The summary says how often and when; the explanation sticks to why.
  const explanation = explainDenial({ ...d, occurrences: undefined, firstSeen: undefined, lastSeen: undefined })
  return { summary: summarySentence(d), explanation: explanationModel(explanation) }
}

function explanationModel (e: Explanation): object {
  const fix = e.fix
  return {
    summary: e.summary,
    detail: e.detail,
    // The page labels each hint itself, so the text drops its own "Hint:" prefix.
    hints: e.hints.map(h => ({ id: h.id, text: hintText(h.text) })),
    statements: e.statements.map((s, i) => ({
      label: s.sid ? `Sid "${s.sid}"` : `Statement ${i + 1} (no Sid)`,
      effect: s.effect ?? '(no effect given)',
      effectClass: (s.effect ?? '').toLowerCase() === 'allow' ? 'badge-allowed' : 'badge-explicit',
      actions: s.actions.length > 0 ? s.actions.join(', ') : '(none listed)',
      resources: s.resources.length > 0 ? s.resources.join(', ') : '(none listed)',
      conditions: s.conditions.map(c => ({ key: c.key, values: c.values.join(', ') })),
      why: s.why
    })),
    allow: fix?.kind === 'allow'
      ? { policyJson: fix.policyJson, matches: fix.check.matches, mismatches: fix.check.mismatches }
      : null,
    changeDeny: fix?.kind === 'change-deny' ? { text: fix.text, statements: fix.statements } : null,
    noFix: fix === null
  }
}

/** How the policy types are named on pages (the words of AWS's messages). */
export const POLICY_TYPE_LABELS: Record<PolicyType, string> = {
  identity: 'identity-based policy',
  resource: 'resource-based policy',
  boundary: 'permissions boundary',
  scp: 'service control policy (SCP)',
  rcp: 'resource control policy (RCP)',
  session: 'session policy',
  'vpc-endpoint': 'VPC endpoint policy'
}

/** For a text denial: what a decoded message would add, and how to get one (which depends on where it came from). */
function textDenialModel (d: DenialDetail): object | null {
  if (d.kind !== 'text') return null
  return {
    pending: d.encodedMessage === 'pending',
    truncated: d.encodedMessage === 'truncated',
    fromCloudTrail: d.events.length > 0,
    hasResource: d.resource !== null
  }
}

const EVENT_STATE: Record<string, string> = {
  pending: 'waiting to be decoded',
  truncated: 'cut short by CloudTrail',
  decoded: 'decoded',
  undecodable: 'STS could not decode it'
}

/**
 * A hint without its "Hint:" label, as a sentence: a plain first word is capitalised ("if the…" →
 * "If the…"), an identifier is left as written ("iam:PassRole was checked…", never "Iam:PassRole").
 */
export function hintText (text: string): string {
  const s = text.replace(/^Hint:\s*/i, '')
  return /^[a-z]+(?=[\s,;]|$)/.test(s) ? s.charAt(0).toUpperCase() + s.slice(1) : s
}

const denialPage: FastifyPluginAsyncTypebox<{ stats: StatsRepository }> = async (app, opts) => {
  const { stats } = opts

  app.get('/denials/:id', {
    schema: twinSchema('A denial: the record, why it was denied, the fix, similar denials, what the policy snapshot says', DenialTwinSchema, {
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      querystring: Type.Object({ format: FormatParam })
    }),
    serializerCompiler: twinSerializer
  }, async (req, reply) => {
    const d = app.repos.denials.get(req.params.id)
    if (!d) throw new DenialNotFoundError(String(req.params.id))
    // The page says how often and when in its own summary sentence; the explanation sticks to why.
    const explanation = explainDenial({ ...d, occurrences: undefined, firstSeen: undefined, lastSeen: undefined })
    const similar = stats.similar(d)
    const perDay = stats.denialPerDay(d.id)
    const policies = policiesOf(app.repos, d)

    if (req.query.format === 'json') {
      const { policyIds, applicable, ...policiesJson } = policies
      return { ...d, explanation, similar, occurrencesPerDay: perDay, policies: policiesJson }
    }

    const occurrences = d.occurrenceList.slice(0, SHOWN_OCCURRENCES).map(o => ({ when: formatInstant(o.observedAt), source: o.source, line: String(o.line) }))
    return reply.viewAsync('pages/denial.hbs', {
      ...layoutModel(req, reply, `Denial #${d.id}: ${d.action ?? 'unknown action'}`, 'denials'),
      id: d.id,
      heading: `${d.action ?? d.actionRaw ?? 'Unknown action'}`,
      decision: decisionLabel(d.decision),
      decisionClass: decisionClass(d.decision),
      summary: summarySentence(d),
      context: contextRows(d),
      conditions: d.conditions.map(c => ({
        key: c.key,
        keyHref: filterHref({ condition: [c.key] }),
        values: c.values.map(v => ({ value: v, href: filterHref({ condition: [`${c.key}=${v}`] }) }))
      })),
      explanation: explanationModel(explanation),
      policies: denialPoliciesModel(app.repos, d, policies, csrfToken(reply)),
      failures: d.failures.map(f => JSON.stringify(f, null, 2)),
      chart: barChart(perDay, d.firstSeen, d.lastSeen, 'occurrence'),
      occurrences,
      occurrencesMore: d.occurrences > occurrences.length ? `and ${formatNumber(d.occurrences - occurrences.length)} earlier` : null,
      raw: d.kind === 'text' ? d.raw : prettyJson(d.raw),
      isText: d.kind === 'text',
      textDenial: textDenialModel(d),
      events: d.events.map(e => ({
        when: formatInstant(e.eventTime),
        eventId: e.eventId,
        call: [e.eventSource, e.eventName].filter(Boolean).join(' '),
        errorCode: e.errorCode,
        region: e.region,
        sourceIp: e.sourceIp,
        // Stored up to 2 KiB; a page row shows the start (the JSON twin has all of it).
        userAgent: e.userAgent === null ? null : truncate(e.userAgent, 160),
        encoded: e.encodedMessage === null ? null : EVENT_STATE[e.encodedMessage] ?? e.encodedMessage
      })),
      similarPrincipal: similar.samePrincipalAction.map(denialRow),
      similarResource: similar.sameActionResource.map(denialRow),
      principalLabel: d.principal.roleArn ?? d.principal.arn ?? 'this principal',
      jsonHref: `/denials/${d.id}?format=json`
    })
  })
}

export default denialPage
