import type {MountInfoEntry} from '../cgroup/hierarchy.js'
import {capabilityName} from '../proc/capabilities.js'
import type {ProcessFacts} from './facts.js'
import type {AuditEvidence, PssReference, Severity} from './types.js'

/**
 * The audit's rules, as data: an id, a default severity, a one-line title, the CIS Docker
 * Benchmark (section 5) and Kubernetes Pod Security Standards references, and the check over
 * one process's facts. docs/audit.md documents each; --rules re-grades or disables them.
 * A check answers undefined (it holds), a finding (reason and evidence), or why it could not
 * be checked.
 */
export type RuleOutcome = undefined | {reason: string; evidence: AuditEvidence[]} | {unchecked: string}

export interface Rule {
  id: string
  severity: Severity
  title: string
  cis: string[]
  pss: PssReference[]
  check(f: ProcessFacts): RuleOutcome
}

const status = (f: ProcessFacts, field: string, value: string): AuditEvidence => ({source: `/proc/${f.pid}/status:${field}`, value})
const nsEvidence = (f: ProcessFacts, type: string): AuditEvidence => {
  const n = f.namespaces.find((x) => x.type === type)
  return {source: `/proc/${f.pid}/ns/${type}`, value: n ? `${type}:[${n.inode}] (${n.host === true ? "the host's" : n.host === false ? 'its own' : 'unknown'}, by ${n.basis ?? 'no basis'})` : 'unreadable'}
}
const notReadable = (f: ProcessFacts) => ({unchecked: `its namespaces are not readable: ${f.namespacesError ?? 'permission denied'}`})

/** A finding when the process shares the host's namespace of this type. */
function hostNamespace(type: string, what: string): (f: ProcessFacts) => RuleOutcome {
  return (f) => {
    const host = f.hostNamespace(type)
    if (host === undefined) return f.namespacesError === undefined ? {unchecked: `the kernel has no ${type} namespaces`} : notReadable(f)
    if (host !== true) return undefined
    return {reason: `shares the host's ${what}`, evidence: [nsEvidence(f, type)]}
  }
}

/** Capabilities only count over the host when the process is in the host's user namespace. */
function overHost(f: ProcessFacts): boolean | {unchecked: string} {
  const user = f.hostNamespace('user')
  if (user === undefined) return notReadable(f)
  return user
}

const has = (mask: bigint, bit: number) => ((mask >> BigInt(bit)) & 1n) === 1n
const bitOf = (name: string) => {
  for (let b = 0; b < 64; b++) if (capabilityName(b) === name) return b
  return -1
}

/** Capabilities that open a way out of a container (docker's default set has none of them). */
export const DANGEROUS_CAPABILITIES = [
  'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYS_MODULE', 'CAP_DAC_READ_SEARCH', 'CAP_NET_ADMIN', 'CAP_BPF', 'CAP_PERFMON',
  'CAP_SYS_RAWIO', 'CAP_SYS_BOOT', 'CAP_SYS_TIME', 'CAP_MAC_ADMIN', 'CAP_MAC_OVERRIDE', 'CAP_SYSLOG', 'CAP_SYS_RESOURCE',
  'CAP_LINUX_IMMUTABLE', 'CAP_IPC_LOCK', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_CONTROL', 'CAP_AUDIT_READ', 'CAP_CHECKPOINT_RESTORE',
] as const

/** What the Pod Security Standards' baseline allows a container to add. */
export const BASELINE_CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_MKNOD', 'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT'] as const

/** Host paths a container should not see (the directory itself, or anything below the ones marked). */
export const SENSITIVE_PATHS: ReadonlyArray<{path: string; below: boolean}> = [
  {path: '/', below: false},
  {path: '/etc', below: true},
  {path: '/proc', below: true},
  {path: '/sys', below: true},
  {path: '/dev', below: false},
  {path: '/boot', below: true},
  {path: '/root', below: true},
  {path: '/usr', below: false},
  {path: '/lib', below: false},
  {path: '/lib/modules', below: true},
  {path: '/var', below: false},
  {path: '/var/lib', below: false},
  {path: '/var/run', below: false},
  {path: '/run', below: false},
  {path: '/home', below: false},
  {path: '/var/lib/kubelet', below: false},
  {path: '/var/lib/kubelet/pki', below: true},
  {path: '/var/lib/docker', below: false},
  {path: '/var/lib/containerd', below: false},
  {path: '/var/lib/containers', below: false},
  {path: '/var/lib/nsx', below: false},
  {path: '/etc/kubernetes', below: true},
]

/** Container runtimes' API sockets: whoever holds one commands the runtime, so the host. */
export const RUNTIME_SOCKETS = ['docker.sock', 'containerd.sock', 'crio.sock', 'podman.sock', 'dockershim.sock', 'cri-dockerd.sock', 'buildkitd.sock', 'kubelet.sock', 'nsx.sock'] as const

/** The host path a mount of the process shows, through the host's mount table (same device, root below the host mount's root). */
export function hostPathOf(m: MountInfoEntry, host: readonly MountInfoEntry[]): string | undefined {
  let best: MountInfoEntry | undefined
  for (const h of host) {
    if (h.dev !== m.dev) continue
    if (!(h.root === '/' || m.root === h.root || m.root.startsWith(`${h.root}/`))) continue
    if (!best || h.root.length > best.root.length) best = h
  }
  if (!best) return undefined
  const rest = best.root === '/' ? m.root : m.root.slice(best.root.length)
  const path = `${best.mountpoint.replace(/\/$/, '')}${rest === '/' ? '' : rest}`
  return path === '' ? '/' : path
}

/** Mounts of a process's own mount namespace, with the host path each shows; undefined when not applicable. */
function ownMounts(f: ProcessFacts): {mounts: MountInfoEntry[]; host: readonly MountInfoEntry[]} | {unchecked: string} | undefined {
  if (f.hostNamespace('mnt') === true) return undefined // host-mount-namespace says it
  if (!f.mounts) return {unchecked: `/proc/${f.pid}/mountinfo is not readable`}
  if (!f.hostMounts) return {unchecked: "the host's mount table is not readable"}
  return {mounts: f.mounts, host: f.hostMounts}
}

/** A finding over the mounts of a process's own mount namespace that match (each with the host path it shows, if any). */
function mountFinding(f: ProcessFacts, what: string, match: (m: MountInfoEntry, hostPath: string | undefined) => boolean): RuleOutcome {
  const own = ownMounts(f)
  if (own === undefined || 'unchecked' in own) return own
  const hits: string[] = []
  for (const m of own.mounts) {
    const path = hostPathOf(m, own.host)
    if (match(m, path)) hits.push(mountLine(m, path ?? m.root))
  }
  if (hits.length === 0) return undefined
  return {reason: `${what}: ${hits.join('; ')}`, evidence: [{source: `/proc/${f.pid}/mountinfo`, value: hits.join('; ')}]}
}

const mountLine = (m: MountInfoEntry, hostPath: string) => `${hostPath} on ${m.mountpoint} (${m.fstype}, ${m.options.split(',').includes('ro') ? 'ro' : 'rw'})`

/** The mount that covers path (the last mounted on the longest mount point above it). */
function coveringMount(mounts: readonly MountInfoEntry[], path: string): MountInfoEntry | undefined {
  let best: MountInfoEntry | undefined
  for (const m of mounts) {
    const mp = m.mountpoint
    if (!(path === mp || path.startsWith(mp === '/' ? '/' : `${mp}/`))) continue
    if (!best || mp.length >= best.mountpoint.length) best = m
  }
  return best
}
const writable = (m: MountInfoEntry) => !m.options.split(',').includes('ro') && !m.superOptions.split(',').includes('ro')

export const RULES: readonly Rule[] = [
  {
    id: 'privileged',
    severity: 'high',
    title: 'Runs privileged: every capability the host allows, over the host',
    cis: ['5.4'],
    pss: [{level: 'baseline', control: 'Privileged Containers'}],
    check(f) {
      const o = overHost(f)
      if (o !== true) return typeof o === 'object' ? o : undefined
      const eff = f.status.capEff
      if ((eff & f.hostCapabilities) !== f.hostCapabilities) return undefined
      return {
        reason: `holds every capability the host's init may hold (${f.capabilities.effective.summary}) in the host's user namespace`,
        evidence: [status(f, 'CapEff', eff.toString(16).padStart(16, '0')), {source: `/proc/1/status:CapBnd`, value: f.hostCapabilities.toString(16).padStart(16, '0')}, nsEvidence(f, 'user')],
      }
    },
  },
  {id: 'host-pid-namespace', severity: 'high', title: "Shares the host's pid namespace", cis: ['5.15'], pss: [{level: 'baseline', control: 'Host Namespaces'}], check: hostNamespace('pid', 'pid namespace: it sees and may signal every host process')},
  {id: 'host-network-namespace', severity: 'high', title: "Shares the host's network namespace", cis: ['5.9'], pss: [{level: 'baseline', control: 'Host Namespaces'}], check: hostNamespace('net', 'network namespace: every host interface and port')},
  {id: 'host-mount-namespace', severity: 'high', title: "Shares the host's mount namespace", cis: ['5.5'], pss: [{level: 'baseline', control: 'HostPath Volumes'}], check: hostNamespace('mnt', 'mount namespace: the whole host filesystem')},
  {id: 'host-ipc-namespace', severity: 'medium', title: "Shares the host's IPC namespace", cis: ['5.16'], pss: [{level: 'baseline', control: 'Host Namespaces'}], check: hostNamespace('ipc', 'IPC namespace: host shared memory and semaphores')},
  {id: 'host-uts-namespace', severity: 'low', title: "Shares the host's UTS namespace", cis: ['5.20'], pss: [], check: hostNamespace('uts', 'UTS namespace: it may change the host name')},
  {id: 'host-user-namespace', severity: 'low', title: "Shares the host's user namespace", cis: ['5.30'], pss: [], check: hostNamespace('user', 'user namespace: its uid 0 is the host\'s uid 0')},
  {id: 'host-cgroup-namespace', severity: 'low', title: "Shares the host's cgroup namespace", cis: [], pss: [], check: hostNamespace('cgroup', 'cgroup namespace: it sees the host\'s cgroup paths')},
  {
    id: 'dangerous-capabilities',
    severity: 'high',
    title: 'May hold capabilities that open a way out (SYS_ADMIN, SYS_PTRACE, SYS_MODULE, DAC_READ_SEARCH, NET_ADMIN, BPF, ...)',
    cis: ['5.3'],
    pss: [{level: 'baseline', control: 'Capabilities'}],
    check(f) {
      const o = overHost(f)
      if (o !== true) return typeof o === 'object' ? o : undefined
      const found = DANGEROUS_CAPABILITIES.filter((c) => bitOf(c) >= 0 && has(f.status.capBnd, bitOf(c)))
      if (found.length === 0) return undefined
      return {reason: `its bounding set keeps ${found.join(', ')}, over the host`, evidence: [status(f, 'CapBnd', f.status.capBnd.toString(16).padStart(16, '0')), nsEvidence(f, 'user')]}
    },
  },
  {
    id: 'net-raw',
    severity: 'medium',
    title: 'May hold CAP_NET_RAW (raw sockets: spoofed packets, ARP tricks on the host network)',
    cis: ['5.3'],
    pss: [{level: 'baseline', control: 'Capabilities'}],
    check(f) {
      const o = overHost(f)
      if (o !== true) return typeof o === 'object' ? o : undefined
      if (!has(f.status.capBnd, bitOf('CAP_NET_RAW'))) return undefined
      return {reason: 'its bounding set keeps CAP_NET_RAW', evidence: [status(f, 'CapBnd', f.status.capBnd.toString(16).padStart(16, '0'))]}
    },
  },
  {
    id: 'capabilities-not-dropped',
    severity: 'low',
    title: 'Keeps capabilities beyond NET_BIND_SERVICE (the restricted standard drops ALL)',
    cis: ['5.3'],
    pss: [{level: 'restricted', control: 'Capabilities'}],
    check(f) {
      const o = overHost(f)
      if (o !== true) return typeof o === 'object' ? o : undefined
      const kept = f.capabilities.bounding.names.filter((n) => n !== 'CAP_NET_BIND_SERVICE')
      if (kept.length === 0) return undefined
      return {reason: `its bounding set keeps ${kept.length} capabilities (${kept.slice(0, 5).join(', ')}${kept.length > 5 ? ', ...' : ''})`, evidence: [status(f, 'CapBnd', f.status.capBnd.toString(16).padStart(16, '0'))]}
    },
  },
  {
    id: 'no-seccomp',
    severity: 'medium',
    title: 'Runs without a seccomp filter',
    cis: ['5.21'],
    pss: [{level: 'baseline', control: 'Seccomp'}, {level: 'restricted', control: 'Seccomp'}],
    check(f) {
      if (f.status.seccomp !== 0) return undefined
      return {reason: 'no seccomp filter: every system call reaches the kernel', evidence: [status(f, 'Seccomp', String(f.status.seccomp))]}
    },
  },
  {
    id: 'no-new-privileges-unset',
    severity: 'medium',
    title: 'no_new_privs is not set: setuid binaries and file capabilities still raise privileges',
    cis: ['5.25'],
    pss: [{level: 'restricted', control: 'Privilege Escalation'}],
    check(f) {
      if (f.status.noNewPrivs) return undefined
      return {reason: 'no_new_privs is unset: a setuid binary or file capability can raise its privileges', evidence: [status(f, 'NoNewPrivs', '0')]}
    },
  },
  {
    id: 'root-user',
    severity: 'medium',
    title: "Runs as uid 0 that is the host's uid 0",
    cis: [],
    pss: [{level: 'restricted', control: 'Running as Non-root user'}],
    check(f) {
      if (!f.viewerIsHost) return {unchecked: "nsx does not run in the host's user namespace, so the uids it sees are not the host's"}
      if (f.status.uid[1] !== 0) return undefined
      return {reason: "runs as uid 0, which is the host's root (no user namespace maps it elsewhere)", evidence: [status(f, 'Uid', f.status.uid.join(' '))]}
    },
  },
  {
    id: 'sensitive-host-path',
    severity: 'high',
    title: 'A sensitive host path is mounted (/, /etc, /proc, /sys, /boot, /var/lib/kubelet, ...)',
    cis: ['5.5'],
    pss: [{level: 'baseline', control: 'HostPath Volumes'}],
    check: (f) =>
      mountFinding(f, 'host paths mounted', (m, path) => {
        // A container's own cgroup directories, bound for it, are its own business.
        if (path === undefined || m.fstype === 'cgroup' || m.fstype === 'cgroup2') return false
        return SENSITIVE_PATHS.some((s) => path === s.path || (s.below && path.startsWith(`${s.path}/`)))
      }),
  },
  {
    id: 'runtime-socket',
    severity: 'high',
    title: "A container runtime's socket is mounted (docker.sock, containerd.sock, crio.sock, ...)",
    cis: ['5.31'],
    pss: [{level: 'baseline', control: 'HostPath Volumes'}],
    check: (f) =>
      mountFinding(f, 'a runtime socket is mounted', (m, path) => {
        const base = (p: string | undefined) => p?.slice(p.lastIndexOf('/') + 1) ?? ''
        return (RUNTIME_SOCKETS as readonly string[]).includes(base(path)) || (RUNTIME_SOCKETS as readonly string[]).includes(base(m.mountpoint))
      }),
  },
  {
    id: 'proc-sys-writable',
    severity: 'high',
    title: '/proc/sys is writable (kernel settings of the host)',
    cis: [],
    pss: [{level: 'baseline', control: '/proc Mount Type'}],
    check(f) {
      const own = ownMounts(f)
      if (own === undefined || 'unchecked' in own) return own
      const m = coveringMount(own.mounts, '/proc/sys')
      if (!m || m.fstype !== 'proc' || !writable(m)) return undefined
      return {reason: `/proc/sys is writable (${m.mountpoint} is mounted ${m.options})`, evidence: [{source: `/proc/${f.pid}/mountinfo`, value: `${m.mountpoint} ${m.fstype} ${m.options}`}]}
    },
  },
  {
    id: 'sysfs-writable',
    severity: 'medium',
    title: '/sys is mounted writable',
    cis: [],
    pss: [],
    check(f) {
      const own = ownMounts(f)
      if (own === undefined || 'unchecked' in own) return own
      const m = coveringMount(own.mounts, '/sys')
      if (!m || m.fstype !== 'sysfs' || !writable(m)) return undefined
      return {reason: `/sys is writable (${m.fstype} on ${m.mountpoint}, ${m.options})`, evidence: [{source: `/proc/${f.pid}/mountinfo`, value: `${m.mountpoint} ${m.fstype} ${m.options}`}]}
    },
  },
  {
    id: 'no-memory-limit',
    severity: 'medium',
    title: 'No memory limit on its cgroup or any above it',
    cis: ['5.10'],
    pss: [],
    check: (f) => limitOutcome(f, 'memory'),
  },
  {
    id: 'no-pids-limit',
    severity: 'low',
    title: 'No pids limit on its cgroup or any above it (a fork bomb takes the host down)',
    cis: ['5.28'],
    pss: [],
    check: (f) => limitOutcome(f, 'pids'),
  },
  {
    id: 'no-device-allowlist',
    severity: 'medium',
    title: 'No device allow-list: it may open any device node it can make or see',
    cis: ['5.17'],
    pss: [{level: 'baseline', control: 'Privileged Containers'}],
    check(f) {
      const d = f.devices
      if (d.source === 'unknown') return {unchecked: `its device rules are not readable: ${d.error ?? 'unknown'}`}
      if (d.source !== 'none') return undefined
      const dir = f.memberships.find((m) => m.controllers.includes('devices'))?.directory ?? f.memberships.find((m) => m.version === 2)?.directory ?? '?'
      return {reason: 'its cgroups allow every device (no devices.list rule, no cgroup2 device program)', evidence: [{source: dir.includes('devices') ? `${dir}/devices.list` : dir, value: 'a *:* rwm'}]}
    },
  },
  {
    id: 'root-filesystem-writable',
    severity: 'low',
    title: 'Its root filesystem is writable',
    cis: ['5.12'],
    pss: [],
    check(f) {
      if (f.hostNamespace('mnt') === true) return undefined
      if (f.rootReadOnly === null) return {unchecked: `/proc/${f.pid}/mountinfo is not readable`}
      if (f.rootReadOnly) return undefined
      return {reason: 'its root filesystem is mounted read-write', evidence: [{source: `/proc/${f.pid}/mountinfo`, value: '/ rw'}]}
    },
  },
]

function limitOutcome(f: ProcessFacts, which: 'memory' | 'pids'): RuleOutcome {
  const l = f.limits[which]
  if (l.set === undefined) return {unchecked: l.why ?? `its ${which} limit is not readable`}
  if (l.set !== null) return undefined
  return {reason: `no ${which} limit on its cgroup or any above it`, evidence: l.read.map((r) => ({source: r.slice(0, r.indexOf(': ')), value: r.slice(r.indexOf(': ') + 2)}))}
}

export function ruleById(id: string): Rule | undefined {
  return RULES.find((r) => r.id === id)
}
