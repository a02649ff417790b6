import {closeSync, constants, lstatSync, openSync, readlinkSync, statSync} from 'node:fs'
import {posix, resolve as hostResolve} from 'node:path'
import type {Readable, Writable} from 'node:stream'
import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {extractTar, packPath, PathNotFoundError, type PathStat, statPath} from './archive.js'
import {InRootError} from './resolve.js'
import {checkWritable, type ContainerRoot, copyFailure, withContainerRoot} from './root.js'

/**
 * `nsx cp` (docker cp): CONTAINER:SRC to a host DEST, a host SRC to CONTAINER:DEST, `-` for a tar
 * on stdin or stdout. The docker CLI's rules, which it applies on its side of the Engine API
 * (cli/command/container/cp.go and moby's pkg/archive copy.go): the archive's entries are named
 * from the source's base name and renamed to the destination's when the destination does not
 * exist or is a file (a directory into a missing path takes that name, `SRC/.` copies the
 * content, a file over a file replaces it); a directory never replaces a file nor the reverse.
 * The container's side goes through the same functions as the Engine API's archive endpoints.
 */

export interface CpOptions {
  /** -a: owners kept (into a container: the source's ids; out of one: the container's). */
  archive?: boolean
  /** -L: a symlink as the source is followed. */
  followLink?: boolean
  stdin?: Readable
  stdout?: Writable
}

/** CONTAINER:PATH or a host path (one starting with `/` or `.`, or holding no `:`), as docker splits them. */
export function splitCpArg(arg: string): {container?: string; path: string} {
  if (arg.startsWith('/') || arg.startsWith('.')) return {path: arg}
  const i = arg.indexOf(':')
  if (i <= 0) return {path: arg}
  return {container: arg.slice(0, i), path: arg.slice(i + 1)}
}

interface CopyInfo {
  path: string
  exists: boolean
  isDir: boolean
  rebaseName?: string
}

/** moby's SplitPathDirEntry: the parent and the base, a trailing `/.` kept as the base `.`. */
function splitDirEntry(p: string): {dir: string; base: string} {
  let clean = posix.normalize(p).replace(/(.)\/+$/, '$1')
  if (/(^|\/)\.$/.test(p) && clean !== '.') clean = `${clean}/.`
  return {dir: posix.dirname(clean), base: posix.basename(clean)}
}

/** moby's PrepareArchiveCopy: where to extract, and how the archive's first component is renamed. */
function prepareCopy(src: CopyInfo, dst: CopyInfo): {dir: string; rebase?: {from: string; to: string}} {
  const {dir: dstDir, base: dstBase} = splitDirEntry(dst.path)
  // The archive is named from the source's own base; a followed link's is renamed back to the link's name.
  const srcBase = splitDirEntry(src.path).base
  if (dst.exists && dst.isDir) return {dir: dst.path, ...(src.rebaseName ? {rebase: {from: srcBase, to: src.rebaseName}} : {})}
  if (dst.exists && src.isDir) throw new NsxError('cannot copy directory', 1)
  if (!dst.exists && !src.isDir && /\/\.?$/.test(dst.path)) throw new NsxError('no such directory', 1)
  return {dir: dstDir, rebase: {from: srcBase, to: dstBase}}
}

/** moby's GetRebaseName: a followed link's target, with the source's trailing `/` or `/.`, and the name it is renamed back to. */
function rebaseName(path: string, resolved: string): {path: string; rebase: string} {
  let p = resolved
  if (/\/\.$/.test(path) && !/\/\.$/.test(p)) p = `${p}/.`
  else if (path.endsWith('/') && !p.endsWith('/')) p = `${p}/`
  const a = splitDirEntry(path).base
  const b = splitDirEntry(p).base
  return {path: p, rebase: a !== b ? a : ''}
}

const isDirMode = (s: PathStat) => (s.mode & 2 ** 31) !== 0
const isLinkMode = (s: PathStat) => (s.mode & (1 << 27)) !== 0
/** Go's FileMode type bits other than dir: a device, pipe, socket, symlink. */
const isIrregular = (s: PathStat) => (s.mode & ((1 << 26) | (1 << 25) | (1 << 24) | (1 << 27) | (1 << 21) | (1 << 19))) !== 0

function notFound(ctr: string, path: string): NsxError {
  return new NsxError(`No such container:path: ${ctr}:${path}`, 1)
}

/** The host's root, for the host side of a copy (the same walk, with the host's `/` as the root). */
function withHostRoot<T>(fn: (fd: number) => Promise<T>): Promise<T> {
  const fd = openSync('/', constants.O_RDONLY | constants.O_DIRECTORY)
  return fn(fd).finally(() => closeSync(fd))
}

export async function copy(store: Store, srcArg: string, dstArg: string, opts: CpOptions = {}): Promise<void> {
  const src = srcArg === '-' ? {path: '-'} : splitCpArg(srcArg)
  const dst = dstArg === '-' ? {path: '-'} : splitCpArg(dstArg)
  if (src.container !== undefined && dst.container !== undefined) throw new NsxError('copying between containers is not supported', 1)
  if (src.container === undefined && dst.container === undefined) throw new NsxError('must specify at least one container source', 1)
  if (src.container !== undefined) return copyFromContainer(store, src.container, src.path, dst.path, opts)
  return copyToContainer(store, src.path, dst.container!, dst.path, opts)
}

/** The container's side with docker's "No such container:path" for a missing container or path. */
async function inContainer<T>(store: Store, ctr: string, path: string, fn: (root: ContainerRoot) => Promise<T>): Promise<T> {
  try {
    return await withContainerRoot(store, ctr, fn)
  } catch (err) {
    if (err instanceof PathNotFoundError || (err instanceof NsxError && /^No such container: /.test(err.message))) throw notFound(ctr, path)
    throw copyFailure(err)
  }
}

async function copyFromContainer(store: Store, ctr: string, srcPath: string, dstPath: string, opts: CpOptions): Promise<void> {
  if (srcPath === '') throw new NsxError('source can not be empty', 1)
  await inContainer(store, ctr, srcPath, async (root) => {
    let path = srcPath
    let rebase = ''
    if (opts.followLink) {
      const st = statPath(root.fd, path, ctr)
      if (isLinkMode(st)) ({path, rebase} = rebaseName(path, st.linkTarget))
    }
    const packed = packPath(root.fd, path, ctr, {ids: root.fromHost})
    if (dstPath === '-') {
      const out = opts.stdout ?? process.stdout
      for await (const chunk of packed.tar) if (!out.write(chunk)) await new Promise((r) => out.once('drain', r))
      return
    }
    const srcInfo: CopyInfo = {path, exists: true, isDir: isDirMode(packed.stat), rebaseName: rebase || undefined}
    await withHostRoot(async (host) => {
      const dstInfo = hostDestination(dstPath)
      const {dir, rebase: rb} = prepareCopy(srcInfo, dstInfo)
      await extractTar(host, hostResolve(dir), packed.tar, 'the host', {noOverwriteDirNonDir: true, noChown: !opts.archive, rebase: rb})
    })
  })
}

/** moby's CopyInfoDestinationPath on the host: links at the destination followed; a missing one needs its parent. */
function hostDestination(p: string): CopyInfo {
  let path = hostResolve(p) + (/\/\.?$/.test(p) ? p.slice(p.search(/\/\.?$/)) : '')
  for (let n = 0; n < 40; n++) {
    let st
    try {
      st = lstatSync(path)
    } catch {
      const parent = splitDirEntry(path).dir
      let pst
      try {
        pst = statSync(parent)
      } catch (err) {
        throw new NsxError(`${(err as Error).message.replace(/^ENOENT: (.*), stat '(.*)'$/, 'stat $2: $1')}`, 1)
      }
      if (!pst.isDirectory()) throw new NsxError(`${parent}: not a directory`, 1)
      return {path, exists: false, isDir: false}
    }
    if (!st.isSymbolicLink()) return {path, exists: true, isDir: st.isDirectory()}
    const t = readlinkSync(path)
    path = t.startsWith('/') ? t : posix.join(posix.dirname(path), t)
  }
  throw new NsxError(`${p}: too many levels of symbolic links`, 1)
}

async function copyToContainer(store: Store, srcPath: string, ctr: string, dstPath: string, opts: CpOptions): Promise<void> {
  if (dstPath === '') throw new NsxError('destination can not be empty', 1)
  await inContainer(store, ctr, dstPath, async (root) => {
    let dstInfo: CopyInfo = {path: dstPath, exists: false, isDir: false}
    let dstStat: PathStat | undefined
    const tryStat = (p: string) => {
      try {
        return statPath(root.fd, p, ctr)
      } catch (err) {
        if (err instanceof PathNotFoundError || err instanceof InRootError) return undefined
        throw err
      }
    }
    dstStat = tryStat(dstPath)
    if (dstStat && isLinkMode(dstStat)) {
      dstInfo = {...dstInfo, path: dstStat.linkTarget}
      dstStat = tryStat(dstStat.linkTarget)
    }
    if (dstStat && !isDirMode(dstStat) && isIrregular(dstStat)) throw new NsxError(`destination "${ctr}:${dstPath}" must be a directory or a regular file`, 1)
    if (dstStat) dstInfo = {...dstInfo, exists: true, isDir: isDirMode(dstStat)}
    // Without -a the files are root's in the container (docker's "created with the UID:GID of the root user"); with it, the source's.
    const owner = opts.archive ? undefined : {uid: 0, gid: 0}
    if (srcPath === '-') {
      if (!dstInfo.isDir) throw new NsxError(`destination "${ctr}:${dstPath}" must be a directory`, 1)
      checkWritable(root, dstInfo.path)
      await extractTar(root.fd, dstInfo.path, opts.stdin ?? process.stdin, ctr, {noOverwriteDirNonDir: true, ids: root.toHost})
      return
    }
    await withHostRoot(async (host) => {
      let path = hostResolve(srcPath) + (/\/\.?$/.test(srcPath) ? srcPath.slice(srcPath.search(/\/\.?$/)) : '')
      let rebase = ''
      let st
      try {
        st = lstatSync(path)
      } catch (err) {
        throw new NsxError((err as Error).message.replace(/^ENOENT: (.*), lstat '(.*)'$/, 'lstat $2: $1'), 1)
      }
      if (opts.followLink && st.isSymbolicLink()) {
        const t = readlinkSync(path)
        ;({path, rebase} = rebaseName(path, t.startsWith('/') ? t : posix.join(posix.dirname(path), t)))
      }
      const packed = packPath(host, path, 'the host', {owner})
      const srcInfo: CopyInfo = {path, exists: true, isDir: isDirMode(packed.stat), rebaseName: rebase || undefined}
      const {dir, rebase: rb} = prepareCopy(srcInfo, dstInfo)
      checkWritable(root, dir)
      try {
        await extractTar(root.fd, dir, packed.tar, ctr, {noOverwriteDirNonDir: true, ids: root.toHost, rebase: rb})
      } catch (err) {
        if (err instanceof PathNotFoundError) throw notFound(ctr, dir)
        throw err
      }
    })
  })
}
