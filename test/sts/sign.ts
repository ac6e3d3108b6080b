/** Test helper: build and sign raw AWS Query form posts to the mock STS, as an SDK would. */
import { Sha256 } from '@aws-crypto/sha256-js'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'

export interface SignOptions {
  accessKeyId?: string
  secretAccessKey?: string
  sessionToken?: string
  region?: string
  service?: string
  date?: Date
  path?: string
  contentType?: string
  /** Leave out the Authorization header (unsigned request). */
  unsigned?: boolean
  /** Change the body after signing. */
  tamperBody?: (body: string) => string
}

export const TEST_KEYS = { accessKeyId: 'test', secretAccessKey: 'test' } as const
export const DENIED_KEYS = { accessKeyId: 'denied', secretAccessKey: 'denied' } as const

/** `Action=...&Version=2011-06-15&...`, encoded as the SDKs do. */
export function formBody (params: Record<string, string>): string {
  return new URLSearchParams(params).toString()
}

export async function signedRequest (params: Record<string, string> | string, o: SignOptions = {}): Promise<{ method: 'POST', url: string, headers: Record<string, string>, payload: string }> {
  const body = typeof params === 'string' ? params : formBody(params)
  const path = o.path ?? '/sts/'
  const headers: Record<string, string> = { host: '127.0.0.1', 'content-type': o.contentType ?? 'application/x-www-form-urlencoded; charset=utf-8' }
  let signed = new HttpRequest({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path, headers, body })
  if (!o.unsigned) {
    const signer = new SignatureV4({
      credentials: { accessKeyId: o.accessKeyId ?? TEST_KEYS.accessKeyId, secretAccessKey: o.secretAccessKey ?? TEST_KEYS.secretAccessKey, ...(o.sessionToken ? { sessionToken: o.sessionToken } : {}) },
      region: o.region ?? 'us-east-1',
      service: o.service ?? 'sts',
      sha256: Sha256,
      applyChecksum: false
    })
    signed = await signer.sign(signed, { signingDate: o.date ?? new Date() }) as HttpRequest
  }
  return { method: 'POST', url: path, headers: signed.headers, payload: o.tamperBody ? o.tamperBody(body) : body }
}

/** POST a signed form to the app and return the response. */
export async function stsCall (app: FastifyInstance, params: Record<string, string> | string, o: SignOptions = {}): Promise<LightMyRequestResponse> {
  return app.inject(await signedRequest(params, o))
}

/** The Code, Message, Type and RequestId of an ErrorResponse (simple regexes suffice for our own XML). */
export function parseError (xml: string): { type: string | undefined, code: string | undefined, message: string | undefined, requestId: string | undefined } {
  const get = (tag: string): string | undefined => new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml)?.[1]
  return { type: get('Type'), code: get('Code'), message: unescape(get('Message')), requestId: get('RequestId') }
}

function unescape (s: string | undefined): string | undefined {
  return s?.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#(\d+);/g, (_m, d: string) => String.fromCharCode(Number(d))).replace(/&amp;/g, '&')
}
