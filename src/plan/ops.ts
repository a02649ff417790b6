import type {NsType} from '../ns/types.js'
import type {UnshareOp} from './unshare-ops.js'
import type {SecurityOp} from './security-ops.js'

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
  /** pin for a thread: its own namespaces (a thread may have left its process's), Linux 6.9+. */
  | {op: 'pin-thread'; tid: number; startTime: number}
  /** The pinned process is still alive (so /proc/PID paths opened so far were its own). */
  | {op: 'pin-check'}
  /** Open a namespace file now; setns(ns) will use it instead of the pidfd. */
  | {op: 'nsfd'; ns: NsType; path: string}
  /** Open the pinned process's namespace file now (/proc/PID/ns/NS); setns(ns) will use it instead of the pidfd. */
  | {op: 'nsfd-pinned'; ns: NsType}
  /** The network namespace of a socket the pinned target holds (-N/--net-socket). */
  | {op: 'net-socket'; fd: number}
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
  | {op: 'exec-chdir'; path: string}
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
  /** nsx unshare's own ops (src/plan/unshare-ops.ts, native/ops-unshare.c). */
  | UnshareOp
  /** A container's seccomp filter and other security settings (security-ops.ts). */
  | SecurityOp
  // Container ops (nsx run; native/ops-supervisor.c, ops-rootfs.c, ops-tty.c, ops-init.c, ops-payload.c; built by src/container/plan.ts).
  /** A v2 cgroup directory the init is born in (clone3 CLONE_INTO_CGROUP: no migration). */
  | {op: 'ctr-cgroup-fd'; path: string}
  /** After the container ends, the supervisor removes this cgroup directory. */
  | {op: 'ctr-cleanup-cgroup'; path: string}
  /** --pid host or container:NAME: the init joins the supervisor's pid namespace ("host") or the one at path, not a new one. */
  | {op: 'ctr-pid-ns'; path: string}
  /** After the container ends, the supervisor removes this tree. */
  | {op: 'ctr-cleanup-path'; path: string}
  /** After the container has ended for good, the supervisor runs this executable (its network's teardown, src/network/). */
  | {op: 'ctr-exit-hook'; path: string}
  /** The same without waiting for it (a foreground run's status is not held up by the CNI DEL). */
  | {op: 'ctr-exit-hook-bg'; path: string}
  /** Once the init has its network namespace (ctr-net-ready), the supervisor runs this executable with its pid and waits (a rootless network stack, src/network/rootless.ts). */
  | {op: 'ctr-net-hook'; path: string}
  /** In the init, after its network namespace is made: the supervisor's ctr-net-hook runs; the init goes on once it succeeded. */
  | {op: 'ctr-net-ready'}
  /** CNI ADD in one process (src/network/attach.ts): a network namespace pinned at PATH, each plugin chained. */
  | {op: 'netns-new'; path: string}
  | {op: 'cni-chain'}
  | {op: 'cni-add'; plugin: string; conf: string; out: string}
  /** The ADD's outcome in PATH ("ok" or the failed plugin's line), locked while it runs; the rest in the background (stderr to LOG); the init waits for it before its command. */
  | {op: 'cni-status'; path: string}
  | {op: 'cni-background'; log: string}
  | {op: 'cni-done'}
  | {op: 'ctr-net-wait-fd'; path: string}
  | {op: 'ctr-net-wait'}
  /** The end of a plan that execs nothing (exit 0). */
  | {op: 'end'}
  /** Detached start: an fd (a pipe to the starter) that closes when the command is exec'd. */
  | {op: 'ctr-ready-fd'; fd: number}
  | {op: 'ctr-exit-file'; path: string}
  | {op: 'ctr-attach-socket'; dir: string}
  | {op: 'ctr-attach-client'; fd: number}
  | {op: 'ctr-restart'; policy: 'on-failure' | 'always' | 'unless-stopped'; maxRetries: number; stopFile: string}
  /** The supervisor runs the healthcheck: `probe` holds nsx exec's plan (NUL-separated, its leading pin filled in at each run), results go to `state`; times in ms. */
  | {op: 'ctr-health'; probe: string; state: string; intervalMs: number; timeoutMs: number; startPeriodMs: number; startIntervalMs: number; retries: number}
  | {op: 'ctr-log'; path: string; maxSize: number; maxFiles: number}
  /** The none log driver: the output relayed (attach clients, ctr-log-tee), kept nowhere. */
  | {op: 'ctr-log-none'}
  /** After ctr-log: a foreground run, logged and its output relayed to nsx's stdout and stderr. */
  | {op: 'ctr-log-tee'}
  /** The init is cloned into new user and pid namespaces; the supervisor writes these maps (ContainerId HostId Count). */
  | {op: 'ctr-userns'; uidMap: IdMapping[]; gidMap: IdMapping[]; setgroups: 'allow' | 'deny'}
  /** --userns as root: the supervisor mounts the root in the init's mount namespace over layers idmapped to it (lowest first). */
  | {op: 'ctr-idmap-root'; lowerDirs: string[]; points: string[]; upper: string; work: string; target: string}
  /** --userns as root: become the container's root once the host paths are done with. */
  | {op: 'ctr-become-root'}
  /** No privilege on the host: overlay with userxattr, /dev nodes bound from the host. */
  | {op: 'ctr-rootless'}
  /** Fork the container's init; the parent supervises, cleans up and passes on the status. */
  | {op: 'ctr-supervise'; pidsFile: string}
  /** Mount the overlay root; lowerDirs lowest first (as --layer), reversed when encoded. */
  | {op: 'ctr-rootfs'; lowerDirs: string[]; upper: string; work: string; target: string}
  | {op: 'ctr-bind'; source: string; target: string; readOnly: boolean}
  | {op: 'ctr-proc'}
  | {op: 'ctr-sys'}
  | {op: 'ctr-dev'}
  | {op: 'ctr-hostname'; name: string}
  | {op: 'ctr-loopback'}
  | {op: 'ctr-pivot'}
  | {op: 'ctr-mask'; path: string}
  | {op: 'ctr-readonly'; path: string}
  /** -t: the supervisor relays a pty the init creates; with stdin: true (-i) also its stdin. */
  | {op: 'ctr-tty'; stdin: boolean}
  | {op: 'ctr-pty'}
  | {op: 'ctr-pty-attach'}
  | {op: 'ctr-init'}
  | {op: 'ctr-stdin-null'}
  | {op: 'ctr-workdir'; path: string}
  /** Capability numbers to keep in the bounding set. */
  | {op: 'cap-bound'; caps: number[]}
  /** Capability numbers for the effective and permitted sets. */
  | {op: 'cap-set'; caps: number[]}
  | {op: 'ctr-groups'; gids: number[]}
  | {op: 'no-new-privs'}
  | {op: 'close-fds'}
  /** /sys/fs/cgroup inside (src/container/cgroupfs.ts): one mount or link, in the container's cgroup namespace. */
  | {op: 'ctr-cgroupfs'; mount: CgroupfsMount; readOnly: boolean}
  /** Before ctr-supervise: the init's /proc cmdline is "nsx-init", its environ the entries of this NUL-separated file. */
  | {op: 'ctr-init-title'; envFile: string}
  /** After forking the command, the init drops to its capabilities, ids and no_new_privs (groups undefined: left alone). */
  | {op: 'ctr-init-creds'; caps: number[]; uid: number; gid: number; groups?: number[]; seccomp: boolean}
  /** Foreground runs: a SIGTERM to the supervisor SIGKILLs the init this many seconds later. */
  | {op: 'ctr-term-grace'; seconds: number}
  /** exec (execvp, 126/127) that also reports a failure to a detached starter (ctr-ready-fd). */
  | {op: 'ctr-exec'; argv: string[]}
  // nsx exec's ops (native/ops-exec.c, built by src/plan/exec.ts).
  /** Empty the environment (setenv ops then give the container's). */
  | {op: 'env-clear'}
  /** exec -d: fork; the child goes on in a new session with /dev/null for stdio, the parent exits 0 once it exec'd (or with its 126/127). */
  | {op: 'exec-detach'}
  /** exec -t: fork with a pty of the container's devpts as the child's terminal; the parent relays it (and stdin when `stdin`), passes on the status (native/ops-exec-tty.c). */
  | {op: 'exec-pty'; stdin: boolean}
  /** Before exec-pty: the window size comes from FD (4-byte records: rows, columns, big-endian), not the caller's terminal (the Engine API's exec resize). */
  | {op: 'exec-pty-size'; fd: number}
  /** Close every fd above 2, then execvp (126/127), a failure reported to exec-detach's parent. */
  | {op: 'exec-run'; argv: string[]}
  // nsx debug's ops (native/ops-debug.c, built by src/debug/plan.ts).
  /** PR_SET_PDEATHSIG SIGKILL: the process dies with its parent. */
  | {op: 'die-with-parent'}
  /** A new root of the host's tools (lowerDirs empty) or of layers (lowest first), the target's root at /target; pivot_root. */
  | {op: 'debug-root'; writable: boolean; lowerDirs: string[]}
  /** A pid namespace of the session's own: fork its first process; the parent waits. */
  | {op: 'debug-session'}

/** One mount or link of /sys/fs/cgroup inside a container (planned by src/container/cgroupfs.ts). */
export type CgroupfsMount =
  | {kind: 'tmpfs'; path: string}
  | {kind: 'cgroup'; controllers: string[]; path: string}
  | {kind: 'cgroup2'; path: string}
  | {kind: 'symlink'; target: string; path: string}
  /** The tmpfs, once the hierarchies are mounted on it. */
  | {kind: 'remount-ro'; path: string}

export type Propagation = 'private' | 'slave' | 'shared'

/** One line of a uid_map or gid_map: ids [inside, inside+count) are [outside, outside+count) outside. */
export interface IdMapping {
  inside: number
  outside: number
  count: number
}

export type OpName = Op['op']

/** A plan and the label its errors carry ("nsx enter"). */
export interface Plan {
  command: string
  ops: Op[]
}
