import {closeSync, constants, fstatSync, lchownSync, lstatSync, mkdirSync, openSync, readlinkSync, Stats} from 'node:fs'
import {NsxError} from '../cli/errors.js'

/**
 * Paths resolved inside a container's root as if it were `/` (openat2's RESOLVE_IN_ROOT, done
 * by hand): a walk from a directory fd of the root, one component at a time, each opened through
 * `/proc/self/fd/N/NAME` with O_NOFOLLOW, so the kernel never follows a link of the container's;
 * a symlink's target is spliced into the rest of the path and resolved again from the root (an
 * absolute one) or from where it was (a relative one), and `..` never climbs above the root. A
 * symlink to the host's /etc/shadow names the container's /etc/shadow, as in a chroot. The same
 * walk with the host's `/` as the root is the ordinary resolution of a host path.
 */

export const fdPath = (fd: number, name?: string) => (name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`)

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW

/** An errno-carrying error of a path inside the root (ENOENT, ENOTDIR, ELOOP). */
export class InRootError extends NsxError {
  constructor(readonly code: string, readonly path: string, message: string) {
    super(message, 1, code === 'ENOENT' ? 'not-found' : 'invalid')
  }
}

/** Where a path ends: its parent directory (an open fd) and its last name, or the root itself. */
export interface Resolved {
  /** The parent directory; the root's own fd when the path is `/` (then `name` is ''). */
  parent: number
  name: string
  /** lstat of the last component (followed when asked), undefined when it does not exist. */
  st?: Stats
  /** The canonical path inside the root (every symlink resolved but a last one kept). */
  path: string
  /** Close the directory fds the walk opened (not the root's). */
  release(): void
}

export interface ResolveOptions {
  /** Follow a symlink in the last component too (a path ending in `/` or `/.` always does). */
  followLast?: boolean
  /** Make missing directories on the way (mode 0755), as MkdirAll does: for extraction. */
  mkdirs?: boolean
  /** Owner of directories made on the way. */
  owner?: {uid: number; gid: number}
}

function lstatAt(dir: number, name: string): Stats | undefined {
  try {
    return lstatSync(fdPath(dir, name))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Resolve PATH (absolute inside the root) from ROOT, a directory fd of the root. */
export function resolveInRoot(root: number, path: string, opts: ResolveOptions = {}): Resolved {
  const stack: number[] = [root]
  const names: string[] = []
  const release = () => {
    while (stack.length > 1) closeSync(stack.pop()!)
  }
  const fail = (code: string, what: string): never => {
    release()
    throw new InRootError(code, path, `${what}: ${path}`)
  }
  const followDir = /\/\.?$/.test(path)
  const queue = path.split('/').filter((c) => c !== '' && c !== '.')
  let links = 0
  try {
    while (queue.length > 0) {
      const comp = queue.shift()!
      if (comp === '.' || comp === '') continue
      if (comp === '..') {
        if (stack.length > 1) closeSync(stack.pop()!)
        names.pop()
        continue
      }
      const top = stack.at(-1)!
      const last = queue.length === 0
      let st = lstatAt(top, comp)
      if (st === undefined) {
        if (last && !followDir) return {parent: top, name: comp, path: '/' + [...names, comp].join('/'), release}
        if (!opts.mkdirs) return fail('ENOENT', 'no such file or directory')
        mkdirSync(fdPath(top, comp), 0o755)
        if (opts.owner) lchownSync(fdPath(top, comp), opts.owner.uid, opts.owner.gid)
        st = lstatSync(fdPath(top, comp))
      }
      if (st.isSymbolicLink() && (!last || opts.followLast || followDir)) {
        if (++links > 40) return fail('ELOOP', 'too many levels of symbolic links')
        const target = readlinkSync(fdPath(top, comp))
        if (target.startsWith('/')) {
          release()
          names.length = 0
        }
        queue.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'))
        continue
      }
      if (last && !(followDir && st.isDirectory())) return {parent: top, name: comp, st, path: '/' + [...names, comp].join('/'), release}
      if (!st.isDirectory()) return fail('ENOTDIR', 'not a directory')
      let fd: number
      try {
        fd = openSync(fdPath(top, comp), DIR_FLAGS)
      } catch (err) {
        // Swapped for a symlink or a file since the lstat: refused, never followed.
        return fail((err as NodeJS.ErrnoException).code ?? 'EIO', 'changed while being resolved')
      }
      stack.push(fd)
      names.push(comp)
      if (last) break
    }
  } catch (err) {
    release()
    throw err
  }
  // The path named a directory that is now open (or the root itself): its parent is not needed.
  const top = stack.at(-1)!
  const st = fstatSync(top)
  return {parent: top, name: '', st, path: '/' + names.join('/'), release}
}

/** Open the directory a Resolved names (its fd is owned by the caller). */
export function openResolvedDir(r: Resolved): number {
  if (r.name === '') return openSync(fdPath(r.parent), constants.O_RDONLY | constants.O_DIRECTORY)
  return openSync(fdPath(r.parent, r.name), DIR_FLAGS)
}
