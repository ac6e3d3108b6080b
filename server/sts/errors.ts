/** Errors of the mock STS's token minting and of the decode workflow, with stable codes and HTTP statuses. */
import createError from '@fastify/error'

/** A decoded message that cannot become an encoded message (too large, or not representable). */
export const CannotMintError = createError<[string]>('WHYDENIED_CANNOT_MINT', '%s', 400)

/** The identities file is missing, unreadable or invalid: raised at startup, never per request. */
export const IdentitiesFileError = createError<[string, string]>('WHYDENIED_STS_IDENTITIES', 'Mock STS identities file %s: %s', 500)

/** The mock STS secret cannot be read or created. */
export const StsKeyError = createError<[string, string]>('WHYDENIED_STS_KEY', 'Mock STS secret %s: %s', 500)
