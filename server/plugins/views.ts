/**
 * The views plugin: @fastify/view with the shared Handlebars environment (server/render/handlebars.ts:
 * partials by name→path map, helpers from one module) and one layout, the local static assets under
 * /static/, and the HTML 404 page. Templates are compiled from the files under views/ only, never from data.
 */
import path from 'node:path'
import fp from 'fastify-plugin'
import fastifyView from '@fastify/view'
import fastifyStatic from '@fastify/static'
import { COMPILE_OPTIONS, createHandlebars, findViewsRoot, PARTIALS } from '../render/handlebars.js'
import { sendErrorPage, wantsHtml } from '../render/errors.js'

export default fp<{ production: boolean }>(async (app, opts) => {
  const root = findViewsRoot()
  // Helpers and partials are registered by createHandlebars, shared with the standalone report file.
  const handlebars = createHandlebars(root)

  await app.register(fastifyView, {
    engine: { handlebars },
    root,
    layout: 'layouts/main.hbs',
    production: opts.production,
    options: {
      // In development @fastify/view reads the same partials again for every page, so edits show without a restart.
      ...(opts.production ? {} : { partials: PARTIALS }),
      compileOptions: COMPILE_OPTIONS
    }
  })

  await app.register(fastifyStatic, {
    root: path.join(root, 'static'),
    prefix: '/static/',
    decorateReply: false,
    wildcard: false,
    maxAge: '1h'
  })

  app.setNotFoundHandler(async (req, reply) => {
    if (wantsHtml(req)) return sendErrorPage(req, reply, 404, `There is no page at ${safeDecode(req.url.split('?')[0]!)}.`)
    return reply.code(404).send({ statusCode: 404, code: 'WHYDENIED_NOT_FOUND', error: 'Not Found', message: `Route ${req.method}:${req.url.split('?')[0]} not found` })
  })
}, { name: 'whydenied-views', fastify: '5.x' })

function safeDecode (s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
