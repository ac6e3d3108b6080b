/**
 * The views plugin: @fastify/view with the shared Handlebars environment (server/render/handlebars.ts:
 * partials by name→path map, helpers from one module) and one layout, the local static assets under
 * /static/. Templates are compiled from the files under views/ only, never from data.
 */
import path from 'node:path'
import fp from 'fastify-plugin'
import fastifyView from '@fastify/view'
import fastifyStatic from '@fastify/static'
import { viewsDir } from '../paths.js'
import { COMPILE_OPTIONS, createHandlebars, PARTIALS } from '../render/handlebars.js'

export default fp<{ production: boolean }>(async (app, opts) => {
  const root = viewsDir()
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
}, { name: 'whydenied-views', fastify: '5.x' })
