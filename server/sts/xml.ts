/**
 * The AWS Query protocol's XML envelopes for STS (API version 2011-06-15), and text escaping.
 * Shapes follow the service model (resultWrapper `<Op>Result`) and the Query error envelope, where
 * RequestId is a sibling of Error (the STS service model, botocore/data/sts/2011-06-15/service-2.json,
 * and https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html).
 */

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/'
export const STS_API_VERSION = '2011-06-15'

/**
 * Escape text for an XML text node so that a parser gives back exactly the same characters:
 * the five markup characters, and CR/LF/TAB as character references (a parser would otherwise
 * normalise CRLF to LF, and some trim leading or trailing white space).
 */
export function escapeXml (text: string): string {
  return text.replace(/[&<>"'\r\n\t]/g, c => ENTITIES[c]!)
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#13;',
  '\n': '&#10;',
  '\t': '&#9;'
}

/** Characters XML 1.0 cannot carry at all, not even as character references. */
// eslint-disable-next-line no-control-regex -- control characters are what this matches
const XML_ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** The first character of `text` that no XML response can carry, or null. */
export function xmlIllegalChar (text: string): string | null {
  const m = XML_ILLEGAL.exec(text)
  return m ? m[0] : null
}

/** `<OpResponse><OpResult>fields</OpResult><ResponseMetadata><RequestId/></ResponseMetadata></OpResponse>`. */
export function successXml (action: string, fields: Record<string, string>, requestId: string): string {
  const inner = Object.entries(fields).map(([k, v]) => `    <${k}>${escapeXml(v)}</${k}>\n`).join('')
  return `<${action}Response xmlns="${STS_XMLNS}">\n` +
    `  <${action}Result>\n${inner}  </${action}Result>\n` +
    `  <ResponseMetadata>\n    <RequestId>${escapeXml(requestId)}</RequestId>\n  </ResponseMetadata>\n` +
    `</${action}Response>\n`
}

/** `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`. */
export function errorXml (type: 'Sender' | 'Receiver', code: string, message: string, requestId: string): string {
  return `<ErrorResponse xmlns="${STS_XMLNS}">\n` +
    `  <Error>\n    <Type>${type}</Type>\n    <Code>${escapeXml(code)}</Code>\n    <Message>${escapeXml(message)}</Message>\n  </Error>\n` +
    `  <RequestId>${escapeXml(requestId)}</RequestId>\n` +
    '</ErrorResponse>\n'
}
