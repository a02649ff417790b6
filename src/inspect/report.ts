import {readFileSync} from 'node:fs'
import type {Limits} from '../container/limits.js'
import {NsxError} from '../cli/errors.js'
import {AccessLog, PROC_ROOT, SYS_ROOT} from '../proc/fs.js'
import {readCommandLine, readCwd, readRoot, readStat, readStatus} from '../proc/process.js'
import {PidResolver, pidOrOclif, requireProcess} from '../proc/target.js'
import {refuseZombie} from './target.js'
import {userName} from '../proc/users.js'
import {CapabilitySet, describeCapabilities, readLastCap} from '../proc/capabilities.js'
import {NsLinks, readNsLinks} from '../ns/links.js'
import {NsType} from '../ns/types.js'
import {discoverNamespaces} from '../ns/discover.js'
import {Discovery} from '../ns/records.js'
import {readCgroupLayout, CgroupMode} from '../cgroup/hierarchy.js'
import {CgroupMembership, locateMemberships, readProcCgroup} from '../cgroup/membership.js'
import {UsernsChain, buildUsernsChain, linkInode, procReader, readOverflowId, translateId, usernsAncestry} from '../userns/chain.js'
import {findHostReference, kernelNumbersNetMnt} from '../ns/host.js'
import {NamespaceEntry, PidLevel, namespaceEntries, pairNspid, pidnsAncestry} from './namespaces.js'
import {readUtsNames} from './uts.js'
import {verdictFor} from './verdict.js'
import {readDeviceRules, readRootReadOnly, readSeccompFilters} from '../security/inspect.js'
import {CgroupLimits, readCgroupLimits} from '../cgroup/limits-in-force.js'
import {readEnvironmentNames} from '../proc/environ.js'
import {MountEntry, readMounts} from './mounts.js'

export interface IdSet {
  real: number
  effective: number
  saved: number
  filesystem: number
}

export interface InspectReport {
  pid: number
  name: string
  command: string | null
  ppid: number
  /** Name of the effective user, from /etc/passwd as nsx sees it. */
  user: string | null
  uids: IdSet
  gids: IdSet
  groups: number[]
  /** One line: "host process" or "isolated: pid, net, mnt, uts, ipc". */
  verdict: string
  /** Types whose namespace is not the host's, in verdict order. */
  isolated: NsType[]
  /** Facts an auditor checks next (root in the host user namespace, all capabilities, ...). */
  notes: string[]
  /** The kernel thread (or pid 1) net and mnt were compared with; null when none was readable. */
  hostReference: {pid: number; name: string; why: string} | null
  namespaces: NamespaceEntry[]
  /** Namespaces the process's future children get, when they differ from its own (after unshare(2) without fork). */
  forChildren: {pid?: number; time?: number}
  /** Threads of the process that sit in another namespace than the process (a thread that called setns). */
  threadsApart: {tid: number; type: NsType; inode: number}[]
  /** The pid in each pid namespace, outermost (nsx's) first. */
  nspid: PidLevel[]
  /** Its cgroups, and the limits enforced on them (each controller's own cgroup: a limit set only on an ancestor is not shown). */
  cgroups: {mode: CgroupMode; memberships: CgroupMembership[]; limits: CgroupLimits}
  userns: UsernsChain
  capabilities: {
    /** Capabilities are held in, and only count over, this user namespace. */
    userns: number
    effective: CapabilitySet
    permitted: CapabilitySet
    bounding: CapabilitySet
    inheritable: CapabilitySet
    ambient: CapabilitySet
  }
  seccomp: {
    mode: 'disabled' | 'strict' | 'filter'
    filters: number
    /** Instructions of each filter, newest first, read back from the kernel (root only). */
    instructions?: number[]
    /** What the filters answer for well-known syscalls called with zero arguments (x86_64). */
    verdicts?: {syscall: string; verdict: string}[]
    /** Why the filters could not be read back. */
    readError?: string
  }
  noNewPrivs: boolean
  /** Device rules of its cgroups: v1 devices.list, or what the cgroup2 device programs allow of well-known devices. */
  devices: {source: 'v1' | 'v2' | 'none' | 'unknown'; rules: string[]; programs?: number; error?: string}
  /** Whether its root is mounted read-only (its mount namespace's mount on "/"); null when unreadable. */
  rootReadOnly: boolean | null
  /** readlink /proc/PID/root and cwd, as nsx's mount namespace resolves them. */
  root: string | null
  cwd: string | null
  /** Its mount namespace's mounts as it sees them (mountinfo order); null when unreadable. */
  mounts: MountEntry[] | null
  /** The names of its environment variables (never their values), sorted; null when unreadable. */
  environment: string[] | null
  /** Hostname and domain name of its uts namespace; null when they could not be read (see utsError). */
  uts: {hostname: string; domainname: string} | null
  utsError?: string
  /** What could not be read for lack of permission, in one line; null when nothing. */
  denied: string | null
  /** When a container was named: the container, its group, and the limits in force (set by nsx run, changed by nsx update). */
  container?: {name: string; id: string; group?: string; limits: Limits}
}

export interface GatherOptions {
  /** pid or container name -> pid (the commands layer's resolver); default: a pid as typed. */
  resolvePid?: PidResolver
  procRoot?: string
  sysRoot?: string
  /** Count the processes sharing each namespace (a scan of /proc). Default true. */
  shares?: boolean
  /** Read the hostname through setns. Default: only on the real /proc. */
  uts?: boolean
  /** Facts of the host that stay the same between processes: given when many are gathered in one run (nsx audit). */
  shared?: SharedFacts
}

/** What gatherReport reads once for any process: the host reference, nsx's own namespaces, the cgroup layout, the last capability. */
export interface SharedFacts {
  ref: ReturnType<typeof findHostReference>
  own: NsLinks | undefined
  layout: ReturnType<typeof readCgroupLayout>
  lastCap: number
  numbersNetMnt: boolean
}

/** SharedFacts of this host (or fixture tree). */
export function readSharedFacts(root = PROC_ROOT, sysRoot = SYS_ROOT): SharedFacts {
  return {ref: findHostReference(root), own: readNsLinks(`${root}/self`), layout: readCgroupLayout(root, sysRoot), lastCap: readLastCap(root), numbersNetMnt: kernelNumbersNetMnt(root)}
}

const SECCOMP_MODES = ['disabled', 'strict', 'filter'] as const

/** Everything about one process's isolation. Throws NsxError for a pid that cannot be inspected. */
export function gatherReport(pidArg: string, opts: GatherOptions = {}): InspectReport {
  const root = opts.procRoot ?? PROC_ROOT
  const sysRoot = opts.sysRoot ?? SYS_ROOT
  const pid = (opts.resolvePid ?? pidOrOclif)(pidArg)
  const {status} = requireProcess(pid, {}, root)
  refuseZombie(pid, status)
  const started = readStat(pid, root)?.starttime
  const log = new AccessLog()

  const links = readNsLinks(`${root}/${pid}`, log)
  if (links === undefined) {
    if (log.total > 0) {
      throw new NsxError(`process ${pid} (${status.name}): permission denied reading its namespaces (ptrace access is needed: run as root or as its owner)`)
    }
    throw new NsxError(`no such process: ${pid} (it exited)`)
  }

  const shared = opts.shared ?? readSharedFacts(root, sysRoot)
  const {own, ref} = shared
  const discovery: Discovery | undefined = opts.shares === false ? undefined : discoverNamespaces({procRoot: root, relations: false})

  let ancestry
  try {
    ancestry = usernsAncestry(pid, root)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ESRCH') throw new NsxError(`no such process: ${pid} (it exited)`)
    throw new NsxError(`process ${pid}: cannot open its user namespace: ${(err as Error).message}`)
  }
  const viewerInode = linkInode(`${root}/self/ns/user`)
  const userns = buildUsernsChain(pid, ancestry, viewerInode, procReader(firstProcessIn(discovery, 'user'), viewerInode, root))
  const userParent = userns.levels[1]?.inode ?? null

  const namespaces = namespaceEntries(pid, links, ref, own, discovery, userParent, root, shared.numbersNetMnt)
  const verdict = verdictFor(namespaces)

  const forChildren: InspectReport['forChildren'] = {}
  for (const [type, file] of [['pid', 'pid_for_children'], ['time', 'time_for_children']] as const) {
    const ino = linkInode(`${root}/${pid}/ns/${file}`)
    if (ino !== undefined && ino !== links[type]) forChildren[type] = ino
  }

  const threadsApart = threadsInOtherNamespaces(pid, discovery)

  const nspid = pairNspid(status.nspid, pidnsAncestry(pid, links.pid, root))

  const layout = shared.layout
  const memberships = locateMemberships(readProcCgroup(pid, log, root) ?? [], layout)

  const lastCap = shared.lastCap
  const capabilities = {
    userns: links.user ?? 0,
    effective: describeCapabilities(status.capEff, lastCap),
    permitted: describeCapabilities(status.capPrm, lastCap),
    bounding: describeCapabilities(status.capBnd, lastCap),
    inheritable: describeCapabilities(status.capInh, lastCap),
    ambient: describeCapabilities(status.capAmb, lastCap),
  }

  let uts: InspectReport['uts'] = null
  let utsError: string | undefined
  if (opts.uts ?? root === '/proc') {
    try {
      uts = readUtsNames(pid, root)
    } catch (err) {
      utsError = (err as Error).message
    }
  } else utsError = 'not read from a fixture tree'

  const report: InspectReport = {
    pid,
    name: status.name,
    command: readCommandLine(pid, root) ?? null,
    ppid: status.ppid,
    user: userName(status.uid[1]) ?? null,
    uids: idSet(status.uid),
    gids: idSet(status.gid),
    groups: status.groups,
    verdict: verdict.line,
    isolated: verdict.isolated,
    notes: [],
    hostReference: ref ? {pid: ref.pid, name: ref.name, why: ref.why} : null,
    namespaces,
    forChildren,
    threadsApart,
    nspid,
    cgroups: {mode: layout.mode, memberships, limits: readCgroupLimits(memberships)},
    userns,
    capabilities,
    seccomp: {mode: SECCOMP_MODES[status.seccomp] ?? 'disabled', filters: status.seccompFilters},
    noNewPrivs: status.noNewPrivs,
    devices: {source: 'unknown', rules: [], error: 'not read from a fixture tree'},
    rootReadOnly: readRootReadOnly(pid, root),
    root: readRoot(pid, log, root) ?? null,
    cwd: readCwd(pid, log, root) ?? null,
    mounts: readMounts(pid, log, root) ?? null,
    environment: readEnvironmentNames(pid, log, root) ?? null,
    uts,
    denied: null,
  }
  if (utsError !== undefined) report.utsError = utsError
  if (root === '/proc') {
    // The live system only: the executor reads the kernel's view (ptrace, bpf).
    if (report.seccomp.mode === 'filter') {
      const back = readSeccompFilters(pid)
      if ('error' in back) report.seccomp.readError = back.error
      else Object.assign(report.seccomp, back)
    }
    const dev = readDeviceRules(memberships)
    report.devices = 'error' in dev ? {source: 'unknown', rules: [], error: dev.error} : dev
  }
  report.notes = notesFor(report, root)

  // Never describe two processes as one: a pid reused meanwhile has another start time.
  const after = readStatus(pid, undefined, root)
  if (after === undefined || readStat(pid, root)?.starttime !== started) {
    throw new NsxError(`process ${pid} exited while it was being inspected`)
  }
  // Processes the share count could not read are part of the same story: one line for both.
  for (const [what, n] of discovery?.log.denied ?? []) log.denied.set(what, (log.denied.get(what) ?? 0) + n)
  report.denied = log.summary() ?? null
  return report
}

function idSet(q: [number, number, number, number]): IdSet {
  return {real: q[0], effective: q[1], saved: q[2], filesystem: q[3]}
}

/** The scan records a thread as a holder of a namespace only when it differs from its process's. */
function threadsInOtherNamespaces(pid: number, discovery: Discovery | undefined): InspectReport['threadsApart'] {
  const out: InspectReport['threadsApart'] = []
  for (const r of discovery?.namespaces ?? []) {
    for (const h of r.holders) if (h.kind === 'thread' && h.pid === pid) out.push({tid: h.tid, type: r.type, inode: r.inode})
  }
  return out.sort((a, b) => a.tid - b.tid || a.type.localeCompare(b.type))
}

/** A pid in the namespace of this type and inode, from the scan (lowest first). */
function firstProcessIn(discovery: Discovery | undefined, type: NsType): (inode: number) => number | undefined {
  return (inode) => discovery?.get(type, inode)?.pids[0]
}

/** Short facts for an auditor: who the process is on the host, and what it may do. */
function notesFor(r: InspectReport, root: string): string[] {
  const notes: string[] = []
  const user = r.namespaces.find((n) => n.type === 'user')
  const euid = r.uids.effective
  if (user?.host === true) {
    if (euid === 0) notes.push('runs as root in the host user namespace: root inside is root on the host')
  } else if (user?.host === false) {
    // /proc/PID/status shows ids as nsx's user namespace sees them: translate inward.
    try {
      const t = translateId(r.userns, 'uid', euid, 'to-inside', readOverflowId('uid', root))
      const top = r.userns.levels.find((l) => l.viewer)
      const where = top?.initial ? 'on the host' : `in nsx's user namespace user:[${top?.inode}]`
      if (t.result === null) notes.push(`runs as uid ${euid} ${where}, which its user namespace does not map (it sees itself as ${t.overflowId})`)
      else notes.push(`runs as uid ${euid}${userLabel(euid, top?.initial === true)} ${where}, uid ${t.result} inside its user namespace`)
    } catch {
      // maps unreadable: the chain itself says so
    }
  }
  if (r.capabilities.effective.full) {
    const scope = user?.host === true ? 'the host' : `user:[${r.capabilities.userns}] only`
    notes.push(`every capability is effective, over ${scope}`)
  }
  if (r.seccomp.mode === 'disabled') notes.push('no seccomp filter')
  // nsx ps names a container by its init: say so, and where the workload is.
  if (r.name === 'nsx-init' && r.nspid.length > 1 && r.nspid[r.nspid.length - 1].pid === 1) {
    const children = readChildren(r.pid, root)
    const workload = children.length > 0 ? `; the workload is its child, pid ${children.join(', ')} (inspect that for the command)` : ''
    notes.unshift(`the container's init (nsx-init, PID 1 inside): it only reaps and forwards signals, with the container's own restrictions${workload}`)
  }
  return notes
}

/** /proc/PID/task/PID/children: the process's children (empty when the kernel does not show them). */
function readChildren(pid: number, root: string): number[] {
  try {
    return readFileSync(`${root}/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
  } catch {
    return []
  }
}

function userLabel(uid: number, host: boolean): string {
  const name = host ? userName(uid) : undefined
  return name ? ` (${name})` : ''
}

/**
 * The stderr line about what could not be read, or none. As root only a kernel rule or an LSM
 * denies a read, hiding nothing asked for (as nsx ls decides, AccessLog.report): the JSON keeps
 * it, stderr stays quiet. Both doors (the fast path and oclif's, for a container's name) say it so.
 */
export function deniedNote(report: InspectReport): string | undefined {
  return report.denied && process.getuid?.() !== 0 ? `nsx inspect: ${report.denied}` : undefined
}
