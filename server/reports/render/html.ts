/**
 * HTML rendering of a report: the report partials (views/partials/report*.hbs) in a standalone page,
 * views/reports/standalone.hbs (inline CSS, inline SVG, no script, no URL of any kind, and a CSP that
 * forbids fetching anything, so it opens offline and prints on A4). The /reports page shows the same
 * partials in the app's layout.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Report } from '../build.js'
import { viewsDir } from '../../paths.js'
import { compileView, createHandlebars } from '../../render/handlebars.js'
import { reportView } from './view.js'

// Built on first use: a CLI run that writes Markdown never reads a template.
let standalone: HandlebarsTemplateDelegate | null = null
let css: string | null = null

/** A standalone HTML document: nothing to load, nothing to run (every value escaped, bidi controls shown). */
export function renderHtml (report: Report): string {
  if (standalone === null) {
    const root = viewsDir()
    standalone = compileView(createHandlebars(root), root, 'reports/standalone.hbs')
  }
  return standalone(reportView(report))
}

/** The report's stylesheet (views/reports/report.css), which the app serves as a file. */
export function reportCss (): string {
  css ??= readFileSync(path.join(viewsDir(), 'reports', 'report.css'), 'utf8')
  return css
}
