import {closeSync, fstatSync, openSync, readSync} from 'node:fs'
import {NsxError} from '../cli/errors.js'
import {decodeHeader, MAX_EXTENDED_HEADER, parsePax, TarFormatError} from './tar.js'

/**
 * The members of an uncompressed tar file and where their data lies, found by reading
 * headers only and seeking over the data: a docker archive's layers are then read in
 * place as byte ranges, never copied out.
 */

export interface TarMember {
  name: string
  type: string
  start: number
  size: number
  /** Target of a symlink ('2') or hard link ('1'). */
  linkname: string
}

const BLOCK = 512
const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK

/** Member names as docker writes them: "./" prefixes and trailing slashes removed. */
export function memberName(n: string): string {
  return n.replace(/^(\.\/)+/, '').replace(/\/+$/, '')
}

export function indexTar(file: string, label = file): Map<string, TarMember> {
  const fd = openSync(file, 'r')
  try {
    const total = fstatSync(fd).size
    const out = new Map<string, TarMember>()
    const h = Buffer.alloc(BLOCK)
    let pos = 0
    let longName: string | undefined
    let longLink: string | undefined
    let paxPath: string | undefined
    let paxLink: string | undefined
    for (;;) {
      if (pos + BLOCK > total) throw NsxError.invalid(`${label}: truncated tar archive (no end-of-archive marker)`)
      readSync(fd, h, 0, BLOCK, pos)
      pos += BLOCK
      if (h.every((b) => b === 0)) break
      let raw
      try {
        raw = decodeHeader(h)
      } catch (err) {
        if (err instanceof TarFormatError) throw NsxError.invalid(`${label}: ${err.message}`)
        throw err
      }
      const dataStart = pos
      if (dataStart + raw.size > total) throw NsxError.invalid(`${label}: truncated tar archive (member ${raw.name} ends past the end of the file)`)
      pos += padded(raw.size)
      if (raw.typeflag === 'x' || raw.typeflag === 'L' || raw.typeflag === 'K') {
        if (raw.size > MAX_EXTENDED_HEADER) throw NsxError.invalid(`${label}: tar extended header of ${raw.size} bytes (more than ${MAX_EXTENDED_HEADER})`)
        const buf = Buffer.alloc(raw.size)
        readSync(fd, buf, 0, raw.size, dataStart)
        if (raw.typeflag === 'L') longName = buf.toString('utf8').replace(/\0.*$/s, '')
        else if (raw.typeflag === 'K') longLink = buf.toString('utf8').replace(/\0.*$/s, '')
        else {
          const pax = parsePax(buf)
          paxPath = pax.path?.toString('utf8')
          paxLink = pax.linkpath?.toString('utf8')
        }
        continue
      }
      if (raw.typeflag === 'g') continue
      const name = memberName(paxPath ?? longName ?? raw.name)
      const linkname = paxLink ?? longLink ?? raw.linkname
      paxPath = longName = paxLink = longLink = undefined
      out.set(name, {name, type: raw.typeflag === '\0' ? '0' : raw.typeflag, start: dataStart, size: raw.size, linkname})
    }
    return out
  } finally {
    closeSync(fd)
  }
}

export function readMember(file: string, m: TarMember): Buffer {
  const fd = openSync(file, 'r')
  try {
    const buf = Buffer.alloc(m.size)
    let off = 0
    while (off < m.size) {
      const n = readSync(fd, buf, off, m.size - off, m.start + off)
      if (n === 0) break
      off += n
    }
    return buf
  } finally {
    closeSync(fd)
  }
}

/**
 * The regular file a member name stands for, following symlinks (relative to the member's
 * directory) and hard links (archive names), as docker save before version 25 writes a layer
 * repeated in an image: "<id>/layer.tar -> ../<first id>/layer.tar". undefined: no such file.
 */
export function resolveMember(members: Map<string, TarMember>, name: string): TarMember | undefined {
  let m = members.get(memberName(name))
  for (let hops = 0; m && (m.type === '1' || m.type === '2'); hops++) {
    if (hops >= 8) return undefined
    let target = m.linkname
    if (m.type === '2') {
      if (target.startsWith('/')) return undefined
      const dir = m.name.includes('/') ? m.name.slice(0, m.name.lastIndexOf('/')) : ''
      const parts: string[] = []
      for (const c of `${dir}/${target}`.split('/')) {
        if (c === '' || c === '.') continue
        if (c === '..') {
          if (parts.length === 0) return undefined
          parts.pop()
        } else parts.push(c)
      }
      target = parts.join('/')
    }
    m = members.get(memberName(target))
  }
  return m
}
