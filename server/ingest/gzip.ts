/** Gzip input (CloudTrail's .json.gz), decompressed as it streams, with the output bounded against decompression bombs. */
import { createGunzip } from 'node:zlib'
import { Readable } from 'node:stream'

/** At most this much output from one gzip input, whatever its ratio. */
export const MAX_GUNZIP_BYTES = 4 * 1024 * 1024 * 1024
/**
 * Past this much output, a ratio above MAX_GUNZIP_RATIO is taken for a bomb: JSON logs compress 10 to
 * 30 times, a bomb hundreds or thousands of times.
 */
export const RATIO_CHECK_AFTER = 16 * 1024 * 1024
export const MAX_GUNZIP_RATIO = 200

export class GunzipError extends Error {}

export function isGzip (b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b
}

/** Decompressed chunks; throws GunzipError (with a reason for a person) on a bomb or damaged data. */
export async function * gunzipBounded (chunks: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<Buffer> {
  let inBytes = 0
  const input = Readable.from((async function * () {
    for await (const c of chunks) { inBytes += c.length; yield c }
  })())
  const gunzip = createGunzip()
  input.on('error', err => gunzip.destroy(err))
  input.pipe(gunzip)
  let outBytes = 0
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      outBytes += chunk.length
      if (outBytes > MAX_GUNZIP_BYTES || (outBytes > RATIO_CHECK_AFTER && outBytes > inBytes * MAX_GUNZIP_RATIO)) {
        throw new GunzipError(`the gzip data expands more than ${outBytes > MAX_GUNZIP_BYTES ? `to over ${MAX_GUNZIP_BYTES / 1024 ** 3} GiB` : `${MAX_GUNZIP_RATIO} times`} (a decompression bomb?): not read further`)
      }
      yield chunk
    }
  } catch (err) {
    if (err instanceof GunzipError) throw err
    throw new GunzipError(`not valid gzip data: ${(err as Error).message}`)
  } finally {
    input.destroy()
    gunzip.destroy()
  }
}
