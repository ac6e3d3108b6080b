/**
 * The browser UI: its own context, with the request checks (a browser without a session is sent to
 * sign in), the views, and the error handler and 404 of this context (pages render
 * views/pages/error.hbs; `?format=json` twins answer the JSON error body).
 */
import type { FastifyPluginAsync } from 'fastify'
import type { Decoder } from '../../services/decode.js'
import formbody from '@fastify/formbody'
import { guard } from '../../plugins/security.js'
import viewsPlugin from '../../plugins/views.js'
import { pageErrorHandler, pageNotFound, wantsJson } from '../../render/errors.js'
import dashboard from './dashboard.js'
import denialList from './denials.js'
import denialPage from './denial.js'
import importPage from './import.js'
import login from './login.js'
import reportPages from './reports.js'
import policyPages from './policies.js'

/** Small forms only (sign-in, sign-out); imports go through multipart with their own limit. */
const FORM_BODY_LIMIT = 64 * 1024

const pages: FastifyPluginAsync<{ decoder: Decoder }> = async (app, opts) => {
  app.setErrorHandler(pageErrorHandler)
  app.setNotFoundHandler(pageNotFound)
  await app.register(guard, { signInRedirect: req => !wantsJson(req) })
  await app.register(viewsPlugin, { production: app.config.productionViews })
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) {
    await app.register(formbody, { bodyLimit: FORM_BODY_LIMIT })
  }
  const stats = app.repos.stats
  await app.register(dashboard, { stats })
  await app.register(denialList)
  await app.register(denialPage, { stats })
  await app.register(importPage, { decoder: opts.decoder })
  await app.register(login)
  // Team reports: the page with its downloads.
  await app.register(reportPages)
  await app.register(policyPages)
}

export default pages
