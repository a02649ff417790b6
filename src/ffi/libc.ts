import {closeSync} from 'node:fs'
import {createRequire} from 'node:module'
import {constants as osConstants} from 'node:os'

/**
 * Every libc binding nsx uses, in one place. koffi is loaded on first use only, so
 * commands that never call into libc do not pay for it at start-up.
 */

// The koffi API surface we touch; typed loosely on purpose (koffi's own types are broad).
interface KoffiFn {
  (...args: unknown[]): number
}
interface Libc {
  ioctl: KoffiFn
  syscall: KoffiFn
  errno(): number
  koffi: any // eslint-disable-line @typescript-eslint/no-explicit-any
  lib: any // eslint-disable-line @typescript-eslint/no-explicit-any
}

let libc: Libc | undefined

export function loadLibc(): Libc {
  if (libc) return libc
  const require = createRequire(import.meta.url)
  const koffi = require('koffi')
  const lib = koffi.load('libc.so.6')
  libc = {
    ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)'),
    syscall: lib.func('long syscall(long number, ...)'),
    errno: () => koffi.errno() as number,
    koffi,
    lib,
  }
  return libc
}

/** Whether koffi and libc are loaded already: a call through them then costs no load (~11 ms). */
export function libcLoaded(): boolean {
  return libc !== undefined
}

/** A failed libc call, carrying errno and its symbolic name (EPERM, ...). */
export class SyscallError extends Error {
  readonly errno: number
  readonly code: string

  constructor(call: string, errno: number) {
    const code = errnoName(errno)
    super(`${call}: ${errnoMessage(errno)}`)
    this.errno = errno
    this.code = code
  }
}

export function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(osConstants.errno)) if (value === errno) return name
  return `E${errno}`
}

const MESSAGES: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EBADF: 'Bad file descriptor',
  EACCES: 'Permission denied',
  EINVAL: 'Invalid argument',
  ENOTTY: 'Inappropriate ioctl for device',
  ENOSYS: 'Function not implemented',
}

export function errnoMessage(errno: number): string {
  const name = errnoName(errno)
  return MESSAGES[name] ?? name
}

// nsfs ioctls, from <linux/nsfs.h>: _IO(0xb7, n).
const NSIO = 0xb7
export const NS_GET_USERNS = (NSIO << 8) | 0x1
export const NS_GET_PARENT = (NSIO << 8) | 0x2
export const NS_GET_NSTYPE = (NSIO << 8) | 0x3
// <linux/nsfs.h> defines it as _IO(0xb7, 0x4) (0xb704), not _IOR: any other value gets ENOTTY.
export const NS_GET_OWNER_UID = (NSIO << 8) | 0x4

/** ioctl(fd, request) with no argument; returns the result, or throws SyscallError. */
export function ioctlNoArg(fd: number, request: number, what: string): number {
  const c = loadLibc()
  const r = c.ioctl(fd, request)
  if (r < 0) throw new SyscallError(what, c.errno())
  return r
}

/** NS_GET_USERNS / NS_GET_PARENT: a new fd for the related namespace, or undefined with the errno. */
export function nsRelated(fd: number, request: number): {fd?: number; errno?: number} {
  const c = loadLibc()
  const r = c.ioctl(fd, request)
  if (r < 0) return {errno: c.errno()}
  return {fd: r}
}

export function nsGetType(fd: number): number {
  return ioctlNoArg(fd, NS_GET_NSTYPE, 'ioctl(NS_GET_NSTYPE)')
}

/** NS_GET_NSTYPE: the CLONE_NEW* flag of the namespace fd is on, or -1 (not a namespace). */
export function nsGetTypeOrError(fd: number): number {
  const r = loadLibc().ioctl(fd, NS_GET_NSTYPE)
  return r < 0 ? -1 : r
}

/** Owner uid of a user namespace (as seen from the caller's user namespace). */
export function nsGetOwnerUid(fd: number): number {
  const c = loadLibc()
  const out = new Uint32Array(1)
  const r = c.ioctl(fd, NS_GET_OWNER_UID, 'uint32_t *', out)
  if (r < 0) throw new SyscallError('ioctl(NS_GET_OWNER_UID)', c.errno())
  return out[0]
}

/** <asm-generic/ioctls.h> TIOCOUTQ, which is SIOCOUTQ on a socket. */
const SIOCOUTQ = 0x5411

/**
 * Bytes a socket has sent that its peer has not read yet (unix: what still sits in the peer's
 * receive queue; TCP: what is not yet acknowledged), or -1 when the kernel will not say.
 */
export function socketUnreadBytes(fd: number): number {
  const c = loadLibc()
  const out = new Int32Array(1)
  return c.ioctl(fd, SIOCOUTQ, 'int *', out) < 0 ? -1 : out[0]
}

const SYS_PIDFD_OPEN = 434
const SYS_PIDFD_GETFD = 438
/** <linux/sockios.h>: an fd on the network namespace a socket belongs to. */
export const SIOCGSKNS = 0x894c

/** pidfd_open(2): a handle on a process that stays valid (and unambiguous) even if its pid is reused. */
export function pidfdOpen(pid: number): number {
  const c = loadLibc()
  const r = c.syscall(SYS_PIDFD_OPEN, 'int', pid, 'unsigned int', 0)
  if (r < 0) throw new SyscallError(`pidfd_open(${pid})`, c.errno())
  return r
}

/**
 * The network namespace of process pid's socket fd, as an nsfs fd (close it), or -1: pidfd_getfd
 * copies the socket into nsx, SIOCGSKNS asks for its namespace. Fails quietly (gone, not allowed,
 * not a socket, a kernel before 5.6): the caller treats it as "nothing found".
 */
export function socketNetnsFd(pid: number, fd: number): number {
  const c = loadLibc()
  const pidfd = c.syscall(SYS_PIDFD_OPEN, 'int', pid, 'unsigned int', 0)
  if (pidfd < 0) return -1
  try {
    const sock = c.syscall(SYS_PIDFD_GETFD, 'int', pidfd, 'int', fd, 'unsigned int', 0)
    if (sock < 0) return -1
    try {
      return c.ioctl(sock, SIOCGSKNS)
    } finally {
      closeSync(sock)
    }
  } finally {
    closeSync(pidfd)
  }
}

// --- Filesystem calls Node's fs lacks (used by the layer extractor and the image store) ---

interface FsCalls {
  mknod: KoffiFn
  lsetxattr: KoffiFn
  lgetxattr: KoffiFn
  flock: KoffiFn
}
let fsCalls: FsCalls | undefined

function loadFsCalls(): FsCalls {
  if (fsCalls) return fsCalls
  const {lib} = loadLibc()
  fsCalls = {
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const uint8_t *value, size_t size, int flags)'),
    lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ uint8_t *value, size_t size)'),
    flock: lib.func('int flock(int fd, int op)'),
  }
  return fsCalls
}

/** glibc's makedev: 12 bits of major and 20 of minor in the classic layout, the rest above. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major)
  const mi = BigInt(minor)
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n)
}

export const S_IFCHR = 0o020000
export const S_IFBLK = 0o060000
export const S_IFIFO = 0o010000

/** mknod(2): device nodes, fifos, and overlayfs whiteouts (char 0/0). */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  const f = loadFsCalls()
  if (f.mknod(path, mode, makedev(major, minor)) < 0) throw new SyscallError(`mknod ${path}`, loadLibc().errno())
}

/** lsetxattr(2): never follows a final symlink. */
export function lsetxattr(path: string, name: string, value: Buffer): void {
  const f = loadFsCalls()
  if (f.lsetxattr(path, name, value, value.length, 0) < 0) throw new SyscallError(`setxattr ${name} on ${path}`, loadLibc().errno())
}

/** lgetxattr(2): the value, or undefined when the attribute is absent (ENODATA). */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  const f = loadFsCalls()
  const buf = Buffer.alloc(65536)
  const n = Number(f.lgetxattr(path, name, buf, buf.length))
  if (n < 0) {
    const errno = loadLibc().errno()
    if (errnoName(errno) === 'ENODATA') return undefined
    throw new SyscallError(`getxattr ${name} on ${path}`, errno)
  }
  return Buffer.from(buf.subarray(0, n))
}

export const LOCK_SH = 1
export const LOCK_EX = 2
export const LOCK_NB = 4

/** flock(2); false when LOCK_NB was given and the lock is held elsewhere. */
export function flock(fd: number, op: number): boolean {
  const f = loadFsCalls()
  if (f.flock(fd, op) === 0) return true
  const errno = loadLibc().errno()
  if (errnoName(errno) === 'EWOULDBLOCK' || errnoName(errno) === 'EAGAIN') return false
  throw new SyscallError('flock', errno)
}

// Bound on first use (not in loadLibc) so commands that never need them do not declare them.
let setnsFn: KoffiFn | undefined
let hostnameFns: {gethostname: KoffiFn; getdomainname: KoffiFn} | undefined

/**
 * setns(2) for the calling thread. From Node this is only sound for uts, net, ipc and cgroup,
 * and only on the main thread with the change undone at once (DESIGN.md: it moves one thread).
 */
export function setns(fd: number, nstype: number): void {
  const c = loadLibc()
  setnsFn ??= c.lib.func('int setns(int fd, int nstype)') as KoffiFn
  if (setnsFn(fd, nstype) < 0) throw new SyscallError('setns', c.errno())
}

/** The calling thread's hostname and NIS domain name (those of its uts namespace). */
export function utsNames(): {hostname: string; domainname: string} {
  const c = loadLibc()
  hostnameFns ??= {
    gethostname: c.lib.func('int gethostname(_Out_ uint8_t *name, size_t len)') as KoffiFn,
    getdomainname: c.lib.func('int getdomainname(_Out_ uint8_t *name, size_t len)') as KoffiFn,
  }
  // 64 bytes is the kernel's limit for both (__NEW_UTS_LEN) plus the terminating NUL.
  const read = (fn: KoffiFn, what: string) => {
    const buf = Buffer.alloc(65)
    if (fn(buf, buf.length) < 0) throw new SyscallError(what, c.errno())
    const nul = buf.indexOf(0)
    return buf.toString('utf8', 0, nul < 0 ? buf.length : nul)
  }
  return {hostname: read(hostnameFns.gethostname, 'gethostname'), domainname: read(hostnameFns.getdomainname, 'getdomainname')}
}

/**
 * execve(2): replace the Node process with path. Returns only on failure (throws).
 * Used to hand over to native/build/nsx-exec, so no Node process stays between the
 * user and their command (terminal, signals and exit status as with nsenter).
 */
export function execve(path: string, argv: readonly string[], env: NodeJS.ProcessEnv, inherit: readonly number[] = [0, 1, 2]): never {
  const c = loadLibc()
  const fn = c.lib.func('int execve(const char *path, const char **argv, const char **envp)')
  // libuv marks the fds Node inherited close-on-exec at start-up (uv_disable_stdio_inheritance);
  // the fds in `inherit` must reach the command, so clear the flag on them.
  const fcntl = c.lib.func('int fcntl(int fd, int cmd, int arg)')
  const F_SETFD = 2
  for (const fd of inherit) fcntl(fd, F_SETFD, 0)
  const envp: (string | null)[] = []
  for (const [k, v] of Object.entries(env)) if (v !== undefined) envp.push(`${k}=${v}`)
  envp.push(null)
  fn(path, [...argv, null], envp)
  throw new SyscallError(`execve(${path})`, c.errno())
}

// Sockets: nsx ls asks rtnetlink for network namespace ids (RTM_GETNSID), as lsns does.
let socketFns: {socket: KoffiFn; send: KoffiFn; recv: KoffiFn} | undefined

function loadSocketFns(): {socket: KoffiFn; send: KoffiFn; recv: KoffiFn} {
  const c = loadLibc()
  socketFns ??= {
    socket: c.lib.func('int socket(int domain, int type, int protocol)') as KoffiFn,
    send: c.lib.func('intptr_t send(int fd, const uint8_t *buf, size_t len, int flags)') as KoffiFn,
    recv: c.lib.func('intptr_t recv(int fd, _Out_ uint8_t *buf, size_t len, int flags)') as KoffiFn,
  }
  return socketFns
}

/** socket(2); close it with fs.closeSync. */
export function socketOpen(domain: number, type: number, protocol: number): number {
  const r = loadSocketFns().socket(domain, type, protocol)
  if (r < 0) throw new SyscallError('socket', loadLibc().errno())
  return r
}

/** send(2) of a whole buffer; returns the bytes sent. */
export function socketSend(fd: number, data: Uint8Array): number {
  const r = loadSocketFns().send(fd, data, data.length, 0)
  if (r < 0) throw new SyscallError('send', loadLibc().errno())
  return r
}

/** recv(2) into buf; returns the bytes received. */
export function socketRecv(fd: number, buf: Uint8Array): number {
  const r = loadSocketFns().recv(fd, buf, buf.length, 0)
  if (r < 0) throw new SyscallError('recv', loadLibc().errno())
  return r
}

// --- nsx run: the executor runs from a sealed memfd copy (CVE-2019-5736) ---

export const MFD_ALLOW_SEALING = 0x2
export const F_ADD_SEALS = 1033
export const F_SEAL_SEAL = 0x1
export const F_SEAL_SHRINK = 0x2
export const F_SEAL_GROW = 0x4
export const F_SEAL_WRITE = 0x8

let memfdFns: {memfd_create: KoffiFn; fcntl: KoffiFn} | undefined

/** memfd_create(2) without MFD_CLOEXEC: the fd is meant to be exec'd through /proc/self/fd. */
export function memfdCreate(name: string, flags: number): number {
  const c = loadLibc()
  memfdFns ??= {
    memfd_create: c.lib.func('int memfd_create(const char *name, unsigned int flags)') as KoffiFn,
    fcntl: c.lib.func('int fcntl(int fd, int cmd, int arg)') as KoffiFn,
  }
  const fd = memfdFns.memfd_create(name, flags)
  if (fd < 0) throw new SyscallError('memfd_create', c.errno())
  return fd
}

/** fcntl(F_ADD_SEALS): once F_SEAL_WRITE is set nobody, root included, can change the file. */
export function addSeals(fd: number, seals: number): void {
  const c = loadLibc()
  if (!memfdFns) throw new Error('addSeals before memfdCreate')
  if (memfdFns.fcntl(fd, F_ADD_SEALS, seals) < 0) throw new SyscallError('fcntl(F_ADD_SEALS)', c.errno())
}

// --- Scanning /proc (nsx ls): *at calls on a directory fd, results in the caller's buffers ---

/**
 * openat, readlinkat, getdents64, statx and close for the /proc scan of `nsx ls`, which reads
 * tens of thousands of links: relative to a directory fd the kernel walks no /proc/PID prefix,
 * and a link read into a reused buffer makes no JS string (nor garbage). Each returns -1 on
 * failure, with the errno in errno(): the caller decides which errors mean "gone".
 */
export interface ScanCalls {
  openat(dirfd: number, path: string, flags: number, mode: number): number
  readlinkat(dirfd: number, path: string, buf: Uint8Array, size: number): number
  getdents64(fd: number, buf: Uint8Array, size: number): number
  statx(dirfd: number, path: string, flags: number, mask: number, buf: Uint8Array): number
  close(fd: number): number
  errno(): number
}

export const O_RDONLY = 0
export const O_DIRECTORY = 0o200000
export const O_CLOEXEC = 0o2000000
export const O_PATH = 0o10000000
export const AT_FDCWD = -100
export const STATX_NLINK = 0x4
/** Offset of stx_nlink (u32) in struct statx. */
export const STATX_NLINK_OFFSET = 16
export const STATX_TYPE = 0x1
export const STATX_INO = 0x100
/** Do not make a network filesystem fetch fresh attributes: an fd's target may be on one. */
export const AT_STATX_DONT_SYNC = 0x4000
/** Offsets in struct statx: stx_mode (u16), stx_ino (u64), stx_dev_major and stx_dev_minor (u32). */
export const STATX_MODE_OFFSET = 28
export const STATX_INO_OFFSET = 32
export const STATX_DEV_MAJOR_OFFSET = 136
export const STATX_DEV_MINOR_OFFSET = 140

let scanCalls: ScanCalls | undefined

export function loadScanCalls(): ScanCalls {
  if (scanCalls) return scanCalls
  const c = loadLibc()
  // openat is variadic (mode); declared with mode as a fixed argument, which the ABIs Linux runs on pass alike.
  scanCalls = {
    openat: c.lib.func('int openat(int dirfd, const char *path, int flags, uint32_t mode)'),
    readlinkat: c.lib.func('intptr_t readlinkat(int dirfd, const char *path, _Out_ uint8_t *buf, size_t size)'),
    getdents64: getdents64Fn(c),
    statx: c.lib.func('int statx(int dirfd, const char *path, int flags, unsigned int mask, _Out_ uint8_t *buf)'),
    close: c.lib.func('int close(int fd)'),
    errno: c.errno,
  }
  return scanCalls
}

/** getdents64(2) numbers where glibc (before 2.30) has no wrapper for it. */
const SYS_GETDENTS64: Partial<Record<string, number>> = {x64: 217, arm64: 61, riscv64: 61, loong64: 61, ia32: 220, arm: 217}

/** glibc's getdents64 (2.30 and later), else the raw system call; `wrapper: false` forces the latter. */
export function getdents64Fn(c: Libc, wrapper = true): ScanCalls['getdents64'] {
  if (wrapper) {
    try {
      return c.lib.func('intptr_t getdents64(int fd, _Out_ uint8_t *buf, size_t size)')
    } catch {
      // an older glibc: no such symbol
    }
  }
  const nr = SYS_GETDENTS64[process.arch]
  if (nr === undefined) throw new Error(`getdents64: no system call number known for ${process.arch}`)
  const raw = c.lib.func('long syscall(long number, int fd, _Out_ uint8_t *buf, size_t size)')
  return (fd, buf, size) => raw(nr, fd, buf, size)
}

// --- nsx system service: who is on the other end of a unix socket (SO_PEERCRED) ---

let getsockoptFn: KoffiFn | undefined

/** getsockopt(SOL_SOCKET, SO_PEERCRED) of a connected unix socket: the peer's pid, uid and gid at connect time. */
export function peerCredentials(fd: number): {pid: number; uid: number; gid: number} {
  const c = loadLibc()
  getsockoptFn ??= c.lib.func('int getsockopt(int fd, int level, int optname, _Out_ uint8_t *optval, _Inout_ uint32_t *optlen)') as KoffiFn
  const buf = Buffer.alloc(12)
  const len = [12]
  const SOL_SOCKET = 1
  const SO_PEERCRED = 17
  if (getsockoptFn(fd, SOL_SOCKET, SO_PEERCRED, buf, len) < 0) throw new SyscallError('getsockopt(SO_PEERCRED)', c.errno())
  return {pid: buf.readInt32LE(0), uid: buf.readUInt32LE(4), gid: buf.readUInt32LE(8)}
}

// --- nsx audit: whether a cgroup2 directory has device programs in effect (BPF_PROG_QUERY) ---

const SYS_BPF: Partial<Record<string, number>> = {x64: 321, arm64: 280}
let bpfQueryFn: KoffiFn | undefined

/**
 * How many BPF_CGROUP_DEVICE programs are in effect on a cgroup2 directory (its own and its
 * ancestors'), asked in-process with BPF_PROG_QUERY: nsx audit asks this of many cgroups, and
 * reads the programs themselves (the executor's devices-dump, a process) only where there are
 * some. undefined when it cannot be asked (no permission, no bpf, an unknown architecture).
 */
export function cgroupDeviceProgramCount(fd: number): number | undefined {
  const nr = SYS_BPF[process.arch]
  if (nr === undefined) return undefined
  const c = loadLibc()
  bpfQueryFn ??= c.lib.func('long syscall(long number, int cmd, _Inout_ uint8_t *attr, unsigned int size)') as KoffiFn
  // union bpf_attr's query: target_fd u32, attach_type u32, query_flags u32, attach_flags u32, prog_ids u64, prog_cnt u32.
  const attr = Buffer.alloc(64)
  const BPF_PROG_QUERY = 16
  const BPF_CGROUP_DEVICE = 6
  const BPF_F_QUERY_EFFECTIVE = 1
  attr.writeUInt32LE(fd, 0)
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 4)
  attr.writeUInt32LE(BPF_F_QUERY_EFFECTIVE, 8)
  if (bpfQueryFn(nr, BPF_PROG_QUERY, attr, attr.length) < 0) return undefined
  return attr.readUInt32LE(24)
}
