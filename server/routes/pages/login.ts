/**
 * GET/POST /login and POST /logout : when whydenied runs with a token, the browser signs in once with
 * it and gets an HttpOnly, SameSite=Strict cookie holding a MAC of the token (never the token itself).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { sameSecret, safeNext, SESSION_COOKIE, sessionCookieValue } from '../../plugins/security.js'
import { csrfToken, layoutModel } from '../../views/layout.js'

const SESSION_DAYS = 30

const login: FastifyPluginAsyncTypebox = async (app) => {
  const token = app.config.token

  app.get('/login', { schema: { querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 2048 })) }) } }, async (req, reply) => {
    const next = safeNext(req.query.next)
    if (!token) return reply.redirect(next, 303)
    return reply.viewAsync('pages/login.hbs', { ...layoutModel(req, reply, 'Sign in', 'login'), csrfToken: csrfToken(reply), next, error: null })
  })

  app.post('/login', {
    schema: { body: Type.Object({ token: Type.String({ maxLength: 1024 }), next: Type.Optional(Type.String({ maxLength: 2048 })), _csrf: Type.Optional(Type.String()) }) },
    preHandler: app.csrfProtection
  }, async (req, reply) => {
    const next = safeNext(req.body.next)
    if (!token) return reply.redirect(next, 303)
    if (!sameSecret(req.body.token, token)) {
      reply.code(401)
      return reply.viewAsync('pages/login.hbs', {
        ...layoutModel(req, reply, 'Sign in', 'login'),
        csrfToken: csrfToken(reply),
        next,
        error: 'That token is not the one this server was started with.'
      })
    }
    reply.setCookie(SESSION_COOKIE, sessionCookieValue(token), {
      path: '/', httpOnly: true, sameSite: 'strict', secure: req.protocol === 'https', maxAge: SESSION_DAYS * 86_400
    })
    return reply.redirect(next, 303)
  })

  app.post('/logout', { preHandler: app.csrfProtection }, async (_req, reply) => {
    reply.clearCookie(SESSION_COOKIE, { path: '/' })
    return reply.redirect(token ? '/login' : '/', 303)
  })
}

export default login
