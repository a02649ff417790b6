import {spawnSync} from 'node:child_process'
import {closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, rmSync, Stats, symlinkSync, unlinkSync, writeSync} from 'node:fs'
import {posix} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {headers, type HeaderFields} from '../image/layer-tar.js'
import {type TarEntry, TarParser} from '../image/tar.js'
import {fdPath, InRootError, openResolvedDir, type Resolved, resolveInRoot} from './resolve.js'

/**
 * docker cp's two halves over a root directory fd (a container's, or the host's `/`): the stat of
 * a path (the Engine API's `X-Docker-Container-Path-Stat`), a path packed as a tar whose entries
 * start with the path's base name (`.` for a path ending in `/.`), and a tar extracted into a
 * directory. Every path, the archive's entries included, is resolved inside the root
 * (src/copy/resolve.ts): a link in the container never reaches the host.
 */

/** The Engine API's ContainerPathStat; `mode` is Go's os.FileMode. */
export interface PathStat {
  name: string
  size: number
  mode: number
  mtime: string
  linkTarget: string
}

/** A path that is not there: docker's 404 for the archive endpoints. */
/** A path not in the container (not found, 404). */
export class PathNotFoundError extends NsxError {
  constructor(message: string, exitCode = 1) {
    super(message, exitCode, 'not-found')
  }
}

/** Go's os.FileMode bits for a stat's type and permissions (what the docker CLI decodes). */
export function goFileMode(st: Stats): number {
  let m = st.mode & 0o777
  if (st.mode & 0o4000) m |= 1 << 23
  if (st.mode & 0o2000) m |= 1 << 22
  if (st.mode & 0o1000) m |= 1 << 20
  if (st.isDirectory()) m |= 2 ** 31
  else if (st.isSymbolicLink()) m |= 1 << 27
  else if (st.isFIFO()) m |= 1 << 25
  else if (st.isSocket()) m |= 1 << 24
  else if (st.isCharacterDevice()) m |= (1 << 26) | (1 << 21)
  else if (st.isBlockDevice()) m |= 1 << 26
  return m >>> 0
}

/** `/` + path as docker keeps it: cleaned, but a trailing `/` or `/.` kept (they mean "a directory", "its content"). */
export function containerPath(p: string): string {
  const clean = posix.normalize(`/${p}`).replace(/(.)\/+$/, '$1')
  if (/(^|\/)\.$/.test(p) && clean !== '/') return `${clean}/.`
  if (p.endsWith('/') && clean !== '/') return `${clean}/`
  return clean
}

/** docker's ResolvePath: the directory part followed through links, the last name not (unless the path ends in `/` or `/.`). */
function resolvePath(root: number, path: string, missing: () => never): Resolved & {st: Stats} {
  try {
    const r = resolveInRoot(root, path)
    if (!r.st) {
      r.release()
      return missing()
    }
    return r as Resolved & {st: Stats}
  } catch (err) {
    if (err instanceof InRootError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return missing()
    throw err
  }
}

/** The stat of PATH inside the root (docker's StatPath). `where` names the container in the not-found message. */
export function statPath(root: number, path: string, where: string): PathStat {
  const abs = containerPath(path)
  const missing = (): never => {
    throw new PathNotFoundError(`Could not find the file ${path} in container ${where}`, 1)
  }
  const r = resolvePath(root, abs, missing)
  try {
    let linkTarget = ''
    if (r.st.isSymbolicLink()) {
      try {
        const t = resolveInRoot(root, abs, {followLast: true})
        linkTarget = t.path
        t.release()
      } catch (err) {
        // A dangling link through missing directories: its target as written, from its directory.
        if (!(err instanceof InRootError)) throw err
        linkTarget = posix.resolve(posix.dirname(r.path), readlinkSync(fdPath(r.parent, r.name)))
      }
    }
    const base = abs === '/' ? '/' : posix.basename(abs.replace(/\/\.?$/, ''))
    return {name: base, size: r.st.size, mode: goFileMode(r.st), mtime: r.st.mtime.toISOString(), linkTarget}
  } finally {
    r.release()
  }
}

const padding = (n: number) => Buffer.alloc((512 - (n % 512)) % 512)
const major = (rdev: number) => ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfff)
const minor = (rdev: number) => (rdev & 0xff) | ((rdev >> 12) & ~0xff)

export interface PackOptions {
  /** Owner written into each header (nsx cp without -a: root's); else the file's, through ids. */
  owner?: {uid: number; gid: number}
  /** Host ids to the ids the archive speaks (a --userns container's files are stored shifted). */
  ids?: (uid: number, gid: number) => {uid: number; gid: number}
}

/**
 * PATH inside the root as a tar stream, docker's archive of a path: its entries are named from
 * the path's base name (`hostname`, `etc/`, `etc/passwd`), or `.` for a path ending in `/.`; a
 * symlink as the last name is archived as the link. Files are read through fds opened without
 * following links, a chunk at a time (the consumer's pace).
 */
export function packPath(root: number, path: string, where: string, opts: PackOptions = {}): {stat: PathStat; tar: AsyncGenerator<Buffer>} {
  const stat = statPath(root, path, where)
  const abs = containerPath(path)
  const prefix = /\/\.$/.test(abs) || abs === '/' ? '.' : posix.basename(abs.replace(/\/$/, ''))
  return {stat, tar: packGenerator(root, abs, prefix, where, opts)}
}

async function* packGenerator(root: number, abs: string, prefix: string, where: string, opts: PackOptions): AsyncGenerator<Buffer> {
  const r = resolvePath(root, abs, () => {
    throw new PathNotFoundError(`Could not find the file ${abs} in container ${where}`, 1)
  })
  const links = new Map<string, string>()
  const buf = Buffer.alloc(1 << 16)
  const owner = (st: Stats) => opts.owner ?? (opts.ids ? opts.ids(st.uid, st.gid) : {uid: st.uid, gid: st.gid})
  const header = (name: string, st: Stats, type: string, extra: Partial<HeaderFields> = {}) =>
    Buffer.concat(headers({name, type, size: 0, mode: st.mode, ...owner(st), mtime: st.mtimeMs / 1000, ...extra}, new Map()))
  // One entry; a directory's children follow it, walked through its own fd.
  async function* entry(dirFd: number, name: string, st: Stats, entryName: string): AsyncGenerator<Buffer> {
    if (st.nlink > 1 && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`
      const first = links.get(key)
      if (first !== undefined) {
        yield header(entryName, st, '1', {linkname: first})
        return
      }
      links.set(key, entryName)
    }
    const at = name === '' ? fdPath(dirFd) : fdPath(dirFd, name)
    if (st.isDirectory()) {
      yield header(entryName === '.' ? './' : `${entryName}/`, st, '5')
      const fd = name === '' ? openSync(at, constants.O_RDONLY | constants.O_DIRECTORY) : openSync(at, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW)
      try {
        for (const child of readdirSync(fdPath(fd)).sort()) {
          let cst: Stats
          try {
            cst = lstatSync(fdPath(fd, child))
          } catch {
            continue // gone since the readdir
          }
          yield* entry(fd, child, cst, `${entryName}/${child}`)
        }
      } finally {
        closeSync(fd)
      }
    } else if (st.isFile()) {
      const fd = openSync(at, constants.O_RDONLY | constants.O_NOFOLLOW)
      try {
        yield header(entryName, st, '0', {size: st.size})
        let left = st.size
        while (left > 0) {
          const n = readSync(fd, buf, 0, Math.min(buf.length, left), null)
          // A file that shrank while read is padded with zeros (its header is out already), as GNU tar does.
          if (n === 0) {
            yield Buffer.alloc(left)
            break
          }
          yield Buffer.from(buf.subarray(0, n))
          left -= n
        }
        yield padding(st.size)
      } finally {
        closeSync(fd)
      }
    } else if (st.isSymbolicLink()) {
      yield header(entryName, st, '2', {linkname: readlinkSync(at)})
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      yield header(entryName, st, st.isCharacterDevice() ? '3' : '4', {devmajor: major(st.rdev), devminor: minor(st.rdev)})
    } else if (st.isFIFO()) {
      yield header(entryName, st, '6')
    } // sockets are not archived
  }
  try {
    yield* entry(r.parent, r.name, r.st, prefix)
    yield Buffer.alloc(1024)
  } finally {
    r.release()
  }
}

export interface ExtractOptions {
  /** docker's noOverwriteDirNonDir: a directory is not replaced by a non-directory, nor the reverse. */
  noOverwriteDirNonDir?: boolean
  /** Every entry owned by these ids (copyUIDGID with a container user, nsx cp without -a); else the entries' own. */
  owner?: {uid: number; gid: number}
  /** Leave ownership to whoever extracts (the docker CLI's NoLchown, copying out without -a). */
  noChown?: boolean
  /** The archive's ids to the ids stored on disk. */
  ids?: (uid: number, gid: number) => {uid: number; gid: number}
  /** Rename entries whose first component is `from` to `to` (docker's RebaseArchiveEntries). */
  rebase?: {from: string; to: string}
}

function rebased(name: string, rb?: {from: string; to: string}): string {
  if (!rb) return name
  const n = name.replace(/^\.\/(?=.)/, rb.from === '.' ? './' : '')
  if (n === rb.from || n === `${rb.from}/`) return rb.to + n.slice(rb.from.length)
  if (n.startsWith(`${rb.from}/`)) return rb.to + n.slice(rb.from.length)
  return n
}

/**
 * Extract a tar into DIR inside the root (which must be a directory: docker's "extraction point").
 * Each entry's parent is resolved inside the root (a link in the way is followed there, never out
 * of it; missing directories are made), its last name created without following anything.
 * Directories' times are set last, once their content is written.
 */
export async function extractTar(root: number, dir: string, input: AsyncIterable<Buffer | string>, where: string, opts: ExtractOptions = {}): Promise<{entries: number}> {
  const dest = resolvePath(root, containerPath(dir), () => {
    throw new PathNotFoundError(`Could not find the file ${dir} in container ${where}`, 1)
  })
  const destPath = dest.path
  const destIsDir = dest.st.isDirectory()
  dest.release()
  if (!destIsDir) throw NsxError.invalid('extraction point is not a directory', 1)
  const dirTimes: {path: string; atime: number; mtime: number}[] = []
  let current: {fd: number; mtime: number} | undefined
  let count = 0
  const ids = (e: TarEntry) => {
    const o = opts.owner ?? {uid: e.uid, gid: e.gid}
    return opts.ids ? opts.ids(o.uid, o.gid) : o
  }
  const entryPath = (name: string) => {
    const comps = rebased(name, opts.rebase).split('/').filter((c) => c !== '' && c !== '.')
    if (comps.includes('..')) throw NsxError.invalid(`refusing archive entry ${JSON.stringify(name)}: '..' in its name`, 1)
    return comps
  }
  const parser = new TarParser({
    entry(e: TarEntry) {
      const comps = entryPath(e.path)
      if (comps.length === 0) return // the extraction point itself: left as it is
      count++
      const full = `${destPath}/${comps.join('/')}`
      const r = resolveInRoot(root, full, {mkdirs: true})
      try {
        const at = fdPath(r.parent, r.name)
        const isDir = e.type === 'dir'
        if (r.st) {
          if (r.st.isDirectory() && isDir) {
            // kept; its mode, owner and times are the entry's
          } else {
            if (opts.noOverwriteDirNonDir && r.st.isDirectory() && !isDir) throw NsxError.invalid(`cannot overwrite directory "${full}" with non-directory "${e.path}"`, 1)
            if (opts.noOverwriteDirNonDir && !r.st.isDirectory() && isDir) throw NsxError.invalid(`cannot overwrite non-directory "${full}" with directory "${e.path}"`, 1)
            if (r.st.isDirectory()) rmSync(at, {recursive: true})
            else unlinkSync(at)
          }
        }
        const {uid, gid} = ids(e)
        const meta = (fd: number) => {
          if (!opts.noChown) fchownSync(fd, uid, gid)
          fchmodSync(fd, e.mode & 0o7777)
        }
        switch (e.type) {
          case 'dir': {
            if (!r.st) mkdirSync(at, 0o700)
            const fd = openSync(at, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW)
            try {
              meta(fd)
            } finally {
              closeSync(fd)
            }
            dirTimes.push({path: full, atime: e.mtime, mtime: e.mtime})
            break
          }
          case 'file': {
            const fd = openSync(at, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
            current = {fd, mtime: e.mtime}
            meta(fd)
            return
          }
          case 'symlink':
            symlinkSync(e.linkpath, at)
            if (!opts.noChown) lchownSync(at, uid, gid)
            lutimesSync(at, e.mtime, e.mtime)
            break
          case 'hardlink': {
            const target = entryPath(e.linkpath)
            const t = resolveInRoot(root, `${destPath}/${target.join('/')}`)
            try {
              if (!t.st || t.name === '') throw NsxError.invalid(`hard link ${e.path}: its target ${e.linkpath} is not in the archive`, 1)
              linkSync(fdPath(t.parent, t.name), at)
            } finally {
              t.release()
            }
            break
          }
          default: {
            // Devices and fifos: coreutils' mknod, on this process's fd path (its own /proc/self is another).
            const kind = {char: ['c', String(e.devmajor), String(e.devminor)], block: ['b', String(e.devmajor), String(e.devminor)], fifo: ['p']}[e.type as 'char' | 'block' | 'fifo']
            const made = spawnSync('mknod', ['-m', (e.mode & 0o7777).toString(8), `/proc/${process.pid}/fd/${r.parent}/${r.name}`, ...kind], {encoding: 'utf8'})
            if (made.status !== 0) throw NsxError.internal(`cannot make ${full}: ${(made.stderr || '').trim().replace(/^mknod: /, '') || 'mknod failed'}`, 1)
            if (!opts.noChown) lchownSync(at, uid, gid)
            lutimesSync(at, e.mtime, e.mtime)
          }
        }
      } finally {
        r.release()
      }
    },
    data(chunk: Buffer) {
      let off = 0
      while (off < chunk.length) off += writeSync(current!.fd, chunk, off)
    },
    entryEnd() {
      if (!current) return
      const {fd, mtime} = current
      current = undefined
      try {
        futimesSync(fd, mtime, mtime) // after the data: a write moves mtime
      } finally {
        closeSync(fd)
      }
    },
  })
  try {
    for await (const chunk of input) parser.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    parser.end()
  } finally {
    if (current) closeSync((current as {fd: number}).fd)
  }
  for (const d of dirTimes.reverse()) {
    try {
      const r = resolveInRoot(root, d.path)
      try {
        if (r.st?.isDirectory()) lutimesSync(fdPath(r.parent, r.name), d.atime, d.mtime)
      } finally {
        r.release()
      }
    } catch {
      // gone or replaced by a later entry
    }
  }
  return {entries: count}
}
