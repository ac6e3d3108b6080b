/**
 * The browser UI: every page, with the HTML error handler of this context (pages render
 * views/pages/error.hbs; `?format=json` twins keep the JSON error shape).
 */
import type { FastifyPluginAsync } from 'fastify'
import type { Decoder } from '../../services/decode.js'
import formbody from '@fastify/formbody'
import { pageErrorHandler } from '../../render/errors.js'
import dashboard from './dashboard.js'
import denialList from './denials.js'
import denialPage from './denial.js'
import importPage from './import.js'
import login from './login.js'

/** Small forms only (sign-in, sign-out); imports go through multipart with their own limit. */
const FORM_BODY_LIMIT = 64 * 1024

const pages: FastifyPluginAsync<{ decoder: Decoder }> = async (app, opts) => {
  app.setErrorHandler(pageErrorHandler)
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) {
    await app.register(formbody, { bodyLimit: FORM_BODY_LIMIT })
  }
  const stats = app.repos.stats
  await app.register(dashboard, { stats })
  await app.register(denialList)
  await app.register(denialPage, { stats })
  await app.register(importPage, { decoder: opts.decoder })
  await app.register(login)
}

export default pages
