/**
 * Plan operations of a container's security settings (seccomp, devices, read-only root, tmpfs,
 * rlimits, OOM score), executed by native/ops-seccomp.c and native/ops-security.c, and the
 * plain data they carry (a seccomp filter, device rules, an eBPF program). They join the shared
 * Op union (ops.ts); encoders and descriptions live here. The policy that makes them (profiles,
 * defaults, flags) is src/security/.
 */
export type SecurityOp =
  /** Make the filter's BPF now (compiled with libseccomp, or read from `cache`; '-' for none). */
  | {op: 'seccomp'; filter: SeccompFilter; cache: string}
  /** Load it: the last step before exec, after no_new_privs. */
  | {op: 'seccomp-load'}
  /** Compile a filter, print "ok INSTRUCTIONS" and exit: checks a user's profile before any container exists. */
  | {op: 'seccomp-check'; filter: SeccompFilter; cache: string}
  /** cgroup v2 (and a hybrid host's cgroup2 tree): the device allow-list as an attached eBPF program. */
  | {op: 'devices-bpf'; cgroup: string; rules: DeviceRule[]; program: BpfInsn[]}
  | {op: 'tmpfs'; path: string; flags: string[]; data: string}
  | {op: 'device'; path: string; type: 'c' | 'b'; major: number; minor: number; mode: number; uid: number; gid: number}
  /** Create a directory and its parents (the working directory, before the root is made read-only). */
  | {op: 'mkdir-p'; path: string}
  | {op: 'rootfs-readonly'}
  | {op: 'shm-size'; bytes: number}
  | {op: 'oom-score-adj'; value: number}
  /** --sysctl NAME=VALUE: written to /proc/sys/NAME in the container (its own namespaces only: src/security/sysctls.ts). */
  | {op: 'sysctl'; name: string; value: string}
  | {op: 'rlimit'; name: string; soft: number; hard: number}
  /** For nsx inspect: print a process's seccomp filters (ptrace-stopped briefly) and exit. */
  | {op: 'seccomp-dump'; pid: number}
  /** For nsx inspect: print the device programs in effect on a cgroup2 directory and exit. */
  | {op: 'devices-dump'; cgroup: string}

export type SecurityOpName = SecurityOp['op']

type Encoder<N extends SecurityOpName> = (op: Extract<SecurityOp, {op: N}>) => string[]

export const SECURITY_ENCODERS: {[N in SecurityOpName]: Encoder<N>} = {
  seccomp: (o) => [encodeSeccomp(o.filter), o.cache],
  'seccomp-load': () => [],
  'seccomp-check': (o) => [encodeSeccomp(o.filter), o.cache],
  'devices-bpf': (o) => [o.cgroup, encodeProgram(o.program)],
  tmpfs: (o) => [o.path, o.flags.join(',') || '-', o.data || '-'],
  device: (o) => [o.path, o.type, String(o.major), String(o.minor), String(o.mode), String(o.uid), String(o.gid)],
  'mkdir-p': (o) => [o.path],
  'rootfs-readonly': () => [],
  'shm-size': (o) => [String(o.bytes)],
  'oom-score-adj': (o) => [String(o.value)],
  sysctl: (o) => [o.name, o.value],
  rlimit: (o) => [String(ULIMITS[o.name]), String(o.soft), String(o.hard)],
  'seccomp-dump': (o) => [String(o.pid)],
  'devices-dump': (o) => [o.cgroup],
}

export const SECURITY_OP_NAMES = Object.keys(SECURITY_ENCODERS) as SecurityOpName[]

export function isSecurityOp(op: {op: string}): op is SecurityOp {
  return (SECURITY_OP_NAMES as string[]).includes(op.op)
}

export function describeSecurityOp(op: SecurityOp): {action: string; needs: string} {
  switch (op.op) {
    case 'seccomp': {
      const allowed = op.filter.rules.filter((r) => r.action === 'allow').length
      return {
        action: `prepare a seccomp filter: default ${op.filter.defaultAction}, ${op.filter.rules.length} rule(s) (${allowed} allow), architectures ${op.filter.arches.join(',') || 'native'}${op.cache === '-' ? '' : `; compiled program cached in ${op.cache}`}`,
        needs: '-',
      }
    }
    case 'seccomp-check':
      return {action: `compile a seccomp filter of ${op.filter.rules.length} rule(s), print its size and exit`, needs: '-'}
    case 'seccomp-load':
      return {action: 'load the seccomp filter (syscalls newer than the profile get ENOSYS)', needs: 'no_new_privs'}
    case 'devices-bpf':
      return {action: `attach a device program (${op.program.length} eBPF instructions) to ${op.cgroup}: only ${op.rules.map(ruleText).join(', ')}`, needs: 'CAP_SYS_ADMIN (CAP_BPF)'}
    case 'tmpfs':
      return {action: `mount a tmpfs on ${op.path}${op.flags.length ? ` (${op.flags.join(',')})` : ''}${op.data ? ` ${op.data}` : ''}`, needs: 'CAP_SYS_ADMIN over the mount namespace'}
    case 'device':
      return {action: `mknod ${op.path} ${op.type} ${op.major}:${op.minor} mode ${op.mode.toString(8)} owner ${op.uid}:${op.gid}`, needs: 'CAP_MKNOD'}
    case 'mkdir-p':
      return {action: `create ${op.path} (and its parents) in the container`, needs: '-'}
    case 'rootfs-readonly':
      return {action: "remount the container's root read-only", needs: 'CAP_SYS_ADMIN over the mount namespace'}
    case 'shm-size':
      return {action: `remount /dev/shm with ${op.bytes} bytes`, needs: 'CAP_SYS_ADMIN over the mount namespace'}
    case 'sysctl':
      return {action: `set the sysctl ${op.name} to '${op.value}' (the container's own namespace)`, needs: 'root in the namespace'}
    case 'oom-score-adj':
      return {action: `set oom_score_adj to ${op.value}`, needs: op.value < 0 ? 'CAP_SYS_RESOURCE' : '-'}
    case 'seccomp-dump':
      return {action: `read the seccomp filters of pid ${op.pid} (stopped meanwhile with ptrace) and print them`, needs: 'CAP_SYS_ADMIN, ptrace access'}
    case 'devices-dump':
      return {action: `print the device programs in effect on ${op.cgroup}`, needs: 'CAP_SYS_ADMIN (CAP_BPF)'}
    case 'rlimit':
      return {action: `set the ${op.name} limit to ${op.soft < 0 ? 'unlimited' : op.soft}:${op.hard < 0 ? 'unlimited' : op.hard}`, needs: 'CAP_SYS_RESOURCE to raise a hard limit'}
  }
}

/**
 * A seccomp filter as plan data: a docker-format profile resolved for one container (its
 * capabilities, this machine's architecture and kernel) into the rules the executor
 * compiles with libseccomp (native/ops-seccomp.c). Kept in the container's saved spec,
 * so `nsx exec` and a restart load the very same filter.
 */
export interface SeccompFilter {
  /** libseccomp's action words: allow, log, kill, kill_process, trap, errno:N, trace:N. */
  defaultAction: string
  /** libseccomp architecture names, native first. */
  arches: string[]
  rules: FilterRule[]
}

export interface FilterRule {
  action: string
  syscall: string
  args: FilterArg[]
}

export type Comparison = 'ne' | 'lt' | 'le' | 'eq' | 'ge' | 'gt' | 'me'

export interface FilterArg {
  index: number
  op: Comparison
  value: number
  valueTwo: number
}

/** The executor's filter text (native/ops-seccomp.c documents it). */
export function encodeSeccomp(f: SeccompFilter): string {
  const lines = [`default ${f.defaultAction}`]
  if (f.arches.length > 0) lines.push(`arch ${f.arches.join(' ')}`)
  for (const r of f.rules) {
    const conds = r.args.map((a) => `a${a.index}:${a.op}:${a.value}${a.valueTwo || a.op === 'me' ? `:${a.valueTwo}` : ''}`)
    lines.push(['rule', r.action, r.syscall, ...conds].join(' '))
  }
  // ';' between lines: one argv word that --dry-run shows on one line.
  return lines.join(';')
}

export interface DeviceRule {
  /** c: character, b: block, a: both. */
  type: 'c' | 'b' | 'a'
  /** '*' (undefined here: -1) matches any. */
  major: number
  minor: number
  /** Some of r, w, m. */
  access: string
}

/** Any major or minor. */
export const ANY = -1

export function ruleText(r: DeviceRule): string {
  const n = (x: number) => (x === ANY ? '*' : String(x))
  return `${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`
}

export interface BpfInsn {
  code: number
  dst: number
  src: number
  off: number
  imm: number
}

/** The program as the executor takes it: 16 hex digits per instruction, in memory order. */
export function encodeProgram(prog: readonly BpfInsn[]): string {
  const buf = Buffer.alloc(prog.length * 8)
  prog.forEach((p, i) => {
    buf.writeUInt8(p.code, i * 8)
    buf.writeUInt8((p.dst & 0xf) | ((p.src & 0xf) << 4), i * 8 + 1)
    buf.writeInt16LE(p.off, i * 8 + 2)
    buf.writeInt32LE(p.imm | 0, i * 8 + 4)
  })
  return buf.toString('hex')
}

/** docker's --ulimit names and the resource each sets (RLIMIT_* numbers on Linux). */
export const ULIMITS: Record<string, number> = {
  cpu: 0, fsize: 1, data: 2, stack: 3, core: 4, rss: 5, nproc: 6, nofile: 7, memlock: 8, as: 9,
  locks: 10, sigpending: 11, msgqueue: 12, nice: 13, rtprio: 14, rttime: 15,
}
