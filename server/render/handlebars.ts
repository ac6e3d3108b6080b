/**
 * The configured Handlebars environment (helpers, partials, visible bidi controls, compile options),
 * built in one place for @fastify/view (server/plugins/views.ts) and for the standalone report file,
 * which is rendered outside Fastify.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import Handlebars from 'handlebars'
import { viewsDir } from '../paths.js'
import { handlebarsHelpers, showBidiControlsInTemplates } from './helpers.js'

/** Every partial, by the name templates use (`{{> name}}`) → its file under views/. */
export const PARTIALS: Record<string, string> = {
  header: 'partials/header.hbs',
  csrf: 'partials/csrf.hbs',
  'denial-table': 'partials/denial-table.hbs',
  'denial-policies': 'partials/denial-policies.hbs',
  'what-if-form': 'partials/what-if-form.hbs',
  'statement-blocks': 'partials/statement-blocks.hbs',
  facet: 'partials/facet.hbs',
  'denial-why': 'partials/denial-why.hbs',
  'denial-fix': 'partials/denial-fix.hbs',
  chart: 'partials/chart.hbs',
  'chart-svg': 'partials/chart-svg.hbs',
  'chart-plot': 'partials/chart-plot.hbs',
  'import-summary': 'partials/import-summary.hbs',
  'imports-table': 'partials/imports-table.hbs',
  notice: 'partials/notice.hbs',
  report: 'partials/report.hbs',
  'report-team': 'partials/report-team.hbs',
  'report-group': 'partials/report-group.hbs',
  'report-list': 'partials/report-list.hbs',
  'report-figures': 'partials/report-figures.hbs',
  'report-code': 'partials/report-code.hbs',
  // The report stylesheet as a partial: the standalone file inlines it without a triple-stash.
  'report-css': 'reports/report.css'
}

/** Only if/each/unless/with and our formatting helpers: a template cannot call anything else. */
export const COMPILE_OPTIONS: CompileOptions = {
  knownHelpersOnly: true,
  knownHelpers: Object.fromEntries(Object.keys(handlebarsHelpers).map(k => [k, true]))
}

export type HandlebarsEnv = typeof Handlebars

/**
 * A new Handlebars instance with our helpers and every partial registered, whose templates show bidi
 * controls as `\u202E` and the like. Templates are compiled from the files under views/ only, never from data.
 */
export function createHandlebars (root = viewsDir()): HandlebarsEnv {
  const handlebars = Handlebars.create()
  for (const [name, fn] of Object.entries(handlebarsHelpers)) handlebars.registerHelper(name, fn)
  showBidiControlsInTemplates(handlebars)
  for (const [name, file] of Object.entries(PARTIALS)) {
    handlebars.registerPartial(name, handlebars.compile(readFileSync(path.join(root, file), 'utf8'), COMPILE_OPTIONS))
  }
  return handlebars
}

/** Compile one template file under views/ with the environment's options. */
export function compileView (handlebars: HandlebarsEnv, root: string, file: string): HandlebarsTemplateDelegate {
  return handlebars.compile(readFileSync(path.join(root, file), 'utf8'), COMPILE_OPTIONS)
}
