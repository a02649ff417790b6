import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  linkSync,
  lchownSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  chmodSync,
  writeSync,
} from 'node:fs'
import {NsxError} from '../cli/errors.js'
import {lsetxattr, mknod, S_IFBLK, S_IFCHR, S_IFIFO, SyscallError} from '../ffi/libc.js'
import {entryComponents, linkTargetComponents, UnsafeEntryError, whiteoutOf} from './entry-path.js'
import type {TarEntry, TarHandler} from './tar.js'

/**
 * Applies tar entries to a fresh, private layer directory, in the form overlayfs reads:
 * whiteouts become char 0/0 device nodes, opaque markers an overlay.opaque xattr.
 *
 * Why this cannot write outside the layer: the directory is new and only this extractor
 * writes to it, so `nodes` knows the type of everything in it. Every path is built from
 * checked components (entry-path.ts) and every ancestor must be a directory *we* created;
 * an ancestor that is a symlink is refused, never followed. Files are created with
 * O_EXCL|O_NOFOLLOW after unlinking whatever was there, so no write goes through an old
 * link; metadata of directories is applied at the end through an O_NOFOLLOW descriptor,
 * and only to paths that are still directories (the containerd CVE-2021-32760 pattern).
 */

export type NodeKind = 'dir' | 'file' | 'symlink' | 'other'

export interface ExtractOptions {
  /** Running as root: ownership, device nodes and trusted.* xattrs are possible. */
  privileged: boolean
  /**
   * Longest path (bytes) an entry may have in the layer: what keeps every path of the
   * layer under PATH_MAX where it is finally published, so the store can stat and remove it.
   */
  maxPathBytes?: number
}

export interface ExtractStats {
  entries: number
  files: number
  dirs: number
  symlinks: number
  hardlinks: number
  devices: number
  whiteouts: number
  opaques: number
  /** Bytes of regular-file data written. */
  bytes: number
  /** xattrs not set: overlay.* from the tar (never trusted), or not permitted/supported here. */
  xattrsSkipped: number
  /** Entries whose owner could not be kept (rootless extraction). */
  ownersFlattened: number
}

interface DirMeta {
  mode: number
  uid: number
  gid: number
  mtime: number
}

const OPEN_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW
const OPEN_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW

/** The xattr overlayfs reads for opaque directories: trusted.* as root, user.* for rootless (userxattr) mounts. */
export function opaqueXattr(privileged: boolean): string {
  return privileged ? 'trusted.overlay.opaque' : 'user.overlay.opaque'
}

const printable = (s: string) => JSON.stringify(s).slice(1, -1)

export class LayerExtractor implements TarHandler {
  readonly stats: ExtractStats = {
    entries: 0,
    files: 0,
    dirs: 0,
    symlinks: 0,
    hardlinks: 0,
    devices: 0,
    whiteouts: 0,
    opaques: 0,
    bytes: 0,
    xattrsSkipped: 0,
    ownersFlattened: 0,
  }
  private readonly nodes = new Map<string, NodeKind>([['', 'dir']])
  private readonly dirMeta = new Map<string, DirMeta>()
  private fd: number | undefined
  private current: {abs: string; e: TarEntry} | undefined

  constructor(
    private readonly root: string,
    private readonly opts: ExtractOptions,
  ) {}

  entry(e: TarEntry): void {
    this.stats.entries++
    const comps = entryComponents(e.path)
    const max = this.opts.maxPathBytes
    if (max !== undefined && Buffer.byteLength(e.path) > max && Buffer.byteLength(comps.join('/')) > max)
      throw new UnsafeEntryError(`refusing entry '${printable(e.path.slice(0, 60))}...': a path of more than ${max} bytes in the layer`)
    if (comps.length === 0) {
      // "." (or "./"): the layer root. Only a directory may stand there (umoci CVE-2021-29136).
      if (e.type !== 'dir') throw new UnsafeEntryError(`refusing entry '${printable(e.path)}': a ${e.type} in place of the layer root`)
      this.dirMeta.set('', this.metaOf(e))
      this.setXattrs(this.root, e)
      return
    }
    const parent = this.ensureParents(comps, e.path)
    const base = comps[comps.length - 1]
    const rel = parent === '' ? base : `${parent}/${base}`
    const wh = whiteoutOf(base, e.path)
    if (wh.kind === 'aufs-meta') return
    if (wh.kind === 'opaque') {
      this.setOpaque(parent)
      return
    }
    if (wh.kind === 'whiteout') {
      const target = parent === '' ? wh.name : `${parent}/${wh.name}`
      this.removeExisting(target)
      try {
        mknod(this.abs(target), S_IFCHR, 0, 0)
      } catch (err) {
        // Unprivileged 0/0 whiteouts are allowed since Linux 5.8 (vfs: allow unprivileged whiteout creation).
        if ((err as SyscallError).code === 'EPERM')
          throw NsxError.internal(`cannot create the whiteout for '${printable(e.path)}': ${this.opts.privileged ? 'mknod not permitted' : 'rootless whiteouts need Linux 5.8 or later'}`)
        throw err
      }
      this.nodes.set(target, 'other')
      this.stats.whiteouts++
      return
    }
    if (this.ownerLost(e)) this.stats.ownersFlattened++
    const abs = this.abs(rel)
    switch (e.type) {
      case 'dir':
        if (this.nodes.get(rel) !== 'dir') {
          this.removeExisting(rel)
          mkdirSync(abs, 0o700)
          this.nodes.set(rel, 'dir')
        }
        this.dirMeta.set(rel, this.metaOf(e))
        this.setXattrs(abs, e)
        this.stats.dirs++
        return
      case 'file':
        this.removeExisting(rel)
        this.fd = openSync(abs, OPEN_NEW, 0o600)
        this.nodes.set(rel, 'file')
        this.current = {abs, e}
        this.stats.files++
        return
      case 'symlink':
        this.removeExisting(rel)
        symlinkSync(e.linkpath, abs)
        this.nodes.set(rel, 'symlink')
        if (this.opts.privileged) lchownSync(abs, e.uid, e.gid)
        lutimesSync(abs, e.mtime, e.mtime)
        this.stats.symlinks++
        return
      case 'hardlink': {
        const tcomps = linkTargetComponents(e.path, e.linkpath)
        const target = tcomps.join('/')
        this.checkExistingAncestors(tcomps, e.path)
        const kind = this.nodes.get(target)
        if (kind === undefined) throw NsxError.invalid(`hard link '${printable(e.path)}' points to '${printable(e.linkpath)}', which is not in the layer before it`)
        if (kind === 'dir') throw new UnsafeEntryError(`refusing hard link '${printable(e.path)}': target is a directory`)
        if (target === rel) return // a link to itself: nothing to do
        this.removeExisting(rel)
        linkSync(this.abs(target), abs) // link(2) never follows a symlink source
        this.nodes.set(rel, kind)
        this.stats.hardlinks++
        return
      }
      case 'char':
      case 'block':
      case 'fifo': {
        if (e.type !== 'fifo' && !this.opts.privileged)
          throw NsxError.internal(`layer holds device node '${printable(e.path)}' (${e.type} ${e.devmajor}:${e.devminor}); device nodes can only be created as root`)
        this.removeExisting(rel)
        const fmt = e.type === 'char' ? S_IFCHR : e.type === 'block' ? S_IFBLK : S_IFIFO
        mknod(abs, fmt | 0o600, e.devmajor, e.devminor)
        this.nodes.set(rel, 'other')
        // Our own fresh node, not a symlink: path-based calls are safe here.
        if (this.opts.privileged) lchownSync(abs, e.uid, e.gid)
        chmodSync(abs, e.mode)
        lutimesSync(abs, e.mtime, e.mtime)
        this.setXattrs(abs, e)
        if (e.type !== 'fifo') this.stats.devices++
        return
      }
    }
  }

  data(chunk: Buffer): void {
    // writeSync may write less than asked on some filesystems; loop until done.
    let off = 0
    while (off < chunk.length) off += writeSync(this.fd!, chunk, off, chunk.length - off)
    this.stats.bytes += chunk.length
  }

  entryEnd(): void {
    if (this.fd === undefined || this.current === undefined) return
    const {abs, e} = this.current
    const fd = this.fd
    this.fd = undefined
    this.current = undefined
    try {
      // Order matters: chown clears setuid/setgid bits and security.capability, so it comes
      // first; xattrs come before chmod, since user.* needs write access to a read-only file.
      if (this.opts.privileged) fchownSync(fd, e.uid, e.gid)
      this.setXattrs(abs, e)
      fchmodSync(fd, e.mode)
      futimesSync(fd, e.mtime, e.mtime)
    } finally {
      closeSync(fd)
    }
  }

  /** Apply directory metadata, deepest first (so setting a child does not touch a parent's mtime after it). */
  finish(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd)
      this.fd = undefined
    }
    const paths = [...this.nodes.entries()].filter(([, k]) => k === 'dir').map(([p]) => p)
    paths.sort((a, b) => depth(b) - depth(a))
    for (const p of paths) {
      const m = this.dirMeta.get(p) ?? {mode: 0o755, uid: 0, gid: 0, mtime: 0}
      const fd = openSync(this.abs(p), OPEN_DIR)
      try {
        if (this.opts.privileged) fchownSync(fd, m.uid, m.gid)
        fchmodSync(fd, m.mode)
        if (this.dirMeta.has(p)) futimesSync(fd, m.mtime, m.mtime)
      } finally {
        closeSync(fd)
      }
    }
  }

  /** Close what is open after a failure; the caller removes the directory. */
  abort(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd)
      } catch {
        /* already failing */
      }
      this.fd = undefined
    }
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`
  }

  private metaOf(e: TarEntry): DirMeta {
    return {mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime}
  }

  private ownerLost(e: TarEntry): boolean {
    if (this.opts.privileged) return false
    return e.uid !== 0 || e.gid !== 0
  }

  /** Parent path of comps, creating missing directories; refuses a parent that is a symlink or not a directory. */
  private ensureParents(comps: string[], name: string): string {
    let p = ''
    for (let i = 0; i < comps.length - 1; i++) {
      p = p === '' ? comps[i] : `${p}/${comps[i]}`
      const kind = this.nodes.get(p)
      if (kind === 'dir') continue
      if (kind === 'symlink') throw new UnsafeEntryError(`refusing entry '${printable(name)}': path goes through symlink '${printable(p)}'`)
      if (kind !== undefined) throw new UnsafeEntryError(`refusing entry '${printable(name)}': '${printable(p)}' is not a directory`)
      mkdirSync(this.abs(p), 0o700)
      this.nodes.set(p, 'dir')
    }
    return p
  }

  private checkExistingAncestors(comps: string[], name: string): void {
    let p = ''
    for (let i = 0; i < comps.length - 1; i++) {
      p = p === '' ? comps[i] : `${p}/${comps[i]}`
      const kind = this.nodes.get(p)
      if (kind === 'symlink') throw new UnsafeEntryError(`refusing hard link '${printable(name)}': target path goes through symlink '${printable(p)}'`)
      if (kind !== 'dir') throw NsxError.invalid(`hard link '${printable(name)}' points into '${printable(p)}', which is not a directory in the layer`)
    }
  }

  /** Replace semantics of tar: a later entry replaces an earlier one of the same name. */
  private removeExisting(rel: string): void {
    const kind = this.nodes.get(rel)
    if (kind === undefined) return
    if (kind === 'dir') {
      rmSync(this.abs(rel), {recursive: true, force: true}) // rm does not follow symlinks inside
      const prefix = `${rel}/`
      for (const k of [...this.nodes.keys()]) if (k.startsWith(prefix)) this.nodes.delete(k)
      for (const k of [...this.dirMeta.keys()]) if (k.startsWith(prefix)) this.dirMeta.delete(k)
      this.dirMeta.delete(rel)
    } else {
      rmSync(this.abs(rel), {force: true})
    }
    this.nodes.delete(rel)
  }

  private setOpaque(dir: string): void {
    const name = opaqueXattr(this.opts.privileged)
    try {
      lsetxattr(this.abs(dir), name, Buffer.from('y'))
    } catch (err) {
      const code = (err as SyscallError).code
      if (code === 'EPERM')
        throw NsxError.internal(`cannot mark '${printable(dir)}' opaque: setting ${name} is not permitted (trusted.* xattrs need CAP_SYS_ADMIN)`)
      if (code === 'EOPNOTSUPP' || code === 'ENOTSUP')
        throw NsxError.internal(`cannot mark '${printable(dir)}' opaque: the store's filesystem does not support the ${name} xattr; put NSX_ROOT on ext4, xfs, btrfs or tmpfs`)
      throw err
    }
    this.stats.opaques++
  }

  private setXattrs(abs: string, e: TarEntry): void {
    for (const [name, value] of e.xattrs) {
      // overlay.* from an image could forge whiteouts, opaque dirs or redirects: never applied.
      if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.')) {
        this.stats.xattrsSkipped++
        continue
      }
      if (!this.opts.privileged && !name.startsWith('user.')) {
        this.stats.xattrsSkipped++
        continue
      }
      try {
        lsetxattr(abs, name, value)
      } catch (err) {
        const code = (err as SyscallError).code
        if (code === 'EOPNOTSUPP' || code === 'ENOTSUP' || code === 'EPERM' || code === 'EACCES') this.stats.xattrsSkipped++
        else throw err
      }
    }
  }
}

function depth(p: string): number {
  if (p === '') return 0
  let n = 1
  for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) === 47) n++
  return n
}
