import type {IdMapping, Op, OpName, Plan} from './ops.js'
import {UNSHARE_ENCODERS} from './unshare-ops.js'
import {SECURITY_ENCODERS} from './security-ops.js'

type Encoder<N extends OpName> = (op: Extract<Op, {op: N}>) => string[]

/** Arguments of each op, in the order the executor's op table takes them. */
const ENCODERS: {[N in OpName]: Encoder<N>} = {
  pin: (o) => [String(o.pid), String(o.startTime)],
  'pin-thread': (o) => [String(o.tid), String(o.startTime)],
  'pin-check': () => [],
  nsfd: (o) => [o.ns, o.path],
  'nsfd-pinned': (o) => [o.ns],
  'net-socket': (o) => [String(o.fd)],
  'user-parent': () => [],
  setns: (o) => [o.ns],
  'setns-try': (o) => [o.ns],
  unshare: (o) => [o.ns.join(',')],
  'release-target': () => [],
  'open-root': (o) => [o.path],
  'open-wd': (o) => [o.path],
  chroot: () => [],
  'chdir-fd': () => [],
  chdir: (o) => [o.path],
  'exec-chdir': (o) => [o.path],
  propagation: (o) => [o.mode, o.path],
  'mount-proc': (o) => [o.path],
  'setgroups-try': () => [],
  setgroups: () => [],
  setgid: (o) => [String(o.gid)],
  setuid: (o) => [String(o.uid)],
  'keep-caps': () => [],
  'cgroup-open': (o) => [o.path],
  'cgroup-join': () => [],
  'env-from': (o) => [o.path],
  setenv: (o) => [o.name, o.value],
  unsetenv: (o) => [o.name],
  fork: () => [],
  exec: (o) => o.argv,
  'exec-shell': () => [],
  ...UNSHARE_ENCODERS,
  ...SECURITY_ENCODERS,
  'ctr-cgroup-fd': (o) => [o.path],
  'ctr-cleanup-cgroup': (o) => [o.path],
  'ctr-pid-ns': (o) => [o.path],
  'ctr-cleanup-path': (o) => [o.path],
  'ctr-exit-hook': (o) => [o.path],
  'ctr-exit-hook-bg': (o) => [o.path],
  'ctr-net-hook': (o) => [o.path],
  'ctr-net-ready': () => [],
  'netns-new': (o) => [o.path],
  'cni-chain': () => [],
  'cni-add': (o) => [o.plugin, o.conf, o.out],
  'cni-status': (o) => [o.path],
  'cni-background': (o) => [o.log],
  'cni-done': () => [],
  'ctr-net-wait-fd': (o) => [o.path],
  'ctr-net-wait': () => [],
  end: () => [],
  'ctr-ready-fd': (o) => [String(o.fd)],
  'ctr-exit-file': (o) => [o.path],
  'ctr-attach-socket': (o) => [o.dir],
  'ctr-attach-client': (o) => [String(o.fd)],
  'ctr-restart': (o) => [o.policy, String(o.maxRetries), o.stopFile],
  'ctr-health': (o) => [o.probe, o.state, String(o.intervalMs), String(o.timeoutMs), String(o.startPeriodMs), String(o.startIntervalMs), String(o.retries)],
  'ctr-log': (o) => [o.path, String(o.maxSize), String(o.maxFiles)],
  'ctr-log-tee': () => [],
  'ctr-log-none': () => [],
  'ctr-userns': (o) => [mapText(o.uidMap), mapText(o.gidMap), o.setgroups],
  'ctr-rootless': () => [],
  'ctr-become-root': () => [],
  'ctr-idmap-root': (o) => [o.lowerDirs.join(':'), o.points.join(':'), o.upper, o.work, o.target],
  'ctr-supervise': (o) => [o.pidsFile],
  // overlayfs takes lowerdir top first.
  'ctr-rootfs': (o) => [[...o.lowerDirs].reverse().join(':'), o.upper, o.work, o.target],
  'ctr-bind': (o) => [o.source, o.target, o.readOnly ? 'ro' : 'rw'],
  'ctr-proc': () => [],
  'ctr-sys': () => [],
  'ctr-dev': () => [],
  'ctr-hostname': (o) => [o.name],
  'ctr-loopback': () => [],
  'ctr-pivot': () => [],
  'ctr-mask': (o) => [o.path],
  'ctr-readonly': (o) => [o.path],
  'ctr-tty': (o) => [o.stdin ? 'stdin' : 'nostdin'],
  'ctr-pty': () => [],
  'ctr-pty-attach': () => [],
  'ctr-init': () => [],
  'ctr-stdin-null': () => [],
  'ctr-workdir': (o) => [o.path],
  'cap-bound': (o) => [capMask(o.caps)],
  'cap-set': (o) => [capMask(o.caps)],
  'ctr-groups': (o) => [o.gids.join(',')],
  'no-new-privs': () => [],
  'close-fds': () => [],
  'ctr-cgroupfs': (o) => {
    const m = o.mount
    const arg = m.kind === 'cgroup' ? m.controllers.join(',') : m.kind === 'symlink' ? m.target : '-'
    return [m.kind, arg, m.path, o.readOnly ? 'ro' : 'rw']
  },
  'ctr-init-title': (o) => [o.envFile],
  'ctr-init-creds': (o) => [capMask(o.caps), String(o.uid), String(o.gid), o.groups === undefined ? '-' : o.groups.join(','), o.seccomp ? 'seccomp' : '-'],
  'ctr-term-grace': (o) => [String(o.seconds)],
  'ctr-exec': (o) => o.argv,
  'env-clear': () => [],
  'exec-detach': () => [],
  'exec-pty': (o) => [o.stdin ? 'stdin' : 'nostdin'],
  'exec-pty-size': (o) => [String(o.fd)],
  'exec-run': (o) => o.argv,
  'die-with-parent': () => [],
  // overlayfs takes lowerdir top first; '-' for the host's tools.
  'debug-root': (o) => [o.writable ? 'rw' : 'ro', o.lowerDirs.length === 0 ? '-' : [...o.lowerDirs].reverse().join(':')],
  'debug-session': () => [],
}

/** uid_map lines, ','-separated for one argv word: "0 1000 1,1 100000 65536". */
function mapText(m: IdMapping[]): string {
  return m.map((x) => `${x.inside} ${x.outside} ${x.count}`).join(',')
}

/** Capability numbers as the executor's 64-bit hex mask. */
export function capMask(caps: readonly number[]): string {
  let m = 0n
  for (const c of caps) m |= 1n << BigInt(c)
  return m.toString(16)
}

/** Every op TypeScript can encode, for the test that holds them against the executor's table. */
export function encodedOpNames(): string[] {
  return Object.keys(ENCODERS)
}

/** Number of arguments each op takes (exec: -1, the rest); must match native/exec.c's table. */
export function opArity(op: Op): number {
  return op.op === 'exec' || op.op === 'ctr-exec' || op.op === 'exec-run' ? -1 : encodeOp(op).length - 1
}

export function encodeOp(op: Op): string[] {
  const enc = ENCODERS[op.op] as Encoder<typeof op.op>
  return [op.op, ...enc(op as never)]
}

/** The executor's argv: argv[0] is the message prefix, then each op and its arguments. */
export function encodePlan(plan: Plan): string[] {
  return [plan.command, ...plan.ops.flatMap(encodeOp)]
}
