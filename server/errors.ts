/**
 * Every error whydenied raises, with a stable code (prefix WHYDENIED_) and HTTP status, and the one
 * JSON error body {statusCode, code, error, message} that the API (and a page's `?format=json`) answers.
 */
import { STATUS_CODES } from 'node:http'
import createError from '@fastify/error'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'

// Storage

export const DatabaseTooNewError = createError<[string, number, number]>(
  'WHYDENIED_DB_TOO_NEW',
  'The database %s has schema version %s, newer than this whydenied understands (%s). Upgrade whydenied, or point --db at another file.',
  500
)

/** A read-only command (search, report) was pointed at a file that does not exist: it creates nothing. */
export const NoDatabaseError = createError<[string]>(
  'WHYDENIED_NO_DATABASE',
  'No database at %s: check --db (or $WHYDENIED_DB); `whydenied import`, `decode --store`, `mock-sts` and `serve` create one',
  404
)

/** --db names a file (or directory) SQLite cannot use as a database. */
export const NotADatabaseError = createError<[string, string]>(
  'WHYDENIED_NOT_A_DATABASE',
  '%s is not a whydenied database (%s): check --db (or $WHYDENIED_DB)',
  500
)

/** SQLite cannot open --db at all (a directory, no permission). */
export const DatabaseOpenError = createError<[string, string]>(
  'WHYDENIED_DB_OPEN',
  'Cannot open the database %s (%s): check that --db (or $WHYDENIED_DB) names a file, not a directory, that you may read and write',
  500
)

export const MigrationFailedError = createError<[number, string, string]>(
  'WHYDENIED_MIGRATION_FAILED',
  'Migration %s (%s) failed: %s',
  500
)

// Configuration and startup

export const BadEnvironmentError = createError<[string, string, string]>('WHYDENIED_BAD_ENV', 'Environment variable %s=%j is not valid: give %s', 500)

export const TokenRequiredError = createError<[string]>(
  'WHYDENIED_TOKEN_REQUIRED',
  'Refusing to listen on %s without a token: binding any address but loopback (127.0.0.1, ::1, localhost) makes whydenied reachable from other machines. Start it with --token TOKEN (or set WHYDENIED_TOKEN); every page and API call will then need it.',
  500
)

// Requests: searching and reading

export const DenialNotFoundError = createError<[string]>('WHYDENIED_DENIAL_NOT_FOUND', 'No denial with id %s', 404)

export const BadCursorError = createError('WHYDENIED_BAD_CURSOR', 'The cursor is not one this server issued (it may come from another sort order)', 400)

export const BadFilterError = createError<[string]>('WHYDENIED_BAD_FILTER', '%s', 400)

// Requests: policy snapshots, evaluation and what-if

export const NoPolicySnapshotError = createError<[string]>('WHYDENIED_NO_POLICY_SNAPSHOT', 'No policy snapshot covers account %s: import one with whydenied policies import', 404)

export const PolicyNotFoundError = createError<[string]>('WHYDENIED_POLICY_NOT_FOUND', 'No policy with id %s', 404)

export const BadPolicyDocumentError = createError<[string]>('WHYDENIED_BAD_POLICY_DOCUMENT', '%s', 400)

export const UnknownPolicyError = createError<[string]>('WHYDENIED_UNKNOWN_POLICY', '%s', 400)

// Requests: importing and decoding

export const NothingToImportError = createError<[string]>('WHYDENIED_NOTHING_TO_IMPORT', '%s', 400)

export const NothingToDecodeError = createError('WHYDENIED_NOTHING_TO_DECODE', 'Paste the error text that holds the encoded authorization message', 400)

/** Text given to /api/decode holds a doubtful candidate; nothing was sent to STS. */
export const BadTokenError = createError<[string]>('WHYDENIED_BAD_TOKEN', '%s', 400)

export const UploadTooLargeError = createError<[string]>('WHYDENIED_UPLOAD_TOO_LARGE', 'The upload is larger than the limit of %s', 413)

export const TooManyPartsError = createError<[string]>('WHYDENIED_TOO_MANY_PARTS', 'The upload has too many %s', 413)

export const MalformedUploadError = createError<[string]>('WHYDENIED_MALFORMED_UPLOAD', 'The upload is not valid multipart/form-data: %s', 400)

// Requests: security

export const CrossOriginError = createError<[string]>('WHYDENIED_CROSS_ORIGIN', 'Cross-origin request refused (%s): whydenied only accepts changes from its own pages', 403)

export const BadHostError = createError<[string]>('WHYDENIED_BAD_HOST', 'Host "%s" is not this machine: whydenied bound to loopback answers only to localhost, 127.0.0.1 and [::1]', 403)

export const UnauthorizedError = createError('WHYDENIED_UNAUTHORIZED', 'This whydenied needs its token: send "Authorization: Bearer TOKEN", or sign in at /login', 401)

export const TooManyAttemptsError = createError<[number]>('WHYDENIED_TOO_MANY_ATTEMPTS', 'Too many wrong tokens from this address: try again in %d s', 429)

export const CsrfTokenNotFirstError = createError('WHYDENIED_CSRF_TOKEN_FIRST', 'The form\'s security token must come first in the upload (or in an X-CSRF-Token header); nothing was read past it', 403)

// Reports

export const BadPeriodError = createError<[string]>('WHYDENIED_BAD_PERIOD', '%s', 400)

export const UnknownTeamError = createError<[string]>('WHYDENIED_UNKNOWN_TEAM', '%s', 400)

/** The teams file is unreadable or invalid (the message names the file and the field). */
export const TeamsFileError = createError<[string]>('WHYDENIED_TEAMS_FILE', '%s', 400)

// Mock STS

/** A decoded message that cannot become an encoded message (too large, or not representable). */
export const CannotMintError = createError<[string]>('WHYDENIED_CANNOT_MINT', '%s', 400)

/** The identities file is missing, unreadable or invalid: raised at startup, never per request. */
export const IdentitiesFileError = createError<[string, string]>('WHYDENIED_STS_IDENTITIES', 'Mock STS identities file %s: %s', 500)

/** The mock STS secret cannot be read or created. */
export const StsKeyError = createError<[string, string]>('WHYDENIED_STS_KEY', 'Mock STS secret %s: %s', 500)

// The JSON error body

export interface ErrorBody {
  statusCode: number
  code: string
  error: string
  message: string
  [detail: string]: unknown
}

/**
 * What an error may carry beyond Fastify's: `details`, extra fields of its JSON body (the problems
 * of /api/decode), and `expose`, set by errors whose 5xx message is written for the user (an STS that
 * cannot be reached is a 502 the user can fix); any other 5xx shows only "Internal Server Error".
 */
export type AppError = Partial<FastifyError> & Error & { details?: Record<string, unknown>, expose?: boolean }

export function httpReason (status: number): string {
  return STATUS_CODES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error')
}

/** The status an error answers with (anything that is not a 4xx or 5xx is a 500). */
export function statusOf (err: AppError): number {
  const s = err.statusCode
  return s !== undefined && s >= 400 && s <= 599 ? s : 500
}

/** The one JSON error body: Fastify's shape; a 5xx never shows its cause unless the error is meant for the user. */
export function errorBody (err: AppError): ErrorBody {
  const status = statusOf(err)
  if (status >= 500 && err.expose !== true) {
    return { statusCode: status, code: err.code ?? 'WHYDENIED_INTERNAL', error: httpReason(status), message: 'Internal Server Error' }
  }
  return { statusCode: status, code: err.code ?? (status >= 500 ? 'WHYDENIED_INTERNAL' : 'WHYDENIED_BAD_REQUEST'), error: httpReason(status), message: err.message, ...err.details }
}

/** Log a failed request that is our fault (5xx), with what was asked. */
export function logFailure (err: AppError, req: FastifyRequest): void {
  if (statusOf(err) >= 500) req.log.error({ err, method: req.method, url: req.url, params: req.params }, 'request failed')
}

/** The error handler of the JSON contexts (the API, and the mock STS's encode route when it runs alone). */
export function jsonErrorHandler (err: AppError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  logFailure(err, req)
  const body = errorBody(err)
  return reply.code(body.statusCode).send(body)
}

/** The not-found handler of the JSON contexts. */
export function jsonNotFound (req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body: ErrorBody = { statusCode: 404, code: 'WHYDENIED_NOT_FOUND', error: 'Not Found', message: `Route ${req.method}:${req.url.split('?')[0]} not found` }
  return reply.code(404).send(body)
}
