/** The mock STS's actions: Action name → handler. Each returns the result fields or throws an StsFault. */
import type { StsIdentity } from './identities.js'
import { InvalidTokenError, MAX_ENCODED_LENGTH, type TokenCodec } from './token.js'

/** An AWS error answer: code, message and HTTP status as AWS gives them (sts-wire.md §4.2). */
export class StsFault extends Error {
  constructor (readonly status: number, readonly code: string, message: string) {
    super(message)
    this.name = 'StsFault'
  }

  get type (): 'Sender' | 'Receiver' {
    return this.status >= 500 ? 'Receiver' : 'Sender'
  }
}

export interface ActionContext {
  params: URLSearchParams
  caller: StsIdentity
  codec: TokenCodec
  now: number
}

export type ActionHandler = (ctx: ActionContext) => Record<string, string>

/** AWS's wording for a caller without the permission (current form, with the policy-type reason). */
export function accessDeniedMessage (callerArn: string, action = 'sts:DecodeAuthorizationMessage'): string {
  return `User: ${callerArn} is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`
}

export const actions: Readonly<Record<string, ActionHandler>> = {
  DecodeAuthorizationMessage ({ params, caller, codec, now }) {
    if (!caller.canDecode) throw new StsFault(403, 'AccessDenied', accessDeniedMessage(caller.arn))
    const encoded = params.get('EncodedMessage')
    if (encoded === null) throw new StsFault(400, 'MissingParameter', 'The request must contain the parameter EncodedMessage')
    if (encoded.length < 1) {
      throw new StsFault(400, 'ValidationError', "1 validation error detected: Value at 'encodedMessage' failed to satisfy constraint: Member must have length greater than or equal to 1")
    }
    if (encoded.length > MAX_ENCODED_LENGTH) {
      throw new StsFault(400, 'ValidationError', `1 validation error detected: Value at 'encodedMessage' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENCODED_LENGTH}`)
    }
    try {
      return { DecodedMessage: codec.open(encoded, now).decoded }
    } catch (err) {
      if (err instanceof InvalidTokenError) {
        throw new StsFault(400, 'InvalidAuthorizationMessageException', `The encoded authorization message is invalid: ${err.message}.`)
      }
      throw err
    }
  },

  GetCallerIdentity ({ caller }) {
    return { Arn: caller.arn, UserId: caller.userId, Account: caller.account }
  }
}
