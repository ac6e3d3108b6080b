/** A decoded message's raw JSON as stored: deflated against a preset dictionary of the format's own vocabulary, and back. */
import { deflateRawSync, inflateRawSync } from 'node:zlib'

// Why: the raw JSON was most of a database of distinct denials (1,350 bytes a message, 167 of 482
// MB at 100,000), and a row that large spills into an overflow page: every new denial cost the
// import an extra page to write. zlib (in Node, no dependency) deflates it to about a third; the
// preset dictionary below (the fixed words of AWS's decoded-message format and its common condition
// keys) makes short messages compress almost as well as long ones (measured on the bench's
// distinct-heavy file: 1,353 bytes → 489 without it, 281 with it).

/** Format byte of a packed value: 1 = deflateRaw at level 6 with DICTIONARY_1. Never change a dictionary in place: add a format. */
const FORMAT_1 = 1

/**
 * Deflate looks back from the dictionary's end, so the most frequent words are last. Fixed forever
 * for format 1: stored values are read with exactly these bytes.
 */
const DICTIONARY_1 = Buffer.from([
  'aws:SourceIp aws:SourceVpc aws:SourceVpce aws:PrincipalOrgID aws:PrincipalOrgPaths aws:PrincipalIsAWSService ',
  'aws:ViaAWSService aws:SecureTransport aws:CurrentTime aws:userid aws:username aws:RequestedRegion aws:SourceArn ',
  'aws:SourceAccount aws:PrincipalServiceName aws:ResourceAccount aws:ResourceOrgID aws:CalledViaFirst aws:CalledViaLast ',
  'aws:TokenIssueTime aws:MultiFactorAuthAge s3:prefix s3:x-amz-acl ec2:ResourceTag/ kms:ViaService iam:PassedToService ',
  '"effect":"Deny","effect":"Allow","statementId":"',
  '"principalGroups":{"items":[]},"actions":{"items":[{"permission":"',
  '"resources":{"items":[{"pattern":"*"}]},"conditions":{"items":[]}},{',
  '"principals":{"items":[{"value":"',
  'arn:aws:iam::aws:policy/ :user/ :role/ arn:aws:iam:: :assumed-role/ arn:aws:sts::',
  '"failures":{"items":[]},"context":{"principal":{"id":"AROA',
  '"},"action":"',
  '","resource":"arn:aws:',
  '"name":"',
  '"arn":"arn:aws:',
  '{"allowed":false,"explicitDeny":true,"matchedStatements":{"items":[{',
  '{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]},',
  'us-east-1 us-east-2 us-west-2 eu-west-1 eu-central-1 ap-southeast-1 ap-northeast-1 ',
  '{"key":"aws:PrincipalAccount","values":{"items":[{"value":"',
  '{"key":"aws:PrincipalTag/',
  '{"key":"aws:ResourceTag/',
  '{"key":"aws:RequestTag/',
  '{"key":"aws:TagKeys","values":{"items":[{"value":"',
  '{"key":"aws:CalledVia","values":{"items":[{"value":"',
  '{"key":"aws:MultiFactorAuthPresent","values":{"items":[{"value":"false"}]}},',
  '{"key":"aws:EpochTime","values":{"items":[{"value":"',
  '{"key":"aws:PrincipalArn","values":{"items":[{"value":"arn:aws:',
  '{"key":"aws:PrincipalType","values":{"items":[{"value":"AssumedRole"}]}},',
  '{"key":"aws:Account","values":{"items":[{"value":"',
  '{"key":"aws:Resource","values":{"items":[{"value":"',
  '{"key":"aws:Service","values":{"items":[{"value":"',
  '"conditions":{"items":[{"key":"aws:Region","values":{"items":[{"value":"',
  '"}]}},{"key":"'
].join(''))

/** The stored form of a message's raw text. */
export function packText (text: string): Buffer {
  // Output chunks of 2 KiB come from Node's shared buffer pool; the default (16 KiB) allocates one
  // of its own per call, garbage that piled up in the parse worker between collections.
  const deflated = deflateRawSync(text, { level: 6, dictionary: DICTIONARY_1, chunkSize: 2048 })
  // A buffer of its own, never a slice of Node's shared pool: sent from the parse worker, a view
  // would be cloned with the whole pool behind it.
  const out = Buffer.alloc(deflated.length + 1)
  out[0] = FORMAT_1
  out.set(deflated, 1)
  return out
}

/** The raw text of a stored value: text as it is (rows stored before packing), a packed value inflated. */
export function unpackText (stored: string | Uint8Array): string {
  if (typeof stored === 'string') return stored
  if (stored[0] !== FORMAT_1) throw new Error(`unknown packed-text format ${stored[0] ?? '(empty)'}`)
  return inflateRawSync(stored.subarray(1), { dictionary: DICTIONARY_1 }).toString('utf8')
}
