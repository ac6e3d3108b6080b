/**
 * Redaction for reports that leave the team: every account ID, principal, role, user and session
 * name, user ID and resource name becomes a stable pseudonym. Pseudonyms are an HMAC of the value
 * under a key drawn for each report: the same value gives the same pseudonym throughout one report
 * (so groups still line up), different values give different ones, and two reports cannot be joined.
 */
import { createHmac, randomBytes } from 'node:crypto'
import type { ExplainInput } from '../authz/explain.js'
import type { SuppressRule } from './teams.js'

/** Condition keys whose values describe the request's shape, not who or what: kept as they are. */
const SAFE_KEYS = new Set([
  'aws:service', 'aws:region', 'aws:requestedregion', 'aws:type', 'aws:securetransport', 'aws:multifactorauthpresent',
  'aws:viaawsservice', 'aws:calledviafirst', 'aws:calledvialast', 'ec2:instancetype', 'ec2:region', 'ec2:encrypted',
  'ec2:volumesize', 'ec2:volumetype', 'ec2:tenancy', 's3:authtype', 's3:signatureversion', 'kms:viaservice',
  'iam:passedtoservice', 'aws:principaltype', 'aws:principalisawsservice'
])

/** Words that name a kind of resource (instance/…, role/…): kept, so a redacted ARN still reads. */
const TYPE_WORD = /^[a-z][a-z0-9-]{1,40}$/

export class Redactor {
  private readonly key: Buffer
  private readonly cache = new Map<string, string>()

  constructor (key: Buffer = randomBytes(32)) {
    this.key = key
  }

  /** `kind-xxxxxxxx`: kind says what it was (acct, role, user, session, res, id, val), the hash which one. */
  pseudonym (kind: string, value: string): string {
    let h = this.cache.get(value)
    if (h === undefined) {
      // base32-ish lower-case letters and digits 2-7 only: never a run of 12 digits, never a real word.
      const digest = createHmac('sha256', this.key).update(value).digest()
      h = ''
      for (let i = 0; i < 8; i++) h += 'abcdefghijklmnopqrstuvwxyz234567'[digest[i]! & 31]
      this.cache.set(value, h)
    }
    return `${kind}-${h}`
  }

  account (a: string | null): string | null {
    if (a === null || a === '' || a === '*') return a
    return this.pseudonym('acct', a)
  }

  /** A literal with wildcards: each literal run is replaced, `*` and `?` stay. */
  private glob (kind: string, token: string): string {
    if (token === '' || token === '*') return token
    if (!/[*?]/.test(token)) return this.pseudonym(kind, token)
    return token.split(/([*?])/).map(p => (p === '' || p === '*' || p === '?') ? p : this.pseudonym(kind, p)).join('')
  }

  /** The resource part of an ARN (role/name, instance/i-…, bucket/key): type words kept, names replaced. */
  resourcePart (service: string, part: string): string {
    const tokens = part.split(/([/:])/)
    let kind = 'res'
    return tokens.map((t, i) => {
      if (t === '/' || t === ':') return t
      if (i === 0 && tokens.length > 1 && service !== 's3' && TYPE_WORD.test(t)) {
        kind = t === 'role' ? 'role' : t === 'user' ? 'user' : t === 'assumed-role' ? 'role' : 'res'
        return t
      }
      // assumed-role/ROLE/SESSION: the last name is the session.
      const k = kind === 'role' && tokens[0] === 'assumed-role' && i === tokens.length - 1 && i > 2 ? 'session' : kind
      return this.glob(k, t)
    }).join('')
  }

  /** An ARN (or ARN glob) with its account and names replaced; anything else becomes a value pseudonym. */
  arn (arn: string | null): string | null {
    if (arn === null || arn === '' || arn === '*') return arn
    if (!arn.startsWith('arn:')) return this.value(arn)
    const parts = arn.split(':')
    if (parts.length < 6) return this.pseudonym('val', arn)
    const [, partition, service, region, account] = parts as [string, string, string, string, string]
    const acct = /^\d{12}$/.test(account) ? this.account(account)! : account === '' || account === '*' || account === 'aws' ? account : this.glob('acct', account)
    return `arn:${partition}:${service}:${region}:${acct}:${this.resourcePart(service, parts.slice(5).join(':'))}`
  }

  /** Any other identifying string: ARNs as ARNs, account IDs as accounts, the rest as values. */
  value (v: string): string {
    if (v === '' || v === '*' || v === 'SCOPE_POLICY_ISSUER') return v
    if (v.startsWith('arn:')) return this.arn(v)!
    if (/^\d{12}$/.test(v)) return this.account(v)!
    return this.glob('val', v)
  }

  conditionValue (key: string, v: string): string {
    const k = key.toLowerCase()
    if (SAFE_KEYS.has(k)) return v
    if (k === 'aws:resource' && !v.startsWith('arn:')) return this.resourcePart('', v)
    return this.value(v)
  }

  /** A stored denial with everything identifying replaced (statement Sids and actions stay). */
  explainInput (d: ExplainInput): ExplainInput {
    const p = d.principal
    const service = d.resource?.split(':')[2] ?? ''
    return {
      ...d,
      resource: d.resource?.startsWith('arn:') ? this.arn(d.resource) : d.resource === null || d.resource === '*' ? d.resource : this.resourcePart(service, d.resource ?? ''),
      principal: {
        arn: this.arn(p.arn),
        id: p.id === null ? null : this.pseudonym('id', p.id),
        name: p.name === null ? null : this.pseudonym('user', p.name),
        type: p.type,
        account: this.account(p.account),
        roleArn: this.arn(p.roleArn),
        sessionName: p.sessionName === null ? null : this.pseudonym('session', p.sessionName)
      },
      conditions: d.conditions.map(c => ({ key: c.key, values: c.values.map(v => this.conditionValue(c.key, v)) })),
      statements: d.statements.map(s => ({
        ...s,
        principals: s.principals.map(x => this.value(x)),
        principalGroups: s.principalGroups.map(x => this.value(x)),
        resources: s.resources.map(x => this.arn(x)!),
        conditions: s.conditions.map(c => ({ key: c.key, values: c.values.map(v => this.conditionValue(c.key, v)) }))
      })),
      failures: d.failures ? d.failures.map(() => ({ redacted: true })) : d.failures
    }
  }

  rule (r: SuppressRule): SuppressRule {
    return {
      ...r,
      ...(r.principal !== undefined ? { principal: this.arn(r.principal)! } : {}),
      ...(r.resource !== undefined ? { resource: this.arn(r.resource)! } : {})
    }
  }
}
