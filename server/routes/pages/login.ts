/**
 * GET/POST /login and POST /logout : when whydenied runs with a token, the browser signs in once with
 * it and gets an HttpOnly, SameSite=Strict cookie holding a random session id (never the token), which
 * Sign out ends. Wrong tokens count against the client's limit (429 past it).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../util/typebox.js'
import { safeNext, SESSION_COOKIE } from '../../plugins/security.js'
import { sameSecret, tooManyAttempts } from '../../util/token-guard.js'
import { SESSION_TTL_MS } from '../../plugins/sessions.js'
import { csrfToken, layoutModel } from '../../render/layout.js'

const login: FastifyPluginAsyncTypebox = async (app) => {
  const token = app.config.token

  // No maxLength on `next`: anything odd simply becomes '/' (safeNext), rather than a 400 page.
  app.get('/login', { schema: { querystring: Type.Object({ next: Type.Optional(Type.String()) }) } }, async (req, reply) => {
    const next = safeNext(req.query.next)
    if (!token) return reply.redirect(next, 303)
    return reply.viewAsync('pages/login.hbs', { ...layoutModel(req, reply, 'Sign in', 'login'), csrfToken: csrfToken(reply), next, error: null })
  })

  app.post('/login', {
    schema: { body: Type.Object({ token: Type.String({ maxLength: 1024 }), next: Type.Optional(Type.String()), _csrf: Type.Optional(Type.String()) }) },
    preHandler: app.csrfProtection
  }, async (req, reply) => {
    const next = safeNext(req.body.next)
    if (!token) return reply.redirect(next, 303)
    // Over the limit, no try is compared at all: the answer must not depend on the token given.
    const wait = app.authFailures.retryAfter(req.ip)
    if (wait > 0) tooManyAttempts(reply, wait)
    if (!sameSecret(req.body.token, token)) {
      app.authFailures.fail(req.ip)
      reply.code(401)
      return reply.viewAsync('pages/login.hbs', {
        ...layoutModel(req, reply, 'Sign in', 'login'),
        csrfToken: csrfToken(reply),
        next,
        error: 'That token is not the one this server was started with.'
      })
    }
    // A session that was already open in this browser ends: one sign-in, one id.
    app.sessions.revoke(req.cookies[SESSION_COOKIE])
    reply.setCookie(SESSION_COOKIE, app.sessions.create(), {
      // req.protocol honours X-Forwarded-Proto only with `serve --trust-proxy`.
      path: '/', httpOnly: true, sameSite: 'strict', secure: req.protocol === 'https', maxAge: SESSION_TTL_MS / 1000
    })
    return reply.redirect(next, 303)
  })

  app.post('/logout', { preHandler: app.csrfProtection }, async (req, reply) => {
    app.sessions.revoke(req.cookies[SESSION_COOKIE])
    reply.clearCookie(SESSION_COOKIE, { path: '/' })
    return reply.redirect(token ? '/login' : '/', 303)
  })
}

export default login
