import {closeSync, constants, fstatSync, openSync} from 'node:fs'
import {PROC_ROOT} from '../proc/fs.js'
import {CLONE_FLAGS} from '../ns/types.js'
import {setns, utsNames} from '../ffi/libc.js'

export type UtsNames = {hostname: string; domainname: string}

/**
 * Hostname and domain name of pid's uts namespace. The kernel answers uname() for the
 * caller's uts namespace only, so the main thread joins the target's for the duration of
 * two calls and returns at once. This is sound for uts alone: setns(CLONE_NEWUTS) moves
 * just the calling thread, libuv's threads never look at the hostname, and no JS runs
 * in between. Needs CAP_SYS_ADMIN over the target's namespace (root).
 */
export function readUtsNames(pid: number, root = PROC_ROOT): UtsNames {
  const flags = constants.O_RDONLY /* libuv adds O_CLOEXEC itself */
  const target = openSync(`${root}/${pid}/ns/uts`, flags)
  let own: number | undefined
  try {
    // thread-self, not self: the namespace of this very thread is the one to come back to.
    own = openSync('/proc/thread-self/ns/uts', flags)
    if (fstatSync(own).ino === fstatSync(target).ino) return utsNames()
    setns(target, CLONE_FLAGS.uts)
    try {
      return utsNames()
    } finally {
      // Failing to return would leave this thread in another uts namespace: never swallow it.
      setns(own, CLONE_FLAGS.uts)
    }
  } finally {
    if (own !== undefined) closeSync(own)
    closeSync(target)
  }
}
