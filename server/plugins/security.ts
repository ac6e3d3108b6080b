/**
 * The security plugin. A local server is a classic cross-site target, and every stored message is
 * untrusted input, so:
 * - security headers and a strict Content-Security-Policy (@fastify/helmet): scripts, styles and
 *   images from this origin only, no inline script or style, no framing;
 * - a request that changes state (anything but GET/HEAD/OPTIONS) from another origin is refused with
 *   403 whatever its content type (Origin and Sec-Fetch-Site), and so is a Host header that is not this
 *   machine while bound to loopback (DNS rebinding);
 * - the app's own forms carry a CSRF token (@fastify/csrf-protection, secret in an HttpOnly cookie);
 * - binding anything but loopback requires a token; then every page and API call needs it: a bearer
 *   header for the API, or the cookie that the login form sets for the browser.
 * The mock STS under /sts is left alone: real AWS clients call it, and it has its own (SigV4) auth.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import helmet from '@fastify/helmet'
import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import createError from '@fastify/error'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { wantsHtml } from '../views/errors.js'

export const TokenRequiredError = createError<[string]>(
  'WHYDENIED_TOKEN_REQUIRED',
  'Refusing to listen on %s without a token: binding any address but loopback (127.0.0.1, ::1, localhost) makes whydenied reachable from other machines. Start it with --token TOKEN (or set WHYDENIED_TOKEN); every page and API call will then need it.',
  500
)
export const CrossOriginError = createError<[string]>('WHYDENIED_CROSS_ORIGIN', 'Cross-origin request refused (%s): whydenied only accepts changes from its own pages', 403)
export const BadHostError = createError<[string]>('WHYDENIED_BAD_HOST', 'Host "%s" is not this machine: whydenied bound to loopback answers only to localhost, 127.0.0.1 and [::1]', 403)
export const UnauthorizedError = createError('WHYDENIED_UNAUTHORIZED', 'This whydenied needs its token: send "Authorization: Bearer TOKEN", or sign in at /login', 401)

/** The cookie the login form sets; it holds a MAC of the token, never the token itself. */
export const SESSION_COOKIE = 'whydenied_session'
/** Requests under these prefixes are never checked here (the mock STS authenticates with SigV4). */
const EXEMPT_PREFIX = '/sts'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Is `host` (an address or name to bind, or a Host header's hostname) this machine only? */
export function isLoopback (host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

export function sessionCookieValue (token: string): string {
  return createHmac('sha256', token).update('whydenied-session-v1').digest('base64url')
}

/** Constant-time comparison of two secrets of any length. */
export function sameSecret (given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

/** Is this request allowed by the token (bearer header or session cookie)? */
export function hasValidToken (req: FastifyRequest, token: string): boolean {
  const auth = req.headers.authorization
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim())
    if (m && sameSecret(m[1]!, token)) return true
  }
  const c = req.cookies[SESSION_COOKIE]
  return c !== undefined && sameSecret(c, sessionCookieValue(token))
}

function hostOf (hostHeader: string): string | null {
  try {
    return new URL(`http://${hostHeader}`).host
  } catch {
    return null
  }
}

/** Why this state-changing request is cross-origin, or null when it comes from our own pages (or no browser). */
export function crossOriginReason (req: FastifyRequest): string | null {
  const site = req.headers['sec-fetch-site']
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site: ${site}`
  const origin = req.headers.origin
  if (origin === undefined) return null
  // Browsers send "Origin: null" for privacy-sensitive contexts (sandboxed frames, file: pages, some
  // redirects); only a browser's own Sec-Fetch-Site can vouch for such a request.
  if (origin === 'null') return site === 'same-origin' ? null : 'Origin: null'
  let originHost: string
  try {
    const u = new URL(origin)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'Origin is not a web origin'
    originHost = u.host
  } catch {
    return 'Origin is not a URL'
  }
  const host = req.headers.host ? hostOf(req.headers.host) : null
  if (host === null || originHost !== host) return 'Origin does not match Host'
  return null
}

/** `next` after sign-in: a path on this server only (never //host or a scheme: no open redirect). */
export function safeNext (next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[\r\n]/.test(next)) return '/'
  return next
}

function getCsrfToken (req: FastifyRequest): string | undefined {
  const body = req.body as Record<string, unknown> | null | undefined
  const field = body && typeof body === 'object' ? body._csrf : undefined
  // urlencoded forms give a string; multipart (attachFieldsToBody) gives a field object.
  if (typeof field === 'string') return field
  if (field && typeof field === 'object' && typeof (field as { value?: unknown }).value === 'string') return (field as { value: string }).value
  const h = req.headers['x-csrf-token']
  return typeof h === 'string' ? h : undefined
}

export interface SecurityOptions {
  /** The address the server will bind. */
  host: string
  token: string | null
}

export default fp<SecurityOptions>(async (app, opts) => {
  if (!isLoopback(opts.host) && !opts.token) throw new TokenRequiredError(opts.host)

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"]
      }
    },
    // Plain HTTP on a local port: HSTS would mean nothing (and could break other local apps).
    strictTransportSecurity: false,
    // Not "no-referrer": with it, browsers send "Origin: null" on our own form posts.
    referrerPolicy: { policy: 'same-origin' }
  })
  await app.register(cookie)
  await app.register(csrf, {
    cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true },
    getToken: getCsrfToken
  })

  const bindLoopback = isLoopback(opts.host)

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.url.startsWith(EXEMPT_PREFIX)) return
    // DNS rebinding: a page of evil.example that resolves to 127.0.0.1 would be same-origin with us.
    if (bindLoopback && !opts.token) {
      const host = req.headers.host ? hostOf(req.headers.host) : null
      const hostname = host === null ? null : host.replace(/:\d+$/, '')
      if (hostname === null || !isLoopback(hostname)) throw new BadHostError(String(req.headers.host ?? ''))
    }
    if (!SAFE_METHODS.has(req.method)) {
      const reason = crossOriginReason(req)
      if (reason !== null) throw new CrossOriginError(reason)
    }
    if (opts.token) {
      if (req.url === '/login' || req.url.startsWith('/login?') || req.url.startsWith('/static/')) return
      if (hasValidToken(req, opts.token)) return
      if ((req.method === 'GET' || req.method === 'HEAD') && wantsHtml(req)) {
        return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303)
      }
      reply.header('WWW-Authenticate', 'Bearer realm="whydenied"')
      throw new UnauthorizedError()
    }
  })
}, { name: 'whydenied-security', fastify: '5.x' })
