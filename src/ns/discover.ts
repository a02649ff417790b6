import {closeSync, fstatSync, readFileSync, readdirSync, readlinkSync} from 'node:fs'
import {constants as osConstants, endianness} from 'node:os'
import {NsxError} from '../cli/errors.js'
import {
  AT_FDCWD,
  AT_STATX_DONT_SYNC,
  O_CLOEXEC,
  O_DIRECTORY,
  O_PATH,
  O_RDONLY,
  STATX_DEV_MAJOR_OFFSET,
  STATX_DEV_MINOR_OFFSET,
  STATX_INO,
  STATX_INO_OFFSET,
  STATX_NLINK,
  STATX_NLINK_OFFSET,
  STATX_TYPE,
  ScanCalls,
  SyscallError,
  errnoMessage,
  loadScanCalls,
  nsGetTypeOrError,
  socketNetnsFd,
} from '../ffi/libc.js'
import {AccessLog, PROC_ROOT} from '../proc/fs.js'
import {parseNsfsMounts} from './bind-mounts.js'
import {Discovery, NsIndex} from './records.js'
import {kernelRelations, RelationSource, resolveRelations} from './relations.js'
import {NS_TYPES, NsType, isNsType, nsTypeFromCloneFlag} from './types.js'

// The model moved to records.ts (relations.ts needs it too, and must not import discovery);
// exported here as well for the callers that still import it from discover.ts.

/**
 * Finds every namespace on the host and what keeps it alive, from four sources:
 * processes (/proc/PID/ns), threads whose namespaces differ from their process's
 * (/proc/PID/task/TID/ns), open nsfs file descriptors (/proc/PID/fd) and nsfs bind
 * mounts (/proc/PID/mountinfo, once per mount namespace); then the NS_GET_PARENT and
 * NS_GET_USERNS ioctls add parents and owners, including namespaces nothing visible holds.
 */

export interface DiscoverOptions {
  types?: readonly NsType[]
  /** Where /proc is (fixture trees in tests). */
  procRoot?: string
  /** How parents and owners are found; false skips that phase (and its ghosts). */
  relations?: RelationSource | false
}


/**
 * Types that one thread can hold apart from the rest of its process. A user namespace
 * cannot (unshare and setns refuse CLONE_NEWUSER in a multithreaded process), and
 * /proc/TID/ns/pid and ns/time name the thread group's namespace (setns changes only
 * the *_for_children ones), so reading those per thread would only cost time.
 */
const THREAD_VARIABLE: ReadonlySet<NsType> = new Set(['mnt', 'net', 'uts', 'ipc', 'cgroup'])

const ASCII = (t: string) => Uint8Array.from(t, (ch) => ch.charCodeAt(0))
/** Each type's name as bytes, and `ns/<type>` as a path relative to /proc/PID. */
const TYPE_BYTES: ReadonlyMap<NsType, Uint8Array> = new Map(NS_TYPES.map((t) => [t, ASCII(t)]))
const NS_PATH: ReadonlyMap<NsType, string> = new Map(NS_TYPES.map((t) => [t, `ns/${t}`]))

/** Decimal digits buf[from..to) as a number, -1 when empty or not all digits. */
function digitsAt(buf: Uint8Array, from: number, to: number): number {
  if (from >= to) return -1
  let v = 0
  for (let i = from; i < to; i++) {
    const d = buf[i] - 48
    if (d < 0 || d > 9) return -1
    v = v * 10 + d
  }
  return v
}

/** The link in buf[0..len) ("net:[4026531840]") -> 4026531840, or -1 when it is not a namespace of that type. */
function linkInode(buf: Uint8Array, len: number, type: Uint8Array): number {
  const n = type.length
  if (len < n + 4 || buf[n] !== 58 /* : */ || buf[n + 1] !== 91 /* [ */ || buf[len - 1] !== 93 /* ] */) return -1
  for (let i = 0; i < n; i++) if (buf[i] !== type[i]) return -1
  return digitsAt(buf, n + 2, len - 1)
}

/** An nsfs fd's link in buf[0..len) ("net:[4026531840]"): its type, or undefined for any other file. */
function fdNamespaceType(buf: Uint8Array, len: number): NsType | undefined {
  // /dev/..., socket:[..], pipe:[..], anon_inode:[..]: the cheap checks reject them first.
  if (len < 7 || buf[len - 1] !== 93 /* ] */ || buf[0] === 47 /* / */) return undefined
  // The first ":[" must be at 3..6 (the type names' lengths): one at 0..2 or none up to 6 rejects it.
  let colon = -1
  for (let i = 0; i <= 6 && i + 1 < len; i++) {
    if (buf[i] === 58 && buf[i + 1] === 91) {
      colon = i
      break
    }
  }
  if (colon < 3) return undefined
  for (const [type, bytes] of TYPE_BYTES) {
    if (bytes.length !== colon) continue
    let same = true
    for (let i = 0; i < colon && same; i++) same = buf[i] === bytes[i]
    if (same) return type
  }
  return undefined
}

const E = osConstants.errno
const goneErrno = (e: number) => e === E.ENOENT || e === E.ESRCH || e === E.ENOTDIR || e === E.EINVAL
const deniedErrno = (e: number) => e === E.EACCES || e === E.EPERM
const LE = endianness() === 'LE'

/**
 * The calls and buffers of one scan. Links are read with readlinkat relative to an O_PATH fd on
 * /proc/PID into one reused buffer, and fd tables with getdents64: the scan reads tens of
 * thousands of links, and this makes neither a path nor a link string for each.
 */
export class ProcScan {
  readonly sys: ScanCalls = loadScanCalls()
  readonly link = new Uint8Array(64)
  readonly dents = new Uint8Array(32768)
  readonly dentsView = new DataView(this.dents.buffer)
  readonly statx = new Uint8Array(256)
  readonly statxView = new DataView(this.statx.buffer)

  /** readlinkat(dirfd, path) into this.link: its length, or -errno. A link too long to be nsfs reads as -ENAMETOOLONG. */
  readLink(dirfd: number, path: string): number {
    const n = Number(this.sys.readlinkat(dirfd, path, this.link, this.link.length))
    if (n < 0) return -this.sys.errno()
    return n < this.link.length ? n : -E.ENAMETOOLONG
  }

  /** Link count of dirfd/path, or -1. */
  nlink(dirfd: number, path: string): number {
    if (this.sys.statx(dirfd, path, 0, STATX_NLINK, this.statx) < 0) return -1
    return this.statxView.getUint32(STATX_NLINK_OFFSET, LE)
  }

  /** nsfs's device (every namespace file is on it), as major:minor; undefined when unknown. */
  private nsfsDev?: {major: number; minor: number} | null

  /**
   * The inode of the file dirfd/path leads to when it is on nsfs, else -1. An fd opened through a
   * bind mount shows the mount's path as its link, "/" once that mount is gone (ip netns delete):
   * only the device says it is a namespace, as lsns checks it.
   */
  nsfsInode(dirfd: number, path: string): number {
    if (this.nsfsDev === undefined) {
      this.nsfsDev = this.sys.statx(AT_FDCWD, '/proc/self/ns/net', 0, STATX_INO, this.statx) < 0 ? null : this.device()
    }
    if (this.nsfsDev === null) return -1
    if (this.sys.statx(dirfd, path, AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO, this.statx) < 0) return -1
    const dev = this.device()
    if (dev.major !== this.nsfsDev.major || dev.minor !== this.nsfsDev.minor) return -1
    return Number(this.statxView.getBigUint64(STATX_INO_OFFSET, LE))
  }

  private device(): {major: number; minor: number} {
    return {major: this.statxView.getUint32(STATX_DEV_MAJOR_OFFSET, LE), minor: this.statxView.getUint32(STATX_DEV_MINOR_OFFSET, LE)}
  }

  /** The namespace type of the nsfs file dirfd/path (NS_GET_NSTYPE on it), or undefined. */
  nsfsType(dirfd: number, path: string): NsType | undefined {
    // O_NONBLOCK | O_NOCTTY: the fd may have been replaced by a FIFO or a terminal since.
    const fd = this.sys.openat(dirfd, path, O_RDONLY | O_CLOEXEC | 0o4000 | 0o400, 0)
    if (fd < 0) return undefined
    try {
      const flag = nsGetTypeOrError(fd)
      return flag < 0 ? undefined : nsTypeFromCloneFlag(flag)
    } finally {
      this.sys.close(fd)
    }
  }

  /** Sockets seen in fd tables, by socket inode: one (pid, fd) each, resolved to their namespace after the scan. */
  readonly sockets = new Map<number, {pid: number; fd: number}[]>()
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code
}

const isDenied = (code: string | undefined) => code === 'EACCES' || code === 'EPERM'

export function discoverNamespaces(opts: DiscoverOptions = {}): Discovery {
  const root = opts.procRoot ?? PROC_ROOT
  const wanted = new Set<NsType>(opts.types && opts.types.length > 0 ? opts.types : NS_TYPES)
  const index = new NsIndex(wanted)
  const log = index.log
  // mnt is read even when not wanted: one process per mount namespace gives its nsfs mounts.
  const readTypes = NS_TYPES.filter((t) => wanted.has(t) || t === 'mnt')
  const threadTypes = readTypes.filter((t) => THREAD_VARIABLE.has(t))
  const leaderGoneTypes = readTypes.filter((t) => NSPROXY_TYPES.has(t))
  const nTypes = readTypes.length
  // Inodes of the process being read, by position in readTypes (reused: no allocation per process).
  const inodes = new Array<number>(nTypes).fill(-1)
  const pidAt = wanted.has('pid') ? readTypes.indexOf('pid') : -1
  const timeAt = wanted.has('time') ? readTypes.indexOf('time') : -1
  /** mnt namespace inode -> a pid in it, for reading its mount table once. */
  const mountTables = new Map<number, number>()

  let pids: string[]
  try {
    pids = readdirSync(root)
  } catch (err) {
    throw new NsxError(`cannot list ${root}: ${(err as Error).message}`)
  }

  const scan = new ProcScan()
  const {sys} = scan
  const rootFd = sys.openat(AT_FDCWD, root, O_PATH | O_DIRECTORY | O_CLOEXEC, 0)
  if (rootFd < 0) throw new NsxError(`cannot list ${root}: ${errnoMessage(sys.errno())}`)
  try {
    for (const name of pids) {
      const c = name.charCodeAt(0)
      if (c < 48 || c > 57) continue
      const pid = Number(name)
      // Every read below is relative to this fd: no /proc/PID path per link.
      const pfd = sys.openat(rootFd, name, O_PATH | O_DIRECTORY | O_CLOEXEC, 0)
      if (pfd < 0) {
        if (deniedErrno(sys.errno())) log.record('processes')
        continue // gone
      }
      try {
        const got = readLinks(scan, pfd, readTypes, inodes)
        if (got === 'denied') {
          // The same ptrace rule guards its threads, fds and mounts: count the process once.
          log.record('processes')
          continue
        }
        if (got === 'ok') {
          for (let i = 0; i < nTypes; i++) {
            const ino = inodes[i]
            if (ino < 0) continue
            const type = readTypes[i]
            if (type === 'mnt' && !mountTables.has(ino)) mountTables.set(ino, pid)
            if (wanted.has(type)) index.record(type, ino).pids.push(pid)
          }
          if (!nsproxyGone) {
            if (pidAt >= 0) forChildren(index, scan, pfd, pid, 'pid', inodes[pidAt])
            if (timeAt >= 0) forChildren(index, scan, pfd, pid, 'time', inodes[timeAt])
          }
        }
        // Threads: only when there is more than one. nlink of task/ is 2 + threads (procfs), so
        // one statx spares the common single-threaded process a readdir.
        // A zombie leader whose other threads run (its main thread called pthread_exit) has only its
        // pid and user links left: its threads hold every other type, time included.
        const perThread = nsproxyGone ? leaderGoneTypes : threadTypes
        // (-1: gone, or not allowed: the process's own links already said so.)
        const nlink = perThread.length > 0 ? scan.nlink(pfd, 'task') : -1
        if (nlink >= 0 && nlink !== 3) {
          scanThreads(index, `${root}/${name}`, pid, got === 'ok' ? inodes : undefined, readTypes, perThread)
        }
        scanFds(index, scan, pfd, pid)
      } finally {
        sys.close(pfd)
      }
    }
  } finally {
    sys.close(rootFd)
  }

  for (const [, pid] of mountTables) scanMounts(index, `${root}/${pid}`, pid)
  // Only on the real /proc: a fixture's fds are not processes' to copy.
  if (scan.sockets.size > 0 && root === PROC_ROOT) resolveSockets(index, scan)

  for (const r of index.byInode.values()) {
    // Every `unshare --fork --pid` parent holds its child's namespace as pid_for_children:
    // worth naming only where no process of its own keeps the namespace.
    if (r.pids.length > 0 && r.others.length > 0 && r.others.some((h) => h.kind === 'for-children')) {
      const keep = r.others.filter((h) => h.kind !== 'for-children')
      r.others.length = 0
      r.others.push(...keep)
    }
    // /proc is read in ascending pid order, but a fixture or an odd readdir may not be.
    const p = r.pids
    for (let i = 1; i < p.length; i++) {
      if (p[i - 1] > p[i]) {
        p.sort((a, b) => a - b)
        break
      }
    }
  }

  if (opts.relations !== false) resolveRelations(index, opts.relations ?? kernelRelations(root))
  return index
}

/** Links that name the task's nsproxy: a zombie or exiting task has none left (its pid and user links remain). */
const NSPROXY_TYPES: ReadonlySet<NsType> = new Set(['mnt', 'net', 'uts', 'ipc', 'cgroup', 'time'])

/** Set by readLinks: the last process read had no nsproxy (a zombie: lsns still counts its pid and user). */
let nsproxyGone = false

/** readLinks' per-type paths and names, for the types array it was last given. */
let linkTypes: readonly NsType[] = []
let paths: string[] = []
let names: Uint8Array[] = []

/**
 * Fill inodes[] from PFD/ns/<type> for each type (mnt first). 'gone' when the process has
 * exited, 'denied' when ptrace rules forbid it. A zombie keeps only its pid and user links.
 */
export function readLinks(scan: ProcScan, pfd: number, types: readonly NsType[], inodes: number[]): 'ok' | 'gone' | 'denied' {
  if (types !== linkTypes) {
    linkTypes = types
    paths = types.map((t) => NS_PATH.get(t)!)
    names = types.map((t) => TYPE_BYTES.get(t)!)
  }
  let found = false
  let denied = false
  nsproxyGone = false
  inodes.fill(-1)
  for (let i = 0; i < types.length; i++) {
    const type = types[i]
    if (nsproxyGone && NSPROXY_TYPES.has(type)) continue // would fail with ENOENT: a syscall for nothing
    const n = scan.readLink(pfd, paths[i])
    if (n < 0) {
      const errno = -n
      if (deniedErrno(errno)) {
        denied = true
        // The same rule denies every link of this process: stop here.
        break
      }
      // ENOENT: gone, a zombie, or a type this kernel lacks (time before 5.6): try the next type.
      if (goneErrno(errno) || errno === E.ENAMETOOLONG) {
        if (type === 'mnt') nsproxyGone = true
        continue
      }
      throw new SyscallError(`readlink ns/${type}`, errno)
    }
    const ino = linkInode(scan.link, n, names[i])
    if (ino >= 0) {
      inodes[i] = ino
      found = true
    }
  }
  if (found) return 'ok'
  return denied ? 'denied' : 'gone'
}

/** A pid or time namespace for the process's future children, when it differs from its own. */
function forChildren(index: NsIndex, scan: ProcScan, pfd: number, pid: number, type: 'pid' | 'time', own: number): void {
  const n = scan.readLink(pfd, type === 'pid' ? 'ns/pid_for_children' : 'ns/time_for_children')
  if (n < 0) return // gone, or a kernel without it
  const ino = linkInode(scan.link, n, TYPE_BYTES.get(type)!)
  if (ino >= 0 && ino !== own) index.record(type, ino).others.push({kind: 'for-children', pid})
}

/** "net:[4026531840]" -> 4026531840, or -1 when the link is not a namespace of that type. */
function linkTextInode(link: string, type: string): number {
  const n = type.length
  if (link.length < n + 4 || link.charCodeAt(n) !== 58 /* : */ || !link.startsWith(type)) return -1
  return Number(link.slice(n + 2, -1))
}

/** The threads of a process that has more than one (rare: read with Node's fs). */
function scanThreads(
  index: NsIndex,
  dir: string,
  pid: number,
  processInodes: number[] | undefined,
  readTypes: readonly NsType[],
  threadTypes: readonly NsType[],
): void {
  let tids: string[]
  try {
    tids = readdirSync(`${dir}/task`)
  } catch (err) {
    if (isDenied(errCode(err))) index.log.record('thread lists')
    return
  }
  // A zombie thread-group leader has no namespaces left: then every type is read per thread.
  const types = processInodes === undefined ? readTypes : threadTypes
  for (const t of tids) {
    const tid = Number(t)
    if (tid === pid || !(tid > 0)) continue
    const tdir = `${dir}/task/${t}`
    for (const type of types) {
      if (!index.wanted.has(type)) continue
      let link: string
      try {
        link = readlinkSync(`${tdir}/ns/${type}`)
      } catch (err) {
        const code = errCode(err)
        if (isDenied(code)) {
          index.log.record('threads')
          break
        }
        if (code === 'ENOENT' || code === 'ESRCH' || code === 'ENOTDIR' || code === 'EINVAL') continue
        throw err
      }
      const ino = linkTextInode(link, type)
      if (ino < 0) continue
      if (processInodes !== undefined && processInodes[readTypes.indexOf(type)] === ino) continue
      index.record(type, ino).others.push({kind: 'thread', pid, tid})
    }
  }
}

/** strcmp order of two fds' names, the order readdirSync (libuv's scandir) gave them in. */
const byName = (a: {fd: number}, b: {fd: number}) => {
  const x = String(a.fd)
  const y = String(b.fd)
  return x < y ? -1 : x > y ? 1 : 0
}

/** The nsfs fds of a process: getdents64 on PFD/fd and readlinkat on each entry. */
function scanFds(index: NsIndex, scan: ProcScan, pfd: number, pid: number): void {
  const {sys, dents, dentsView} = scan
  const wantSockets = index.wanted.has('net')
  const dfd = sys.openat(pfd, 'fd', O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
  if (dfd < 0) {
    if (deniedErrno(sys.errno())) index.log.record('fd tables')
    return
  }
  let found: {type: NsType; inode: number; fd: number}[] | undefined
  try {
    for (;;) {
      const len = Number(sys.getdents64(dfd, dents, dents.length))
      if (len <= 0) break // the end, or the process went away while its table was read
      // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-terminated).
      for (let off = 0; off < len; off += dentsView.getUint16(off + 16, LE)) {
        const nameAt = off + 19
        let end = nameAt
        while (dents[end] !== 0) end++
        if (dents[nameAt] === 46 /* . */) continue // . and ..
        const fd = digitsAt(dents, nameAt, end)
        const name = fd >= 0 && (dents[nameAt] !== 48 || end === nameAt + 1) ? String(fd) : Buffer.from(dents.subarray(nameAt, end)).toString()
        const n = scan.readLink(dfd, name)
        if (n < 0) continue // closed meanwhile, or the process is gone
        const fdNumber = fd >= 0 ? fd : Number(name)
        const type = fdNamespaceType(scan.link, n)
        if (type === undefined) {
          // A path: maybe an nsfs file opened through a bind mount, "/" once the mount is gone.
          if (scan.link[0] === 47 /* / */) {
            const inode = scan.nsfsInode(dfd, name)
            if (inode < 0) continue
            const t = scan.nsfsType(dfd, name)
            if (t !== undefined && index.wanted.has(t)) (found ??= []).push({type: t, inode, fd: fdNumber})
          } else if (wantSockets && socketInode(scan.link, n) >= 0) {
            const ino = socketInode(scan.link, n)
            let list = scan.sockets.get(ino)
            if (list === undefined) scan.sockets.set(ino, (list = []))
            list.push({pid, fd: fdNumber})
          }
          continue
        }
        if (!index.wanted.has(type)) continue
        const inode = linkInode(scan.link, n, TYPE_BYTES.get(type)!)
        if (inode < 0) continue
        ;(found ??= []).push({type, inode, fd: fdNumber})
      }
    }
  } finally {
    sys.close(dfd)
  }
  if (found === undefined) return
  found.sort(byName)
  for (const f of found) index.record(f.type, f.inode).others.push({kind: 'fd', pid, fd: f.fd})
}

const SOCKET = ASCII('socket:[')

/** "socket:[12345]" in buf[0..len) -> 12345, else -1. */
function socketInode(buf: Uint8Array, len: number): number {
  if (len <= SOCKET.length + 1 || buf[len - 1] !== 93 /* ] */) return -1
  for (let i = 0; i < SOCKET.length; i++) if (buf[i] !== SOCKET[i]) return -1
  return digitsAt(buf, SOCKET.length, len - 1)
}

/**
 * Net namespaces that only sockets keep alive (a process that made a socket in a namespace and
 * left it, lsns's netns-from-sock): each socket seen is asked for its namespace (SIOCGSKNS), once
 * per socket inode; a namespace found no other way is listed, held by those sockets.
 */
function resolveSockets(index: NsIndex, scan: ProcScan): void {
  for (const holders of scan.sockets.values()) {
    let nsfd = -1
    for (const h of holders) {
      nsfd = socketNetnsFd(h.pid, h.fd)
      if (nsfd >= 0) break
    }
    if (nsfd < 0) continue
    let inode: number
    try {
      inode = fstatSync(nsfd).ino
    } catch {
      continue
    } finally {
      closeSync(nsfd)
    }
    const known = index.byInode.get(inode)
    if (known !== undefined && (known.pids.length > 0 || known.others.some((o) => o.kind !== 'socket'))) continue
    const r = index.record('net', inode)
    for (const h of holders) r.others.push({kind: 'socket', pid: h.pid, fd: h.fd})
  }
}

function scanMounts(index: NsIndex, dir: string, pid: number): void {
  let text: string
  try {
    text = readFileSync(`${dir}/mountinfo`, 'utf8')
  } catch (err) {
    if (isDenied(errCode(err))) index.log.record('mount tables')
    return
  }
  for (const m of parseNsfsMounts(text)) {
    if (!isNsType(m.type) || !index.wanted.has(m.type)) continue
    const r = index.record(m.type, m.inode)
    // The same mount shows in every mount namespace it propagated to: one holder per path.
    if (r.others.some((h) => h.kind === 'bind-mount' && h.path === m.path)) continue
    r.others.push({kind: 'bind-mount', path: m.path, mountPid: pid})
  }
}
