import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {closeSync, createReadStream, openSync, readSync, statSync} from 'node:fs'
import {Readable} from 'node:stream'
import {createGunzip} from 'node:zlib'
import {NsxError} from '../cli/errors.js'

/**
 * A layer blob (a file, or a byte range of one, as inside a docker archive), read once:
 * hashed as stored (the manifest's digest), decompressed by its magic bytes, hashed
 * again uncompressed (the config's diff_id), and handed to a consumer chunk by chunk.
 */

export interface BlobRange {
  /** The file holding the blob. */
  file: string
  /** Byte offset and length within it; the whole file when absent. */
  start?: number
  length?: number
  /** How the user would name it in an error: a path, or archive:member. */
  label: string
}

/** A blob arriving as a stream (a registry download); hashed and decompressed as it comes. */
export interface BlobStream {
  stream: AsyncIterable<Buffer>
  /** Its size as stored, when known (the descriptor's), for progress. */
  size?: number
  label: string
}

export type BlobSource = BlobRange | BlobStream

export const isBlobStream = (b: BlobSource): b is BlobStream => 'stream' in b

export type Compression = 'none' | 'gzip' | 'zstd'

export interface BlobDigests {
  /** sha256 of the bytes as stored. */
  blob: string
  /** sha256 of the uncompressed tar stream. */
  diffId: string
  compression: Compression
  storedBytes: number
  tarBytes: number
}

export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip'
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd'
  return 'none'
}

function readHead(r: BlobRange): Buffer {
  const fd = openSync(r.file, 'r')
  try {
    const want = Math.min(512, r.length ?? 512)
    const buf = Buffer.alloc(want)
    const n = readSync(fd, buf, 0, want, r.start ?? 0)
    return buf.subarray(0, n)
  } finally {
    closeSync(fd)
  }
}

export const DIGEST_RE = /^sha256:[0-9a-f]{64}$/

export function checkDigestSyntax(d: string, what: string): string {
  // Digests become path names in the store: only the exact sha256 form is accepted.
  if (!DIGEST_RE.test(d)) throw NsxError.invalid(`${what}: unsupported or malformed digest '${d}' (expected sha256:<64 hex digits>)`)
  return d
}

export interface StreamOptions {
  /**
   * Called as the tar is consumed, with the bytes so far and the expected total (0 when
   * unknown). The count is taken where the extractor consumes data, not where the file is
   * read: a small gzip is read at once, long before it is written out.
   */
  onProgress?(tarBytes: number, expectedTarBytes: number): void
  /** Each chunk as stored (compressed), e.g. to keep a copy of the blob. */
  onStored?(chunk: Buffer): void
}

/** The first chunk of a stream, for the magic bytes, then the stream again whole. */
async function peekStream(src: AsyncIterable<Buffer>): Promise<{head: Buffer; all: AsyncIterable<Buffer>}> {
  const it = src[Symbol.asyncIterator]()
  let first = await it.next()
  // A 1-byte first chunk cannot say zstd: gather at least 4 bytes.
  const pending: Buffer[] = []
  let have = 0
  while (!first.done) {
    pending.push(first.value)
    have += first.value.length
    if (have >= 4) break
    first = await it.next()
  }
  const head = Buffer.concat(pending)
  const done = first.done
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head
    if (done) return
    for (;;) {
      const n = await it.next()
      if (n.done) return
      yield n.value
    }
  }
  return {head, all: all()}
}

/**
 * Stream the uncompressed tar of a blob into consume(chunk), and return its digests.
 * Decompression errors (truncated gzip, corrupt zstd) become one NsxError naming the blob.
 */
export async function streamBlob(r: BlobSource, consume: (chunk: Buffer) => void, opts: StreamOptions = {}): Promise<BlobDigests> {
  let compression: Compression
  let src: AsyncIterable<Buffer> & {destroy?(): void}
  if (isBlobStream(r)) {
    const peeked = await peekStream(r.stream)
    compression = sniffCompression(peeked.head)
    src = peeked.all
  } else {
    compression = sniffCompression(readHead(r))
    const end = r.length !== undefined ? (r.start ?? 0) + r.length - 1 : undefined
    // An empty range (a zero-byte layer member) reads nothing; createReadStream cannot express it.
    src = r.length === 0 ? Readable.from([]) : createReadStream(r.file, {start: r.start, end, highWaterMark: 1 << 20})
  }
  const blobHash = createHash('sha256')
  const tarHash = createHash('sha256')
  let storedBytes = 0
  let tarBytes = 0
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const c of src as AsyncIterable<Buffer>) {
      blobHash.update(c)
      storedBytes += c.length
      opts.onStored?.(c)
      yield c
    }
  }
  const expected = !opts.onProgress ? 0 : isBlobStream(r) ? (compression === 'none' ? (r.size ?? 0) : 0) : expectedTarSize(r, compression)
  const take = (c: Buffer) => {
    tarHash.update(c)
    tarBytes += c.length
    consume(c)
    opts.onProgress?.(tarBytes, expected)
  }
  try {
    if (compression === 'none') {
      for await (const c of hashed()) take(c)
    } else if (compression === 'gzip') {
      const gunzip = createGunzip({chunkSize: 1 << 18})
      const input = Readable.from(hashed())
      input.on('error', (e) => gunzip.destroy(e))
      input.pipe(gunzip)
      for await (const c of gunzip as AsyncIterable<Buffer>) take(c)
    } else {
      await unzstd(hashed(), take, r.label)
    }
  } catch (err) {
    src.destroy?.()
    if (err instanceof NsxError) throw err
    const code = (err as NodeJS.ErrnoException).code ?? ''
    if (code.startsWith('Z_') || code === 'ERR_ZLIB') throw NsxError.invalid(`${r.label}: corrupt or truncated ${compression} stream (${(err as Error).message})`)
    throw err
  }
  return {
    blob: `sha256:${blobHash.digest('hex')}`,
    diffId: `sha256:${tarHash.digest('hex')}`,
    compression,
    storedBytes,
    tarBytes,
  }
}

function readAt(r: BlobRange, offset: number, length: number): Buffer {
  const fd = openSync(r.file, 'r')
  try {
    const buf = Buffer.alloc(length)
    return buf.subarray(0, readSync(fd, buf, 0, length, (r.start ?? 0) + offset))
  } finally {
    closeSync(fd)
  }
}

/**
 * The uncompressed size, for a progress percentage only: the blob's size when plain, gzip's
 * ISIZE trailer (the size modulo 2^32), or the content size in a zstd frame header (zstd
 * writes it when compressing a file); 0 when not known.
 */
export function expectedTarSize(r: BlobRange, compression: Compression): number {
  try {
    const size = r.length ?? statSync(r.file).size
    if (compression === 'none') return size
    if (compression === 'gzip') return size >= 18 ? readAt(r, size - 4, 4).readUInt32LE(0) : 0
    const h = readAt(r, 0, 18)
    if (h.length < 6) return 0
    const fhd = h[4]
    const single = (fhd >> 5) & 1
    const fcsFlag = fhd >> 6
    const dictBytes = [0, 1, 2, 4][fhd & 3]
    const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag]
    const at = 5 + (single ? 0 : 1) + dictBytes
    if (fcsBytes === 0 || h.length < at + fcsBytes) return 0
    if (fcsBytes === 1) return h[at]
    if (fcsBytes === 2) return h.readUInt16LE(at) + 256
    if (fcsBytes === 4) return h.readUInt32LE(at)
    return Number(h.readBigUInt64LE(at))
  } catch {
    return 0
  }
}

/** Node 20 has no zstd: Debian's zstd program decompresses, fed by us so the stored bytes are still hashed here. */
async function unzstd(input: AsyncIterable<Buffer>, take: (c: Buffer) => void, label: string): Promise<void> {
  const child = spawn('zstd', ['-d', '-c', '-q'], {stdio: ['pipe', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<{code: number | null; err?: Error}>((resolve) => {
    child.on('error', (err) => resolve({code: null, err}))
    child.on('close', (code) => resolve({code}))
  })
  child.stdin.on('error', () => {}) // EPIPE when zstd stops early: its exit status says why
  const feeding = (async () => {
    for await (const c of input) {
      if (child.stdin.destroyed) return
      if (!child.stdin.write(c))
        await new Promise<void>((res) => {
          const done = () => {
            child.stdin.off('drain', done)
            child.stdin.off('close', done)
            res()
          }
          child.stdin.on('drain', done)
          child.stdin.on('close', done)
        })
    }
    child.stdin.end()
  })()
  let consumeErr: unknown
  try {
    for await (const c of child.stdout as AsyncIterable<Buffer>) take(c)
  } catch (err) {
    consumeErr = err
    child.kill('SIGKILL')
  }
  const [res] = await Promise.all([exited, feeding.catch((e) => (consumeErr ??= e))])
  if (consumeErr) throw consumeErr
  if (res.err) {
    if ((res.err as NodeJS.ErrnoException).code === 'ENOENT') throw NsxError.internal(`${label}: zstd-compressed layers need the zstd program (Debian package zstd)`)
    throw res.err
  }
  if (res.code !== 0) throw NsxError.internal(`${label}: corrupt or truncated zstd stream (${stderr.trim().split('\n').pop() ?? `zstd exit ${res.code}`})`)
}

/**
 * Manifests, indexes and configs are read whole, so their size is bounded first: a
 * multi-gigabyte "index.json" is an attack on memory (containerd CVE-2023-25153), not an image.
 */
export const MAX_METADATA_BYTES = 8 << 20

export function checkMetadataSize(size: number, what: string): void {
  if (size > MAX_METADATA_BYTES) throw NsxError.invalid(`${what} is ${size} bytes, more than the ${MAX_METADATA_BYTES} allowed for image metadata`)
}

/** Read a small blob (manifest, config) whole, checking its digest when one is given. */
export function verifyBytes(data: Buffer, expected: string | undefined, label: string): string {
  const got = `sha256:${createHash('sha256').update(data).digest('hex')}`
  if (expected !== undefined && got !== expected) throw NsxError.invalid(`${label}: digest mismatch (expected ${expected}, got ${got})`)
  return got
}
