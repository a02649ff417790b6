import {spawnSync} from 'node:child_process'
import {chmodSync, closeSync, copyFileSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, readlinkSync, readSync, symlinkSync} from 'node:fs'
import {basename, join, posix} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {readImageFile, resolveUser} from '../container/spec.js'
import {resolveSources, SourceNode, SourceRoot, ContextSource} from './context.js'
import {LayerView} from '../image/layer-view.js'

/**
 * COPY and ADD into a new layer directory: docker's rules for sources (a directory's
 * contents, not the directory; several sources or a wildcard need a directory destination
 * ending in /), destinations (relative to WORKDIR, through the image's symlinks), owners
 * (root unless --chown, resolved in the image's /etc/passwd and /etc/group), kept modes
 * and modification times; missing parent directories made 0755, existing ones carried with
 * their metadata. ADD also unpacks a local tar archive (plain, gzip, bzip2, xz, zstd).
 */

export interface CopyRequest {
  keyword: 'COPY' | 'ADD'
  sources: string[]
  dest: string
  workdir: string
  chown?: string
  root: SourceRoot
  /** The stage's layers, lowest first. */
  lowerDirs: string[]
  /** The new layer's directory. */
  layer: string
}

function isArchive(abs: string): boolean {
  const fd = openSync(abs, 'r')
  try {
    const h = Buffer.alloc(512)
    const n = readSync(fd, h, 0, 512, 0)
    if (n >= 2 && h[0] === 0x1f && h[1] === 0x8b) return true
    if (n >= 3 && h.toString('latin1', 0, 3) === 'BZh') return true
    if (n >= 6 && h.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true
    if (n >= 4 && h.readUInt32LE(0) === 0xfd2fb528) return true
    return n >= 262 && h.toString('latin1', 257, 262) === 'ustar'
  } finally {
    closeSync(fd)
  }
}

export function copyIntoLayer(r: CopyRequest): {copied: number} {
  const view = new LayerView(r.lowerDirs)
  const where = `${r.keyword}`
  if (r.sources.length === 0) throw NsxError.invalid(`${where} needs a source and a destination`)
  for (const s of r.sources) if (/^[a-z]+:\/\//i.test(s)) throw NsxError.invalid(`${where} ${s}: remote URLs are not supported by nsx build (download it into the context)`)
  const nodes: SourceNode[] = []
  for (const s of r.sources) {
    const found = resolveSources(r.root, s)
    if (found.length === 0) {
      if (/[*?[]/.test(s)) continue // a wildcard matching nothing is an error only if nothing at all matches
      throw NsxError.notFound(`${where} failed: ${s}: not found in ${r.root.label}${r.root instanceof ContextSource ? ' (or excluded by .dockerignore)' : ''}`)
    }
    nodes.push(...found)
  }
  if (nodes.length === 0) throw NsxError.invalid(`${where} failed: no source files matched ${r.sources.join(' ')}`)
  let dest = r.dest
  if (!dest.startsWith('/')) dest = posix.join(r.workdir || '/', dest) + (dest.endsWith('/') || dest === '.' ? '/' : '')
  const several = nodes.length > 1 || r.sources.some((s) => /[*?[]/.test(s))
  const destNode = view.lookup(view.resolve(dest))
  const destIsDir = dest.endsWith('/') || destNode?.st.isDirectory() === true
  if (several && !destIsDir) throw NsxError.invalid(`${where} with several sources needs a directory destination ending in / (got ${r.dest})`)
  const destRel = view.resolve(dest)

  let owner = {uid: 0, gid: 0}
  if (r.chown !== undefined) {
    const u = resolveUser(r.chown, readImageFile(r.lowerDirs, 'etc/passwd'), readImageFile(r.lowerDirs, 'etc/group'))
    owner = {uid: u.uid, gid: u.gid}
  }
  let copied = 0
  const ensureDir = (rel: string) => {
    const parts = rel.split('/').filter((p) => p !== '')
    let cur = ''
    for (const p of parts) {
      cur = cur === '' ? p : `${cur}/${p}`
      const abs = join(r.layer, cur)
      try {
        if (lstatSync(abs).isDirectory()) continue
      } catch {
        // below
      }
      const lower = view.lookup(cur)
      if (lower && lower.st.isDirectory()) {
        mkdirSync(abs, {mode: 0o755})
        chmodSync(abs, lower.st.mode & 0o7777)
        lchownSync(abs, lower.st.uid, lower.st.gid)
        lutimesSync(abs, lower.st.atime, lower.st.mtime)
      } else {
        mkdirSync(abs, {mode: 0o755})
        chmodSync(abs, 0o755)
        lchownSync(abs, owner.uid, owner.gid)
      }
    }
  }
  const copyNode = (n: SourceNode, targetRel: string) => {
    const abs = join(r.layer, targetRel)
    const st = n.st
    if (st.isDirectory()) {
      ensureDir(targetRel)
      for (const name of r.root.list(n.rel)) {
        const child = r.root.stat(n.rel === '' ? name : `${n.rel}/${name}`)
        if (child) copyNode(child, targetRel === '' ? name : `${targetRel}/${name}`)
      }
      chmodSync(abs, st.mode & 0o7777)
      lchownSync(abs, owner.uid, owner.gid)
      lutimesSync(abs, st.atime, st.mtime)
    } else if (st.isFile()) {
      ensureDir(posix.dirname(targetRel) === '.' ? '' : posix.dirname(targetRel))
      copyFileSync(n.abs, abs)
      chmodSync(abs, st.mode & 0o7777)
      lchownSync(abs, owner.uid, owner.gid)
      lutimesSync(abs, st.atime, st.mtime)
    } else if (st.isSymbolicLink()) {
      ensureDir(posix.dirname(targetRel) === '.' ? '' : posix.dirname(targetRel))
      symlinkSync(readlinkSync(n.abs), abs)
      lchownSync(abs, owner.uid, owner.gid)
    } else return // sockets, fifos, devices: not copied
    copied++
  }
  for (const n of nodes) {
    if (n.st.isDirectory()) copyNode(n, destRel)
    else if (r.keyword === 'ADD' && n.st.isFile() && r.root instanceof ContextSource && isArchive(n.abs)) {
      ensureDir(destRel)
      const t = spawnSync('tar', ['-x', '-p', '--same-owner', '-f', n.abs, '-C', join(r.layer, destRel)], {encoding: 'utf8'})
      if (t.status !== 0) throw NsxError.invalid(`ADD ${n.rel}: cannot unpack the archive: ${(t.stderr || '').trim().split('\n').pop()}`)
      copied++
    } else copyNode(n, destIsDir ? (destRel === '' ? basename(n.rel) : `${destRel}/${basename(n.rel)}`) : destRel)
  }
  return {copied}
}

/** WORKDIR's directory, made in a layer when the image does not have it. Returns false when it exists. */
export function makeWorkdir(lowerDirs: string[], layer: string, path: string): boolean {
  const view = new LayerView(lowerDirs)
  const rel = view.resolve(path)
  if (view.lookup(rel)?.st.isDirectory()) return false
  let cur = ''
  for (const p of rel.split('/').filter((x) => x !== '')) {
    cur = cur === '' ? p : `${cur}/${p}`
    const lower = view.lookup(cur)
    const abs = join(layer, cur)
    mkdirSync(abs, {mode: 0o755})
    if (lower?.st.isDirectory()) {
      chmodSync(abs, lower.st.mode & 0o7777)
      lchownSync(abs, lower.st.uid, lower.st.gid)
    } else chmodSync(abs, 0o755)
  }
  return true
}
