/** Every domain error whydenied raises, with a stable code (prefix WHYDENIED_) and HTTP status. */
import createError from '@fastify/error'

export const DatabaseTooNewError = createError<[string, number, number]>(
  'WHYDENIED_DB_TOO_NEW',
  'The database %s has schema version %s, newer than this whydenied understands (%s). Upgrade whydenied, or point --db at another file.',
  500
)

export const MigrationFailedError = createError<[number, string, string]>(
  'WHYDENIED_MIGRATION_FAILED',
  'Migration %s (%s) failed: %s',
  500
)

export const DenialNotFoundError = createError<[string]>('WHYDENIED_DENIAL_NOT_FOUND', 'No denial with id %s', 404)

export const BadCursorError = createError('WHYDENIED_BAD_CURSOR', 'The cursor is not one this server issued (it may come from another sort order)', 400)

export const BadFilterError = createError<[string]>('WHYDENIED_BAD_FILTER', '%s', 400)

export const NothingToImportError = createError<[string]>('WHYDENIED_NOTHING_TO_IMPORT', '%s', 400)

export const BadEnvironmentError = createError<[string, string, string]>('WHYDENIED_BAD_ENV', 'Environment variable %s=%j is not valid: give %s', 500)
