/**
 * The views plugin: @fastify/view with Handlebars (one layout, partials registered by name→path map,
 * helpers from one module) and the local static assets under /static/.
 * Templates are compiled from the files under views/ only, never from data.
 */
import path from 'node:path'
import fp from 'fastify-plugin'
import fastifyView from '@fastify/view'
import fastifyStatic from '@fastify/static'
import Handlebars from 'handlebars'
import { viewsDir } from '../paths.js'
import { handlebarsHelpers, showBidiControlsInTemplates } from '../views/helpers.js'

/** Every partial, by the name templates use (`{{> name}}`) → its file under views/. */
export const PARTIALS: Record<string, string> = {
  header: 'partials/header.hbs',
  csrf: 'partials/csrf.hbs',
  'denial-table': 'partials/denial-table.hbs',
  facet: 'partials/facet.hbs',
  chart: 'partials/chart.hbs',
  'import-summary': 'partials/import-summary.hbs',
  'imports-table': 'partials/imports-table.hbs',
  notice: 'partials/notice.hbs'
}

export default fp<{ production: boolean }>(async (app, opts) => {
  const root = viewsDir()
  const handlebars = Handlebars.create()
  for (const [name, fn] of Object.entries(handlebarsHelpers)) handlebars.registerHelper(name, fn)
  showBidiControlsInTemplates(handlebars)

  await app.register(fastifyView, {
    engine: { handlebars },
    root,
    layout: 'layouts/main.hbs',
    production: opts.production,
    options: {
      partials: PARTIALS,
      // Only if/each/unless and our formatting helpers: a template cannot call anything else.
      compileOptions: { knownHelpersOnly: true, knownHelpers: Object.fromEntries(Object.keys(handlebarsHelpers).map(k => [k, true])) }
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
