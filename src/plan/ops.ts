import type {NsType} from '../ns/types.js'
import type {UnshareOp} from '../unshare/ops.js'

/**
 * A plan: the ordered operations native/build/nsx-exec performs before it execs the
 * command. Plain data, so builders are unit-tested without privileges.
 *
 * Each operation maps 1:1 to an entry of the executor's op table (documented at the
 * top of native/exec.c, listed by `nsx-exec --ops`); encode.ts turns a plan into the
 * executor's argv, describe.ts into the --dry-run text. Adding an op means: a C
 * function in native/ops-*.c and its table entry, a variant here, a line in
 * ENCODERS (encode.ts) and in describe.ts. The TypeScript compiler flags a missing one.
 */
export type Op =
  /** pidfd_open(pid) and check /proc/PID/stat starttime: pins the target until release-target. */
  | {op: 'pin'; pid: number; startTime: number}
  /** The pinned process is still alive (so /proc/PID paths opened so far were its own). */
  | {op: 'pin-check'}
  /** Open a namespace file now; setns(ns) will use it instead of the pidfd. */
  | {op: 'nsfd'; ns: NsType; path: string}
  /** Enter the parent of the target's (or the nsfd's) user namespace. */
  | {op: 'user-parent'}
  | {op: 'setns'; ns: NsType}
  /** setns whose failure is ignored: nsenter's first pass, before the user namespace. */
  | {op: 'setns-try'; ns: NsType}
  | {op: 'unshare'; ns: NsType[]}
  | {op: 'release-target'}
  | {op: 'open-root'; path: string}
  | {op: 'open-wd'; path: string}
  | {op: 'chroot'}
  | {op: 'chdir-fd'}
  | {op: 'chdir'; path: string}
  | {op: 'propagation'; mode: Propagation; path: string}
  | {op: 'mount-proc'; path: string}
  | {op: 'setgroups-try'}
  | {op: 'setgroups'}
  | {op: 'setgid'; gid: number}
  | {op: 'setuid'; uid: number}
  | {op: 'keep-caps'}
  | {op: 'cgroup-open'; path: string}
  | {op: 'cgroup-join'}
  | {op: 'env-from'; path: string}
  | {op: 'setenv'; name: string; value: string}
  | {op: 'unsetenv'; name: string}
  | {op: 'fork'}
  | {op: 'exec'; argv: string[]}
  | {op: 'exec-shell'}
  /** nsx unshare's own ops (src/unshare/ops.ts, native/ops-unshare.c). */
  | UnshareOp

export type Propagation = 'private' | 'slave' | 'shared'

export type OpName = Op['op']

/** A plan and the label its errors carry ("nsx enter"). */
export interface Plan {
  command: string
  ops: Op[]
}
