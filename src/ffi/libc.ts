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
// _IOR(0xb7, 0x4, uid_t): direction read (2) << 30 | size 4 << 16.
export const NS_GET_OWNER_UID = (2 << 30) | (4 << 16) | (NSIO << 8) | 0x4

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

/** Owner uid of a user namespace (as seen from the caller's user namespace). */
export function nsGetOwnerUid(fd: number): number {
  const c = loadLibc()
  const out = new Uint32Array(1)
  const r = c.ioctl(fd, NS_GET_OWNER_UID, 'uint32_t *', out)
  if (r < 0) throw new SyscallError('ioctl(NS_GET_OWNER_UID)', c.errno())
  return out[0]
}

const SYS_PIDFD_OPEN = 434

/** pidfd_open(2): a handle on a process that stays valid (and unambiguous) even if its pid is reused. */
export function pidfdOpen(pid: number): number {
  const c = loadLibc()
  const r = c.syscall(SYS_PIDFD_OPEN, 'int', pid, 'unsigned int', 0)
  if (r < 0) throw new SyscallError(`pidfd_open(${pid})`, c.errno())
  return r
}
