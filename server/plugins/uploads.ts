/**
 * Multipart uploads read as they arrive: every byte of the body (framing, preamble and epilogue
 * included) counts against a limit, and reading stops at the limit instead of after the body.
 * We feed @fastify/busboy ourselves rather than use @fastify/multipart, which pipes the raw request
 * into the parser with no byte count over the whole body (only per-file and per-field limits), and
 * whose attachFieldsToBody mode buffers every file before any route hook can look at the form.
 */
import type { Readable } from 'node:stream'
import { Busboy, type BusboyHeaders, type BusboyInstance } from '@fastify/busboy'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { MalformedUploadError, TooManyPartsError } from '../errors.js'

export interface FieldPart { type: 'field', fieldname: string, value: string, valueTruncated: boolean }
export interface FilePart { type: 'file', fieldname: string, filename: string, file: Readable, toBuffer: () => Promise<Buffer> }
export type UploadPart = FieldPart | FilePart

export interface UploadOptions {
  /** Most bytes the whole request body may have; one more and reading stops with `tooLarge()`. */
  maxBytes: number
  tooLarge: () => Error
  /** Largest field value kept (longer ones arrive with valueTruncated). */
  fieldSize: number
  files: number
  fields: number
  /**
   * The first part must have arrived within this many bytes, else `error()`: lets a form put its
   * CSRF token first and be refused before the rest of the body is read.
   */
  firstPart?: { maxBytes: number, error: () => Error }
}

/** Is this request's body multipart/form-data? */
export function isMultipart (req: FastifyRequest): boolean {
  return /^multipart\/form-data\s*(;|$)/i.test(req.headers['content-type'] ?? '')
}

/** Let multipart bodies through to the route unread (it reads them with UploadReader). */
export function acceptMultipart (app: FastifyInstance): void {
  app.addContentTypeParser('multipart/form-data', (_req, _payload, done) => { done(null) })
}

/**
 * The parts of a multipart body, one at a time, in order. A file part's stream must be read (or it is
 * drained when the next part is asked for): busboy waits for it, and so does the socket (backpressure).
 */
export class UploadReader implements AsyncIterable<UploadPart> {
  /** Bytes of the body received so far. */
  bytes = 0
  private readonly queue: UploadPart[] = []
  private waiter: { resolve: (p: UploadPart | null) => void, reject: (e: Error) => void } | null = null
  private error: Error | null = null
  private finished = false
  private partsSeen = 0
  /** The file part handed out last: drained if its reader moves on without reading it. */
  private current: FilePart | null = null
  private readonly bb: BusboyInstance | null = null
  private readonly source: Readable

  constructor (req: FastifyRequest, private readonly opts: UploadOptions) {
    this.source = req.raw
    const declared = Number(req.headers['content-length'])
    if (declared > opts.maxBytes) {
      this.fail(opts.tooLarge())
      return
    }
    try {
      this.bb = Busboy({
        headers: req.raw.headers as BusboyHeaders,
        limits: { fieldSize: opts.fieldSize, files: opts.files, fields: opts.fields, parts: opts.files + opts.fields, fieldNameSize: 200, headerPairs: 20 }
      })
    } catch (err) {
      this.fail(new MalformedUploadError((err as Error).message))
      return
    }
    const bb = this.bb
    bb.on('field', (fieldname: string, value: string, _nameTruncated: boolean, valueTruncated: boolean) => {
      this.push({ type: 'field', fieldname, value, valueTruncated })
    })
    bb.on('file', (fieldname: string, file: Readable, filename: string) => {
      // Errors reach whoever reads the stream; without a reader, a destroyed stream must not crash the process.
      file.on('error', () => {})
      const part: FilePart = { type: 'file', fieldname, filename, file, toBuffer: async () => collect(file) }
      this.push(part)
    })
    bb.on('partsLimit', () => this.fail(new TooManyPartsError('parts')))
    bb.on('filesLimit', () => this.fail(new TooManyPartsError(`files (at most ${opts.files})`)))
    bb.on('fieldsLimit', () => this.fail(new TooManyPartsError(`fields (at most ${opts.fields})`)))
    bb.on('error', (err: Error) => {
      // An empty body is an empty form, as with @fastify/multipart.
      if (this.bytes === 0 && /Unexpected end/.test(err.message)) this.finish()
      else this.fail(new MalformedUploadError(err.message))
    })
    bb.on('finish', () => this.finish())
    bb.on('drain', () => { if (this.error === null) this.source.resume() })

    this.source.on('data', this.onData)
    this.source.on('end', this.onEnd)
    this.source.on('close', this.onClose)
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.error !== null || this.bb === null) return
    this.bytes += chunk.length
    if (this.bytes > this.opts.maxBytes) return this.fail(this.opts.tooLarge())
    if (!this.bb.write(chunk)) this.source.pause()
    const first = this.opts.firstPart
    if (first && this.partsSeen === 0 && this.bytes > first.maxBytes) this.fail(first.error())
  }

  private readonly onEnd = (): void => { this.bb?.end() }

  private readonly onClose = (): void => {
    if (!this.finished && this.error === null && !this.source.readableEnded) this.fail(new MalformedUploadError('the request ended before the upload was complete'))
  }

  private push (part: UploadPart): void {
    this.partsSeen++
    if (this.error !== null) return
    if (this.waiter) {
      const w = this.waiter
      this.waiter = null
      this.deliver(part)
      w.resolve(part)
    } else {
      this.queue.push(part)
    }
  }

  private finish (): void {
    if (this.finished) return
    this.finished = true
    this.detach()
    if (this.waiter && this.queue.length === 0) {
      const w = this.waiter
      this.waiter = null
      w.resolve(null)
    }
  }

  /** Stop reading: the route answers with `err`, and the connection closes (see the security plugin). */
  private fail (err: Error): void {
    if (this.error !== null) return
    this.error = err
    this.queue.length = 0
    this.detach()
    this.source.pause()
    // A consumer reading a file gets the error from its stream too.
    if (this.current && !this.current.file.readableEnded) this.current.file.destroy(err)
    if (this.waiter) {
      const w = this.waiter
      this.waiter = null
      w.reject(err)
    }
  }

  private detach (): void {
    this.source.removeListener('data', this.onData)
    this.source.removeListener('end', this.onEnd)
    this.source.removeListener('close', this.onClose)
  }

  private deliver (part: UploadPart): UploadPart {
    if (part.type === 'file') this.current = part
    return part
  }

  /** The next part, or null at the end of the form; throws the error that stopped the reading. */
  async next (): Promise<UploadPart | null> {
    // A file part left unread would hold busboy (and the socket) forever.
    if (this.current && !this.current.file.readableEnded && !this.current.file.destroyed) this.current.file.resume()
    this.current = null
    if (this.error !== null) throw this.error
    const part = this.queue.shift()
    if (part !== undefined) return this.deliver(part)
    if (this.finished) return null
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject } })
  }

  async * [Symbol.asyncIterator] (): AsyncIterator<UploadPart> {
    for (let part = await this.next(); part !== null; part = await this.next()) yield part
    if (this.error !== null) throw this.error
  }
}

/** A file part's bytes (bounded by the reader's limit on the whole body). */
async function collect (file: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of file) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}
