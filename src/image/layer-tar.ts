import {createHash} from 'node:crypto'
import {closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, Stats, writeSync} from 'node:fs'
import {join} from 'node:path'
import {createGzip} from 'node:zlib'
import {lgetxattr} from '../ffi/libc.js'
import type {ExtractStats} from './extract.js'

/**
 * A directory in overlayfs form (an overlay upper directory, or a stored layer's root) as a
 * layer tar in the OCI form: a char 0/0 device is a deletion, written as an empty `.wh.NAME`;
 * a directory with the overlay.opaque xattr gets a `.wh..wh..opq` entry after it. Entries are
 * in sorted order, hard links are written once and linked after, security.capability is kept.
 * One function for build steps, commit and push of layers whose original blob is not kept.
 */

export interface PackedLayer {
  /** sha256 of the tar. */
  diffId: string
  /** sha256 of the file as written (equal to diffId when not compressed). */
  digest: string
  size: number
  tarBytes: number
  compression: 'none' | 'gzip'
  /** Entries written (files, dirs, links, whiteouts). */
  entries: number
  counts: PackCounts
}

const OPAQUE = ['trusted.overlay.opaque', 'user.overlay.opaque']
const KEPT_XATTRS = ['security.capability']

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0').slice(-(width - 1)) + '\0'
}

/** One pax extended-header record: "LEN KEY=VALUE\n", LEN counting itself. */
export function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')])
  let len = body.length + 1
  while (String(len).length + body.length !== len) len++
  return Buffer.concat([Buffer.from(String(len)), body])
}

export interface HeaderFields {
  name: string
  type: string
  size: number
  mode: number
  uid: number
  gid: number
  mtime: number
  linkname?: string
  devmajor?: number
  devminor?: number
}

/** A ustar header block for these fields, checksummed (values past a field's width are cut: pax carries them). */
export function rawHeader(f: HeaderFields): Buffer {
  const h = Buffer.alloc(512)
  h.write(f.name, 0, 100, 'utf8')
  h.write(octal(f.mode & 0o7777, 8), 100, 'latin1')
  h.write(octal(f.uid, 8), 108, 'latin1')
  h.write(octal(f.gid, 8), 116, 'latin1')
  h.write(octal(f.size, 12), 124, 'latin1')
  h.write(octal(Math.max(0, Math.floor(f.mtime)), 12), 136, 'latin1')
  h.write(f.type, 156, 'latin1')
  if (f.linkname) h.write(f.linkname, 157, 100, 'utf8')
  h.write('ustar\x0000', 257, 'latin1')
  h.write(octal(f.devmajor ?? 0, 8), 329, 'latin1')
  h.write(octal(f.devminor ?? 0, 8), 337, 'latin1')
  h.fill(0x20, 148, 156)
  let sum = 0
  for (const b of h) sum += b
  h.write(octal(sum, 7) + ' ', 148, 'latin1')
  return h
}

const padding = (n: number) => Buffer.alloc((512 - (n % 512)) % 512)

/** Headers for one entry: a pax header first when a name, link, id or xattr needs it. */
export function headers(f: HeaderFields, xattrs: Map<string, Buffer>): Buffer[] {
  const pax: Buffer[] = []
  if (Buffer.byteLength(f.name) > 100) pax.push(paxRecord('path', Buffer.from(f.name)))
  if (f.linkname && Buffer.byteLength(f.linkname) > 100) pax.push(paxRecord('linkpath', Buffer.from(f.linkname)))
  if (f.uid > 0o7777777) pax.push(paxRecord('uid', Buffer.from(String(f.uid))))
  if (f.gid > 0o7777777) pax.push(paxRecord('gid', Buffer.from(String(f.gid))))
  if (f.size > 0o77777777777) pax.push(paxRecord('size', Buffer.from(String(f.size))))
  for (const [k, v] of xattrs) pax.push(paxRecord(`SCHILY.xattr.${k}`, v))
  const out: Buffer[] = []
  if (pax.length > 0) {
    const data = Buffer.concat(pax)
    out.push(rawHeader({name: 'PaxHeaders/' + f.name.slice(-80), type: 'x', size: data.length, mode: 0o644, uid: 0, gid: 0, mtime: f.mtime}), data, padding(data.length))
  }
  out.push(rawHeader({...f, uid: Math.min(f.uid, 0o7777777), gid: Math.min(f.gid, 0o7777777), size: Math.min(f.size, 0o77777777777)}))
  return out
}

const major = (rdev: number) => ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfff)
const minor = (rdev: number) => (rdev & 0xff) | ((rdev >> 12) & ~0xff)

function xattr(path: string, name: string): Buffer | undefined {
  try {
    return lgetxattr(path, name)
  } catch {
    return undefined // not supported, or not permitted (trusted.* when rootless)
  }
}

/** What a packed directory held, in the terms of the extractor's stats (for a layer's meta.json). */
export type PackCounts = Pick<ExtractStats, 'files' | 'dirs' | 'symlinks' | 'hardlinks' | 'devices' | 'whiteouts' | 'opaques' | 'bytes'>

/**
 * Walk dir and hand the tar to sink, chunk by chunk (synchronously: the caller decides how to
 * buffer). Returns the number of entries.
 */
export function walkLayerTar(dir: string, sink: (chunk: Buffer) => void, exclude?: (rel: string) => boolean, counts?: PackCounts): number {
  const links = new Map<string, string>()
  const n: PackCounts = counts ?? {files: 0, dirs: 0, symlinks: 0, hardlinks: 0, devices: 0, whiteouts: 0, opaques: 0, bytes: 0}
  let entries = 0
  const buf = Buffer.alloc(1 << 20)
  const emitFile = (abs: string, size: number) => {
    const fd = openSync(abs, 'r')
    try {
      let left = size
      while (left > 0) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, left), null)
        if (n === 0) throw new Error(`${abs} shrank while being read`)
        sink(Buffer.from(buf.subarray(0, n)))
        left -= n
      }
    } finally {
      closeSync(fd)
    }
    sink(padding(size))
  }
  const visit = (rel: string, abs: string, st: Stats) => {
    const base: Omit<HeaderFields, 'name' | 'type' | 'size'> = {mode: st.mode, uid: st.uid, gid: st.gid, mtime: st.mtimeMs / 1000}
    const xs = new Map<string, Buffer>()
    if (!st.isSymbolicLink())
      for (const k of KEPT_XATTRS) {
        const v = xattr(abs, k)
        if (v) xs.set(k, v)
      }
    const slash = rel.lastIndexOf('/')
    const parent = slash < 0 ? '' : rel.slice(0, slash + 1)
    const name = rel.slice(slash + 1)
    if (st.isCharacterDevice() && st.rdev === 0) {
      // A whiteout's own times are when it was made (extraction, a RUN): not content, so 0, reproducibly.
      for (const b of headers({...base, name: `${parent}.wh.${name}`, type: '0', size: 0, mode: 0o644, uid: 0, gid: 0, mtime: 0}, new Map())) sink(b)
      entries++
      n.whiteouts++
      return
    }
    if (st.isDirectory()) {
      for (const b of headers({...base, name: `${rel}/`, type: '5', size: 0}, xs)) sink(b)
      entries++
      n.dirs++
      if (OPAQUE.some((k) => xattr(abs, k)?.toString() === 'y')) {
        for (const b of headers({...base, name: `${rel}/.wh..wh..opq`, type: '0', size: 0, mode: 0o644, uid: 0, gid: 0, mtime: 0}, new Map())) sink(b)
        entries++
        n.opaques++
      }
      walkDir(rel, abs)
      return
    }
    if (st.nlink > 1 && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`
      const first = links.get(key)
      if (first !== undefined) {
        for (const b of headers({...base, name: rel, type: '1', size: 0, linkname: first}, new Map())) sink(b)
        entries++
        n.hardlinks++
        return
      }
      links.set(key, rel)
    }
    entries++
    if (st.isFile()) {
      for (const b of headers({...base, name: rel, type: '0', size: st.size}, xs)) sink(b)
      emitFile(abs, st.size)
      n.files++
      n.bytes += st.size
    } else if (st.isSymbolicLink()) {
      for (const b of headers({...base, name: rel, type: '2', size: 0, linkname: readlinkSync(abs)}, xs)) sink(b)
      n.symlinks++
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      for (const b of headers({...base, name: rel, type: st.isCharacterDevice() ? '3' : '4', size: 0, devmajor: major(st.rdev), devminor: minor(st.rdev)}, xs)) sink(b)
      n.devices++
    } else if (st.isFIFO()) {
      for (const b of headers({...base, name: rel, type: '6', size: 0}, xs)) sink(b)
    } else entries-- // sockets are not archived
  }
  const walkDir = (rel: string, abs: string) => {
    const names = readdirSync(abs).sort()
    for (const n of names) {
      const r = rel === '' ? n : `${rel}/${n}`
      if (exclude?.(r)) continue
      const a = join(abs, n)
      visit(r, a, lstatSync(a))
    }
  }
  walkDir('', dir)
  sink(Buffer.alloc(1024))
  return entries
}

/**
 * A plain tar written to a file descriptor: regular files and directories only, for image
 * archives (nsx save), not layers.
 */
export class ArchiveWriter {
  constructor(private readonly fd: number) {}

  private write(b: Buffer): void {
    let off = 0
    while (off < b.length) off += writeSync(this.fd, b, off)
  }

  dir(name: string): void {
    for (const b of headers({name: name.endsWith('/') ? name : `${name}/`, type: '5', size: 0, mode: 0o755, uid: 0, gid: 0, mtime: 0}, new Map())) this.write(b)
  }

  buffer(name: string, data: Buffer): void {
    for (const b of headers({name, type: '0', size: data.length, mode: 0o644, uid: 0, gid: 0, mtime: 0}, new Map())) this.write(b)
    this.write(data)
    this.write(padding(data.length))
  }

  file(name: string, path: string): void {
    const size = lstatSync(path).size
    for (const b of headers({name, type: '0', size, mode: 0o644, uid: 0, gid: 0, mtime: 0}, new Map())) this.write(b)
    const fd = openSync(path, 'r')
    const buf = Buffer.alloc(1 << 20)
    try {
      let left = size
      while (left > 0) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, left), null)
        if (n === 0) throw new Error(`${path} shrank while being archived`)
        this.write(buf.subarray(0, n))
        left -= n
      }
    } finally {
      closeSync(fd)
    }
    this.write(padding(size))
  }

  end(): void {
    this.write(Buffer.alloc(1024))
  }
}

/** Pack dir into an uncompressed layer tar file, computing its digest as it is written. */
export function packLayer(dir: string, outFile: string, exclude?: (rel: string) => boolean): PackedLayer {
  const tarHash = createHash('sha256')
  let tarBytes = 0
  const fd = openSync(outFile, 'w', 0o600)
  const counts: PackCounts = {files: 0, dirs: 0, symlinks: 0, hardlinks: 0, devices: 0, whiteouts: 0, opaques: 0, bytes: 0}
  try {
    const entries = walkLayerTar(dir, (c) => {
      tarHash.update(c)
      tarBytes += c.length
      let off = 0
      while (off < c.length) off += writeSync(fd, c, off)
    }, exclude, counts)
    const diffId = `sha256:${tarHash.digest('hex')}`
    return {diffId, digest: diffId, size: tarBytes, tarBytes, compression: 'none', entries, counts}
  } finally {
    closeSync(fd)
  }
}

/** Gunzip or unzstd a compressed layer blob into a plain tar file. */
export async function decompressFile(src: string, dest: string, compression: 'gzip' | 'zstd'): Promise<void> {
  const {createReadStream, createWriteStream} = await import('node:fs')
  const {pipeline} = await import('node:stream/promises')
  if (compression === 'gzip') {
    const {createGunzip} = await import('node:zlib')
    await pipeline(createReadStream(src, {highWaterMark: 1 << 20}), createGunzip({chunkSize: 1 << 18}), createWriteStream(dest, {mode: 0o600}))
    return
  }
  const {spawnSync} = await import('node:child_process')
  const r = spawnSync('zstd', ['-d', '-q', '-f', '-o', dest, src], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`zstd -d failed: ${(r.stderr || r.error?.message || '').trim()}`)
}

/** Gzip a file (an uncompressed layer tar) into another, with the digest of the result. */
export async function gzipFile(src: string, dest: string): Promise<{digest: string; size: number}> {
  const {createReadStream, createWriteStream} = await import('node:fs')
  const {pipeline} = await import('node:stream/promises')
  const hash = createHash('sha256')
  let size = 0
  const gz = createGzip({level: 1, chunkSize: 1 << 18})
  gz.on('data', (c: Buffer) => {
    hash.update(c)
    size += c.length
  })
  await pipeline(createReadStream(src, {highWaterMark: 1 << 20}), gz, createWriteStream(dest, {mode: 0o600}))
  return {digest: `sha256:${hash.digest('hex')}`, size}
}
