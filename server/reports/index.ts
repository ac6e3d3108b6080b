/** Team reports: build the model once, render it in any format. */
import type { Report } from './build.js'
import { renderHtml } from './render/html.js'
import { renderCsv, renderJson, renderMarkdown, type Format } from './render/text.js'

export { buildReport, DEFAULT_LIMIT, type Report, type ReportGroup, type TeamSection } from './build.js'
export { resolvePeriod, statusOf, GROWTH_FACTOR, GROWTH_MIN_INCREASE, type Period, type Status } from './period.js'
export { loadTeamsFile, parseTeams, EMPTY_TEAMS, UNASSIGNED, type TeamsConfig } from './teams.js'
export { Redactor } from './redact.js'
export { Formats, CONTENT_TYPES, type Format } from './render/text.js'
export { renderHtml, reportCss } from './render/html.js'
export { reportView, type ReportView } from './render/view.js'

export function render (report: Report, format: Format): string {
  switch (format) {
    case 'html': return renderHtml(report)
    case 'md': return renderMarkdown(report)
    case 'json': return renderJson(report)
    case 'csv': return renderCsv(report)
  }
}
