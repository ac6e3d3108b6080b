/**
 * The security plugin. A local server is a classic cross-site target, and every stored message is
 * untrusted input, so:
 * - security headers and a strict Content-Security-Policy (@fastify/helmet): scripts, styles and
 *   images from this origin only, no inline script or style, no framing;
 * - a request that changes state (anything but GET/HEAD/OPTIONS) from another origin is refused with
 *   403 whatever its content type (Origin and Sec-Fetch-Site), and so is a Host header that is not this
 *   machine while bound to loopback (DNS rebinding);
 * - the app's own forms carry a CSRF token (@fastify/csrf-protection, secret in an HttpOnly cookie);
 * - binding anything that does not resolve to loopback only requires a token; then every page and API
 *   call needs it: a bearer header for the API, or the session cookie that the login form sets;
 * - wrong tokens (bearer or sign-in) are rate-limited per client address (429 with Retry-After);
 * - a reply sent before the request body was read closes the connection, so a refused upload stops
 *   at once instead of being drained.
 * The headers and the connection handling apply everywhere; the checks (`guard`) are registered by the
 * pages and API contexts in their own scope, so the mock STS, which real AWS clients call with their
 * own (SigV4) auth, never sees them, and a refusal is answered in the format of its context.
 */
import fp from 'fastify-plugin'
import helmet from '@fastify/helmet'
import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { assertBindingAllowed, isLoopback, type LookupAll } from '../util/binding.js'
import { SessionStore } from './sessions.js'
import { AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS, bearerOf, FailureCounter, sameSecret, tooManyAttempts } from '../util/token-guard.js'
import { BadHostError, CrossOriginError, UnauthorizedError } from '../errors.js'

export { isLoopback } from '../util/binding.js'

/** The cookie the login form sets; it holds a random session id, never the token. */
export const SESSION_COOKIE = 'whydenied_session'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

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

const PROBE_ORIGIN = 'http://whydenied.invalid'

/**
 * `next` after sign-in: an absolute path on this server, else '/'. Browsers forgive a lot in a
 * Location ("/\t/evil.example" and "/\\evil.example" both lead off-site), so beyond the URL check
 * this accepts printable ASCII only (which also keeps the header valid: no 500 for odd bytes), and
 * neither the value nor its percent-decoding may hold a backslash, a control character or `//` in the path.
 */
export function safeNext (next: unknown): string {
  if (typeof next !== 'string' || next.length > 2048 || !/^\/[\x21-\x7e]*$/.test(next)) return '/'
  let decoded: string
  try {
    decoded = decodeURIComponent(next)
  } catch {
    return '/'
  }
  for (const form of [next, decoded]) {
    // Control characters are what this test looks for.
    // eslint-disable-next-line no-control-regex
    if (/[\\\x00-\x1f\x7f-\x9f]/.test(form)) return '/'
    if (form.split(/[?#]/, 1)[0]!.includes('//')) return '/'
  }
  return new URL(next, PROBE_ORIGIN).origin === PROBE_ORIGIN ? next : '/'
}

function getCsrfToken (req: FastifyRequest): string | undefined {
  const body = req.body as Record<string, unknown> | null | undefined
  const field = body && typeof body === 'object' ? body._csrf : undefined
  // urlencoded forms, and the import forms' first part (read by their preValidation), give a string.
  if (typeof field === 'string') return field
  const h = req.headers['x-csrf-token']
  return typeof h === 'string' ? h : undefined
}

export interface SecurityOptions {
  /** The address the server will bind. */
  host: string
  token: string | null
  /** Name resolution for the binding rule (tests inject one; default dns.lookup). */
  lookup?: LookupAll
}

export default fp<SecurityOptions>(async (app, opts) => {
  await assertBindingAllowed(opts.host, opts.token, opts.lookup)

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

  app.decorate('authFailures', new FailureCounter(AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS))
  app.decorate('sessions', new SessionStore())

  // A reply sent before the body was read (refused by a hook, or a limit hit mid-stream): stop reading
  // while the error is rendered (the body parser only stops listening; the socket would keep
  // flowing), and close the connection, or Node would read and discard whatever the client still sends.
  app.addHook('onError', async (req) => {
    if (!req.raw.complete) req.raw.pause()
  })
  app.addHook('onSend', async (req, reply) => {
    if (!req.raw.complete && (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0)) {
      reply.header('connection', 'close')
    }
  })
}, { name: 'whydenied-security', fastify: '5.x' })

export interface GuardOptions {
  /** Pages: a browser without a session is sent to the sign-in form (when this says the request wants a page) instead of a 401. */
  signInRedirect?: (req: FastifyRequest) => boolean
}

/**
 * The checks of every request to the pages and the API, registered by each of those contexts (their
 * error handler answers a refusal): the Host (DNS rebinding), cross-origin changes, and the token.
 */
export const guard = fp<GuardOptions>(async (app, opts) => {
  const token = app.config.token
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    // DNS rebinding: a page of evil.example that resolves to 127.0.0.1 would be same-origin with us.
    // Without a token the binding is loopback-only (the security plugin asserted it at startup).
    if (!token) {
      const host = req.headers.host ? hostOf(req.headers.host) : null
      const hostname = host === null ? null : host.replace(/:\d+$/, '')
      if (hostname === null || !isLoopback(hostname)) throw new BadHostError(String(req.headers.host ?? ''))
    }
    if (!SAFE_METHODS.has(req.method)) {
      const reason = crossOriginReason(req)
      if (reason !== null) throw new CrossOriginError(reason)
    }
    if (token) {
      if (req.url === '/login' || req.url.startsWith('/login?') || req.url.startsWith('/static/')) return
      const bearer = bearerOf(req)
      if (bearer !== null) {
        const wait = app.authFailures.retryAfter(req.ip)
        if (wait > 0) tooManyAttempts(reply, wait)
        if (sameSecret(bearer, token)) return
        app.authFailures.fail(req.ip)
      } else if (app.sessions.has(req.cookies[SESSION_COOKIE])) {
        return
      }
      if ((req.method === 'GET' || req.method === 'HEAD') && opts.signInRedirect?.(req) === true) {
        return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303)
      }
      reply.header('WWW-Authenticate', 'Bearer realm="whydenied"')
      throw new UnauthorizedError()
    }
  })
}, { name: 'whydenied-guard', fastify: '5.x', dependencies: ['whydenied-security'] })

declare module 'fastify' {
  interface FastifyInstance {
    authFailures: FailureCounter
    sessions: SessionStore
  }
}
