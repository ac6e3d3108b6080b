/**
 * Errors for people: pages answer with views/pages/error.hbs, while /api (and `?format=json`) keep
 * the JSON shape {statusCode, code, error, message}. A 5xx is logged with its request and never shown.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { layoutModel } from './layout.js'

const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests'
}

export function httpReason (status: number): string {
  return REASONS[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error')
}

/** Does this request want a page (HTML) rather than JSON? */
export function wantsHtml (req: FastifyRequest): boolean {
  const url = req.url
  if (url.startsWith('/api/') || url === '/api' || url.startsWith('/sts')) return false
  if (/[?&]format=json(&|$)/.test(url)) return false
  const accept = req.headers.accept ?? ''
  if (accept.includes('application/json') && !accept.includes('text/html')) return false
  return true
}

const TITLES: Record<number, string> = {
  400: 'That request is not quite right',
  401: 'Sign in to continue',
  403: 'Refused',
  404: 'Page not found',
  413: 'Upload too large',
  415: 'Unsupported upload'
}

function mib (bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024) * 10) / 10} MiB`
}

/** Render the error page with `status` (the message must be safe to show: it is escaped, never trusted). */
export async function sendErrorPage (req: FastifyRequest, reply: FastifyReply, status: number, message: string, advice: string[] = []): Promise<FastifyReply> {
  const model = {
    ...layoutModel(req, reply, TITLES[status] ?? httpReason(status), ''),
    status,
    reason: httpReason(status),
    heading: TITLES[status] ?? httpReason(status),
    message,
    advice
  }
  const html = await reply.code(status).viewAsync('pages/error.hbs', model)
  return reply.type('text/html; charset=utf-8').send(html)
}

/** The error handler of the page routes. */
export async function pageErrorHandler (err: FastifyError, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500
  if (status >= 500) req.log.error({ err, method: req.method, url: req.url }, 'request failed')
  if (!wantsHtml(req)) {
    return status >= 500
      ? reply.code(status).send({ statusCode: status, code: err.code ?? 'WHYDENIED_INTERNAL', error: httpReason(status), message: 'Internal Server Error' })
      : reply.code(status).send({ statusCode: status, code: err.code ?? 'WHYDENIED_BAD_REQUEST', error: httpReason(status), message: err.message })
  }
  const limit = req.server.config.maxUploadBytes
  switch (status) {
    case 413:
      return sendErrorPage(req, reply, 413, `The upload is larger than the import page accepts: at most ${mib(limit)} in one go (all files and pasted text together).`, [
        'Split the export into smaller files and upload them one by one, or',
        'import from the command line, which streams files of any size: whydenied import FILE…'
      ])
    case 403:
      return sendErrorPage(req, reply, 403, err.code?.startsWith('FST_CSRF') ? 'The form is missing its security token, or the token is not valid (forms expire when the browser drops its cookies).' : err.message, [
        'whydenied only accepts changes (imports, decoding, sign-in) from its own pages.',
        'Reload the page you came from and try again.'
      ])
    default:
      if (status >= 500) return sendErrorPage(req, reply, status, 'Something went wrong on the server. The details are in the server log.')
      return sendErrorPage(req, reply, status, err.message)
  }
}

