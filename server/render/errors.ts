/**
 * Errors of the pages' context: views/pages/error.hbs, or, for a page's JSON twin (`?format=json`, or
 * a client that accepts JSON only), the API's JSON error body. A 5xx is logged with its request and never shown.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { httpReason, jsonErrorHandler, jsonNotFound, logFailure, statusOf, type AppError } from '../errors.js'
import { layoutModel } from './layout.js'

/** Does this request to a page ask for its JSON twin? Decided by the page context from the query and Accept, never from the path. */
export function wantsJson (req: FastifyRequest): boolean {
  const format = (req.query as Record<string, unknown> | undefined)?.format
  if (format === 'json' || (Array.isArray(format) && format.includes('json'))) return true
  const accept = req.headers.accept ?? ''
  return accept.includes('application/json') && !accept.includes('text/html')
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

/** The not-found handler of the pages' context. */
export async function pageNotFound (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (wantsJson(req)) return jsonNotFound(req, reply)
  return sendErrorPage(req, reply, 404, `There is no page at ${safeDecode(req.url.split('?')[0]!)}.`)
}

function safeDecode (s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** The error handler of the pages' context. */
export async function pageErrorHandler (err: AppError, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (wantsJson(req)) return jsonErrorHandler(err, req, reply)
  const status = statusOf(err)
  logFailure(err, req)
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
