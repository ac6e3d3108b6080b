/**
 * GET /import and POST /import : upload files or paste decoded JSON; the page shows the import summary
 * with every rejected record and its reason. Uploads are bounded (config.maxUploadBytes), counted as
 * they arrive: past the limit, reading stops with the 413 page. The CSRF token is checked before the
 * files are read: from an `X-CSRF-Token` header, or else from the form's first part, which must be
 * `_csrf` (our forms put it first, and browsers send parts in form order); anything else first is
 * refused at once with 403.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type, type TSchema } from '../../util/typebox.js'
import { readTextRecords } from '../../ingest/index.js'
import { SERVER_IMPORT_OPTIONS, SummaryBuilder, type ImportSummary } from '../../services/importer.js'
import { formatNumber, plural, prettyJson, truncate } from '../../render/helpers.js'
import { csrfToken, layoutModel } from '../../render/layout.js'
import { FormatParam, importRow } from './view-models.js'
import { denialExplanationView } from './denial.js'
import type { DenialDetail } from '../../authz/types.js'
import { decodeAnswer, type DecodeAnswer } from '../api/decode.js'
import { textDenialsOnly, type Decoder } from '../../services/decode.js'
import { acceptMultipart, isMultipart, UploadReader, type UploadPart } from '../../plugins/uploads.js'
import { CsrfTokenNotFirstError, NothingToDecodeError, NothingToImportError, UploadTooLargeError } from '../../errors.js'
import { DecodeErrorSchema, ImportDecodeTwinSchema, ImportPageTwinSchema, twinSchema, twinSerializer } from '../../schemas/pages.js'
import { ImportSummarySchema } from '../../schemas/denials.js'

const nothingUploaded = (): Error => new NothingToImportError('Choose at least one file, or paste decoded JSON into the text box')

/** Room for the multipart framing and the small fields around the files. */
const MULTIPART_OVERHEAD = 64 * 1024
/** The `_csrf` part must have arrived within this many bytes of the body (it is the first, ~100 bytes). */
const TOKEN_FIRST_BYTES = 16 * 1024

/** The form as read, files in memory: bounded by the upload limit, as they were before streaming. */
interface UploadForm { fields: Map<string, { value: string, truncated: boolean }>, files: Array<{ name: string, buf: Buffer }> }

async function readForm (reader: UploadReader, wantFiles: boolean): Promise<UploadForm> {
  const form: UploadForm = { fields: new Map(), files: [] }
  let part: UploadPart | null
  while ((part = await reader.next()) !== null) {
    if (part.type === 'field') {
      if (!form.fields.has(part.fieldname)) form.fields.set(part.fieldname, { value: part.value, truncated: part.valueTruncated })
    } else if (wantFiles && part.fieldname === 'files') {
      const buf = await part.toBuffer()
      if (buf.length === 0 && !part.filename) continue
      form.files.push({ name: part.filename || 'upload', buf })
    }
  }
  return form
}

function fieldValue (form: UploadForm | null, name: string): string {
  return form?.fields.get(name)?.value ?? ''
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The multipart body of an import form, being read (set by the import routes' preValidation). */
    upload: UploadReader | null
  }
}

export interface ImportResultModel {
  imported: string
  duplicates: string
  rejectedCount: string
  /** CloudTrail events that are not denials, when there were any. */
  skipped: string | null
  headline: string
  ok: boolean
  inputs: string[]
  rejected: Array<{ source: string, line: string, reason: string }>
  /** Set when only the first rejections are listed: "the first 1,000 of 150,000". */
  rejectedShown: string | null
  reasons: Array<{ reason: string, count: string }>
}

export function importResultModel (summary: ImportSummary, inputs: string[]): ImportResultModel {
  const n = summary.rejectedCount
  return {
    imported: formatNumber(summary.imported),
    duplicates: formatNumber(summary.duplicates),
    rejectedCount: formatNumber(n),
    skipped: summary.skipped > 0 ? formatNumber(summary.skipped) : null,
    headline: `${plural(summary.imported, 'new occurrence')} stored, ${plural(summary.duplicates, 'duplicate')} skipped, ${plural(n, 'record')} rejected${summary.skipped > 0 ? `; ${plural(summary.skipped, 'CloudTrail event')} that ${summary.skipped === 1 ? 'is' : 'are'} not a denial passed over` : ''}.`,
    ok: n === 0,
    inputs,
    rejected: summary.rejected.map(r => ({ source: truncate(r.source, 100), line: String(r.line), reason: r.reason })),
    rejectedShown: summary.rejected.length < n ? `the first ${formatNumber(summary.rejected.length)} of ${formatNumber(n)}` : null,
    reasons: Object.entries(summary.rejectedReasons).sort((a, b) => b[1] - a[1]).map(([reason, count]) => ({ reason, count: formatNumber(count) }))
  }
}

const importPage: FastifyPluginAsyncTypebox<{ decoder: Decoder }> = async (app, opts) => {
  const limit = app.config.maxUploadBytes
  const limitText = `${Math.round(limit / 1024 / 1024 * 10) / 10} MiB`
  // Encapsulated: multipart bodies reach these routes unread; they read them with UploadReader.
  acceptMultipart(app)
  app.decorateRequest('upload', null)

  async function renderPage (req: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}): Promise<string> {
    return reply.viewAsync('pages/import.hbs', {
      ...layoutModel(req, reply, 'Import', 'import'),
      csrfToken: csrfToken(reply),
      limitText,
      imports: app.repos.imports.list(10).map(importRow),
      decodeThrough: app.config.stsEndpoint ? `the STS at ${app.config.stsEndpoint}` : 'the built-in mock STS',
      result: null,
      decoded: null,
      decodeError: null,
      error: null,
      ...extra
    })
  }

  /** Refuse a declared oversize body before reading any of it. */
  const refuseOversize = async (req: FastifyRequest): Promise<void> => {
    const length = Number(req.headers['content-length'] ?? 0)
    if (length > limit + MULTIPART_OVERHEAD) throw new UploadTooLargeError(limitText)
  }

  const openUpload = (req: FastifyRequest, tokenFirst: boolean): UploadReader => new UploadReader(req, {
    maxBytes: limit + MULTIPART_OVERHEAD,
    tooLarge: () => new UploadTooLargeError(limitText),
    fieldSize: limit,
    files: 50,
    fields: 10,
    firstPart: tokenFirst ? { maxBytes: TOKEN_FIRST_BYTES, error: () => new CsrfTokenNotFirstError() } : undefined
  })

  /**
   * Start reading the upload, and read no further than the CSRF token: from the header (nothing read
   * at all), or the first part, which must be `_csrf`. csrfProtection (preHandler) then verifies it,
   * before the route reads the files.
   */
  const readTokenFirst = async (req: FastifyRequest): Promise<void> => {
    if (!isMultipart(req)) return
    // Token in a header, or no CSRF cookie to check one against (csrfProtection refuses that):
    // nothing is read before the check.
    if (typeof req.headers['x-csrf-token'] === 'string' || req.cookies._csrf === undefined) return
    const reader = openUpload(req, true)
    req.upload = reader
    const first = await reader.next()
    if (first === null) return
    if (first.type !== 'field' || first.fieldname !== '_csrf') throw new CsrfTokenNotFirstError()
    req.body = { _csrf: first.value }
  }

  /** The upload of a request that passed the CSRF check (opened here when the token came in a header). */
  const uploadOf = (req: FastifyRequest): UploadReader | null => req.upload ?? (isMultipart(req) ? openUpload(req, false) : null)

  /** Both forms: an oversize body refused unread, the CSRF token read and checked before the rest. */
  const uploadRoute = (summary: string, response: TSchema, errors: Record<string, TSchema> = {}) => ({
    schema: twinSchema(summary, response, { querystring: Type.Object({ format: FormatParam }) }, errors),
    serializerCompiler: twinSerializer,
    onRequest: refuseOversize,
    preValidation: readTokenFirst,
    preHandler: app.csrfProtection
  })

  app.get('/import', { schema: twinSchema('The Import page: latest imports and the upload limit', ImportPageTwinSchema, { querystring: Type.Object({ format: FormatParam }) }), serializerCompiler: twinSerializer }, async (req, reply) => {
    if (req.query.format === 'json') return { latestImports: app.repos.imports.list(10), maxUploadBytes: limit }
    return renderPage(req, reply)
  })

  app.post('/import', uploadRoute('Import uploaded files and pasted text (multipart/form-data, the CSRF token first): the import summary', ImportSummarySchema), async (req, reply) => {
    const upload = uploadOf(req)
    if (upload === null) throw nothingUploaded()
    const form = await readForm(upload, true)
    const label = fieldValue(form, 'source').trim().slice(0, 200)
    const total = new SummaryBuilder()
    const inputs: string[] = []
    let bytes = 0
    const files = form.files
    for (const f of files) bytes += f.buf.length
    if (form.fields.get('text')?.truncated) throw new UploadTooLargeError(limitText)
    const text = fieldValue(form, 'text')
    bytes += Buffer.byteLength(text)
    if (bytes > limit) throw new UploadTooLargeError(limitText)

    for (const f of files) {
      total.add(await app.repos.importer.run(readTextRecords(f.buf, f.name), { ...SERVER_IMPORT_OPTIONS, source: label || undefined, label: label || f.name }))
      inputs.push(f.name)
    }
    if (text.trim() !== '') {
      const name = label || 'pasted'
      total.add(await app.repos.importer.run(readTextRecords(text, name), { ...SERVER_IMPORT_OPTIONS, source: name, label: name }))
      inputs.push('pasted text')
    }
    if (inputs.length === 0) {
      if (req.query.format === 'json') throw nothingUploaded()
      reply.code(400)
      return renderPage(req, reply, { error: nothingUploaded().message })
    }
    if (req.query.format === 'json') return total.summary()
    return renderPage(req, reply, { result: importResultModel(total.summary(), inputs) })
  })

  // Error text with encoded messages: decoded and stored by the decoder of POST /api/decode, whose answer is the JSON twin.
  app.post('/import/decode', uploadRoute('Decode the encoded messages in pasted error text and store them (multipart/form-data, the CSRF token first)', ImportDecodeTwinSchema, { '4xx': DecodeErrorSchema, '5xx': DecodeErrorSchema }), async (req, reply) => {
    const upload = uploadOf(req)
    const form = upload === null ? null : await readForm(upload, false)
    if (form?.fields.get('text')?.truncated) throw new UploadTooLargeError(limitText)
    const text = fieldValue(form, 'text')
    if (text.trim() === '') {
      if (req.query.format === 'json') throw new NothingToDecodeError()
      reply.code(400)
      return renderPage(req, reply, { error: new NothingToDecodeError().message })
    }
    const label = fieldValue(form, 'source').trim().slice(0, 200)
    // No encoded message, but access-denied sentences: imported as text denials, as the paste form would.
    if (textDenialsOnly(text) !== null) {
      const name = label || 'decode'
      const summary = await app.repos.importer.run(readTextRecords(text, name), { ...SERVER_IMPORT_OPTIONS, source: name, label: name })
      if (req.query.format === 'json') return summary
      return renderPage(req, reply, { result: importResultModel(summary, ['access-denied text (no encoded message to decode)']) })
    }
    const { statusCode, body: answer } = decodeAnswer(await opts.decoder.decodeText(text, { source: label || 'decode' }))
    if (req.query.format === 'json') return reply.code(statusCode).send(answer)
    if (statusCode !== 200) {
      reply.code(statusCode)
      return renderPage(req, reply, { decodeError: decodeErrorModel(answer, statusCode) })
    }
    return renderPage(req, reply, { decoded: decodedModel(answer, id => app.repos.denials.get(id)) })
  })
}

export default importPage

/**
 * The decode result: each message with the same summary, explanation and fix as its denial page (from
 * the stored denial), and the decoded JSON folded under them.
 */
export function decodedModel (answer: DecodeAnswer, denial: (id: number) => DenialDetail | null | undefined): object {
  const results = answer.results ?? []
  const imported = results.filter(r => r.stored === 'imported').length
  return {
    headline: `Decoded ${plural(results.length, 'message')}: ${plural(imported, 'new occurrence')} stored, ${plural(results.length - imported, 'duplicate')}.`,
    items: results.map((r, i) => {
      const d = r.denialId !== undefined ? denial(r.denialId) : null
      return {
        id: `decoded-${i + 1}`,
        token: truncate(r.token, 48),
        stored: r.stored === 'imported' ? 'Stored' : 'Already stored',
        href: r.denialId !== undefined ? `/denials/${r.denialId}` : null,
        view: d ? { ...denialExplanationView(d), idPrefix: `decoded-${i + 1}-` } : null,
        json: prettyJson(r.DecodedMessage)
      }
    })
  }
}

export function decodeErrorModel (answer: DecodeAnswer, status: number): object {
  return {
    status: String(status),
    message: answer.message ?? 'The message could not be decoded.',
    stsCode: answer.stsCode ?? null,
    stsMessage: answer.stsMessage ?? null,
    problems: (answer.problems ?? []).map(p => ({ excerpt: p.excerpt, reason: p.reason }))
  }
}
