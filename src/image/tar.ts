import {NsxError} from '../cli/errors.js'

/**
 * A streaming tar reader: ustar, POSIX pax (x and g headers) and the GNU extensions
 * (L/K long names, base-256 numbers), which together cover what docker, Go's
 * archive/tar, GNU tar, bsdtar and umoci write. It is a push parser: write() takes
 * chunks as they come out of the decompressor and calls the handler synchronously,
 * so the extractor can write file data without buffering whole files.
 * Sparse files (GNU 'S', pax GNU.sparse.*) are refused rather than extracted wrong.
 */

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo'

export interface TarEntry {
  /** The name exactly as stored (after pax/GNU overrides); not yet normalised or checked. */
  path: string
  type: EntryType
  mode: number
  uid: number
  gid: number
  size: number
  /** Seconds since the epoch, fractional from pax. */
  mtime: number
  linkpath: string
  devmajor: number
  devminor: number
  /** SCHILY.xattr.* records from pax headers, name -> raw value. */
  xattrs: Map<string, Buffer>
  /** Byte offset of the entry's data in the (uncompressed) stream. */
  dataOffset: number
}

export interface TarHandler {
  entry(e: TarEntry): void
  /** Data of the current entry, in order; the buffer is only valid during the call. */
  data(chunk: Buffer): void
  entryEnd(): void
}

/** A tar stream that is not a valid archive (invalid input, 400). */
export class TarFormatError extends NsxError {
  constructor(message: string, exitCode = 1) {
    super(message, exitCode, 'invalid')
  }
}

const BLOCK = 512
export const MAX_EXTENDED_HEADER = 1 << 20

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file', // contiguous file: a regular file everywhere that matters
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
}

function cString(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start)
  return buf.toString('utf8', start, end < 0 || end > start + len ? start + len : end)
}

/** Octal (NUL/space terminated) or GNU base-256 (high bit set) numeric field. */
export function parseNumeric(buf: Buffer, start: number, len: number, what: string): number {
  const first = buf[start]
  if (first & 0x80) {
    // base-256: big-endian two's complement, 0x80 marks positive, 0xff negative.
    if (first === 0xff) throw new TarFormatError(`negative ${what} in tar header`)
    let v = first & 0x7f
    for (let i = 1; i < len; i++) {
      v = v * 256 + buf[start + i]
      if (v > Number.MAX_SAFE_INTEGER) throw new TarFormatError(`${what} too large in tar header`)
    }
    return v
  }
  let v = 0
  let i = start
  const end = start + len
  while (i < end && (buf[i] === 0x20 || buf[i] === 0)) i++ // leading blanks
  let digits = 0
  for (; i < end; i++) {
    const c = buf[i]
    if (c === 0 || c === 0x20) break
    if (c < 0x30 || c > 0x37) throw new TarFormatError(`bad ${what} field in tar header`)
    v = v * 8 + (c - 0x30)
    digits++
  }
  return digits === 0 ? 0 : v
}

function checksumOk(h: Buffer): boolean {
  let stored: number
  try {
    stored = parseNumeric(h, 148, 8, 'checksum')
  } catch {
    return false
  }
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]
    unsigned += b
    signed += b > 127 ? b - 256 : b
  }
  return stored === unsigned || stored === signed
}

function isZeroBlock(h: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (h[i] !== 0) return false
  return true
}

export interface PaxRecords {
  [key: string]: Buffer
}

/** "%d %s=%s\n" records; values stay bytes (xattr values are binary). */
export function parsePax(data: Buffer): PaxRecords {
  const out: PaxRecords = {}
  let pos = 0
  while (pos < data.length) {
    if (data[pos] === 0) break // some writers pad with NULs
    const sp = data.indexOf(0x20, pos)
    if (sp < 0) throw new TarFormatError('malformed pax header')
    const len = Number(data.toString('latin1', pos, sp))
    if (!Number.isInteger(len) || len <= sp - pos + 1 || pos + len > data.length) throw new TarFormatError('malformed pax header')
    const rec = data.subarray(sp + 1, pos + len - 1) // without the trailing newline
    const eq = rec.indexOf(0x3d)
    if (eq < 0 || data[pos + len - 1] !== 0x0a) throw new TarFormatError('malformed pax header')
    out[rec.toString('utf8', 0, eq)] = Buffer.from(rec.subarray(eq + 1))
    pos += len
  }
  return out
}

/** The parts of a header block, before pax/GNU overrides. */
export interface RawHeader {
  name: string
  mode: number
  uid: number
  gid: number
  size: number
  mtime: number
  typeflag: string
  linkname: string
  devmajor: number
  devminor: number
}

export function decodeHeader(h: Buffer): RawHeader {
  if (!checksumOk(h)) throw new TarFormatError('not a tar archive (bad header checksum)')
  const magic = h.toString('latin1', 257, 263)
  const ustar = magic === 'ustar\0'
  let name = cString(h, 0, 100)
  // The ustar prefix field; GNU tar ("ustar  ") uses those bytes for other things.
  if (ustar) {
    const prefix = cString(h, 345, 155)
    if (prefix) name = `${prefix}/${name}`
  }
  return {
    name,
    mode: parseNumeric(h, 100, 8, 'mode'),
    uid: parseNumeric(h, 108, 8, 'uid'),
    gid: parseNumeric(h, 116, 8, 'gid'),
    size: parseNumeric(h, 124, 12, 'size'),
    mtime: parseNumeric(h, 136, 12, 'mtime'),
    typeflag: String.fromCharCode(h[156]),
    linkname: cString(h, 157, 100),
    devmajor: magic.startsWith('ustar') ? parseNumeric(h, 329, 8, 'devmajor') : 0,
    devminor: magic.startsWith('ustar') ? parseNumeric(h, 337, 8, 'devminor') : 0,
  }
}

const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK

type State =
  | {kind: 'header'}
  | {kind: 'data'; remaining: number; pad: number}
  | {kind: 'meta'; typeflag: string; buf: Buffer; filled: number; pad: number}
  | {kind: 'skip'; remaining: number}
  | {kind: 'end'}

/** Metadata carried from pax/GNU headers to the next real entry. */
interface Pending {
  pax: PaxRecords
  longName?: string
  longLink?: string
}

export class TarParser {
  private state: State = {kind: 'header'}
  private readonly header = Buffer.alloc(BLOCK)
  private headerFill = 0
  private offset = 0 // bytes consumed so far
  private pending: Pending = {pax: {}}
  private global: PaxRecords = {}
  private entries = 0
  private zeroBlocks = 0

  constructor(private readonly handler: TarHandler) {}

  get entryCount(): number {
    return this.entries
  }

  write(chunk: Buffer): void {
    let pos = 0
    while (pos < chunk.length) {
      const s = this.state
      switch (s.kind) {
        case 'end':
          return // trailing padding after the end-of-archive marker
        case 'header': {
          const n = Math.min(BLOCK - this.headerFill, chunk.length - pos)
          chunk.copy(this.header, this.headerFill, pos, pos + n)
          this.headerFill += n
          pos += n
          this.offset += n
          if (this.headerFill === BLOCK) {
            this.headerFill = 0
            this.onHeader()
          }
          break
        }
        case 'data': {
          if (s.remaining > 0) {
            const n = Math.min(s.remaining, chunk.length - pos)
            this.handler.data(chunk.subarray(pos, pos + n))
            s.remaining -= n
            pos += n
            this.offset += n
            if (s.remaining === 0) this.handler.entryEnd()
          } else {
            const n = Math.min(s.pad, chunk.length - pos)
            s.pad -= n
            pos += n
            this.offset += n
          }
          if (s.remaining === 0 && s.pad === 0) this.state = {kind: 'header'}
          break
        }
        case 'meta': {
          if (s.filled < s.buf.length) {
            const n = Math.min(s.buf.length - s.filled, chunk.length - pos)
            chunk.copy(s.buf, s.filled, pos, pos + n)
            s.filled += n
            pos += n
            this.offset += n
          } else {
            const n = Math.min(s.pad, chunk.length - pos)
            s.pad -= n
            pos += n
            this.offset += n
          }
          if (s.filled === s.buf.length && s.pad === 0) {
            this.onMeta(s.typeflag, s.buf)
            this.state = {kind: 'header'}
          }
          break
        }
        case 'skip': {
          const n = Math.min(s.remaining, chunk.length - pos)
          s.remaining -= n
          pos += n
          this.offset += n
          if (s.remaining === 0) this.state = {kind: 'header'}
          break
        }
      }
    }
  }

  /** The input ended: anything but a complete archive is an error. */
  end(): void {
    const s = this.state
    if (s.kind === 'end') return
    if (s.kind === 'header' && this.headerFill === 0 && this.zeroBlocks === 1) return // one zero block then EOF: accepted, as GNU tar does
    if (this.entries === 0 && this.offset === 0) throw new TarFormatError('not a tar archive (empty input)')
    if (s.kind === 'header' && this.headerFill === 0) throw new TarFormatError('truncated tar archive (no end-of-archive marker)')
    throw new TarFormatError(`truncated tar archive (input ends inside ${s.kind === 'data' ? 'file data' : 'a header'})`)
  }

  private onHeader(): void {
    const h = this.header
    if (isZeroBlock(h)) {
      this.zeroBlocks++
      if (this.zeroBlocks === 2) this.state = {kind: 'end'}
      return
    }
    if (this.zeroBlocks > 0) throw new TarFormatError('corrupt tar archive (data after a zero block)')
    const raw = decodeHeader(h)
    const t = raw.typeflag
    if (t === 'x' || t === 'g' || t === 'L' || t === 'K') {
      // Bounded as Go's archive/tar does since CVE-2022-2879: a huge pax header is an attack, not metadata.
      if (raw.size > MAX_EXTENDED_HEADER) throw new TarFormatError(`tar extended header of ${raw.size} bytes (more than ${MAX_EXTENDED_HEADER})`)
      this.state = {kind: 'meta', typeflag: t, buf: Buffer.alloc(raw.size), filled: 0, pad: padded(raw.size) - raw.size}
      if (raw.size === 0) {
        this.onMeta(t, this.state.buf)
        this.state = {kind: 'header'}
      }
      return
    }
    if (t === 'V') {
      // GNU volume label: no data worth keeping.
      this.state = raw.size > 0 ? {kind: 'skip', remaining: padded(raw.size)} : {kind: 'header'}
      this.pending = {pax: {}}
      return
    }
    if (t === 'S') throw new TarFormatError(`sparse file ${raw.name} in tar (not supported)`)
    const type = TYPES[t]
    if (type === undefined) throw new TarFormatError(`unsupported tar entry type '${t.replace(/[^\x20-\x7e]/g, '?')}' for ${raw.name}`)
    const pax = {...this.global, ...this.pending.pax}
    for (const k of Object.keys(pax)) if (k.startsWith('GNU.sparse.')) throw new TarFormatError(`sparse file ${raw.name} in tar (not supported)`)
    const str = (k: string) => (pax[k] !== undefined ? pax[k].toString('utf8') : undefined)
    const num = (k: string, fallback: number) => {
      const v = str(k)
      if (v === undefined) return fallback
      const n = Number(v)
      if (!Number.isFinite(n) || n < 0) throw new TarFormatError(`bad pax ${k} '${v}'`)
      return n
    }
    const xattrs = new Map<string, Buffer>()
    for (const [k, v] of Object.entries(pax)) if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice('SCHILY.xattr.'.length), v)
    // Ids become chown(2) arguments: whole numbers below (uid_t)-1, which means "unchanged".
    const id = (k: 'uid' | 'gid', fallback: number) => {
      const n = num(k, fallback)
      if (!Number.isInteger(n) || n >= 0xffffffff) throw new TarFormatError(`bad ${k} ${n} for ${raw.name} in tar`)
      return n
    }
    const uid = id('uid', raw.uid)
    const gid = id('gid', raw.gid)
    const size = num('size', raw.size)
    if (!Number.isSafeInteger(size)) throw new TarFormatError(`bad size for ${raw.name}`)
    // Only regular files carry data; other types are header-only whatever their size field says (as Go's archive/tar reads them).
    const entry: TarEntry = {
      path: str('path') ?? this.pending.longName ?? raw.name,
      type,
      mode: raw.mode & 0o7777,
      uid,
      gid,
      size: type === 'file' ? size : 0,
      mtime: num('mtime', raw.mtime),
      linkpath: str('linkpath') ?? this.pending.longLink ?? raw.linkname,
      devmajor: raw.devmajor,
      devminor: raw.devminor,
      xattrs,
      dataOffset: this.offset,
    }
    this.pending = {pax: {}}
    this.entries++
    this.handler.entry(entry)
    if (type === 'file') {
      if (size === 0) {
        this.handler.entryEnd()
        this.state = {kind: 'header'}
      } else this.state = {kind: 'data', remaining: size, pad: padded(size) - size}
    } else {
      this.handler.entryEnd()
      this.state = {kind: 'header'}
    }
  }

  private onMeta(typeflag: string, buf: Buffer): void {
    switch (typeflag) {
      case 'x':
        this.pending.pax = parsePax(buf)
        break
      case 'g':
        this.global = {...this.global, ...parsePax(buf)}
        break
      case 'L':
        this.pending.longName = cString(buf, 0, buf.length)
        break
      case 'K':
        this.pending.longLink = cString(buf, 0, buf.length)
        break
    }
  }
}
