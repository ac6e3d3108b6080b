/** POST /api/imports: any accepted format as the body (JSON, NDJSON) or as multipart file uploads. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../util/typebox.js'
import { readTextRecords } from '../../ingest/index.js'
import { ImportSummarySchema } from '../../schemas/denials.js'
import { NothingToImportError, UploadTooLargeError } from '../../errors.js'
import { SERVER_IMPORT_OPTIONS, SummaryBuilder, type ImportSummary } from '../../services/importer.js'
import { acceptMultipart, isMultipart, UploadReader } from '../../plugins/uploads.js'

/** Default for the largest request body the import API accepts (config.maxUploadBytes; in README). */
export const MAX_IMPORT_BODY = 64 * 1024 * 1024
/** Room for the multipart framing around the files. */
const MULTIPART_OVERHEAD = 64 * 1024

const imports: FastifyPluginAsyncTypebox = async (app) => {
  const limit = app.config.maxUploadBytes
  const limitText = `${Math.round(limit / 1024 / 1024 * 10) / 10} MiB`
  // Encapsulated: these raw parsers apply to the import route only. We parse ourselves so that
  // every rejected record can name its line. Fastify counts raw bodies as they arrive and stops at
  // bodyLimit (413, connection closed); multipart bodies are counted by UploadReader.
  app.addContentTypeParser(['application/json', 'application/x-ndjson', 'application/jsonl', 'application/x-jsonlines', 'text/plain'],
    { parseAs: 'buffer', bodyLimit: limit }, (_req, body, done) => { done(null, body) })
  acceptMultipart(app)

  app.post('/imports', {
    bodyLimit: limit,
    schema: {
      tags: ['imports'],
      summary: 'Import decoded messages',
      querystring: Type.Object({ source: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Label for the occurrences (default: "api", or the uploaded file name)' })) }),
      response: { 200: ImportSummarySchema }
    }
  }, async (req): Promise<ImportSummary> => {
    const { importer } = app.repos
    const source = req.query.source
    if (isMultipart(req)) {
      const total = new SummaryBuilder()
      let files = 0
      const upload = new UploadReader(req, { maxBytes: limit + MULTIPART_OVERHEAD, tooLarge: () => new UploadTooLargeError(limitText), fieldSize: limit, files: 100, fields: 10 })
      for await (const part of upload) {
        if (part.type !== 'file') {
          if (part.fieldname === 'text' && typeof part.value === 'string' && part.value.trim() !== '') {
            files++
            total.add(await importer.run(readTextRecords(part.value, source ?? 'pasted'), { ...SERVER_IMPORT_OPTIONS, source, label: source ?? 'pasted' }))
          }
          continue
        }
        const buf = await part.toBuffer()
        if (buf.length === 0 && part.filename === '') continue
        files++
        const name = part.filename || 'upload'
        total.add(await importer.run(readTextRecords(buf, name), { ...SERVER_IMPORT_OPTIONS, source, label: name }))
      }
      if (files === 0) throw new NothingToImportError('The upload holds no file: choose at least one .json, .jsonl or .ndjson file')
      return total.summary()
    }
    const body = req.body
    if (!Buffer.isBuffer(body) || body.length === 0) {
      throw new NothingToImportError('The request body is empty: send decoded messages as JSON or NDJSON, or upload files as multipart/form-data')
    }
    return importer.run(readTextRecords(body, source ?? 'api'), { ...SERVER_IMPORT_OPTIONS, source, label: source ?? 'api' })
  })
}

export default imports
