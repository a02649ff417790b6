import {closeSync, constants, existsSync, openSync} from 'node:fs'
import {cgroupDeviceProgramCount} from '../ffi/libc.js'
import {PROC_ROOT, readText} from '../proc/fs.js'
import type {ProcStatus} from '../proc/process.js'
import {CapabilitySet, describeCapabilities} from '../proc/capabilities.js'
import {MountInfoEntry, parseMountInfo} from '../cgroup/hierarchy.js'
import {CgroupMembership, locateMemberships} from '../cgroup/membership.js'
import {readDeviceRules} from '../security/inspect.js'
import type {InspectReport, SharedFacts} from '../inspect/report.js'
import {decideHost, HostBasis, INITIAL_INODES} from '../ns/host.js'
import {NS_TYPES, NsType} from '../ns/types.js'
import type {ScannedProcess} from './workloads.js'

/**
 * What the rules read about one process: the facts nsx inspect reports, read by the same
 * readers (status for capabilities, seccomp, no_new_privs and uids; ns links with ns/host.ts's
 * decision of which are the host's; cgroup memberships; security/inspect.ts's device rules;
 * the read-only root from mountinfo), from what the workload scan already read, plus the mount
 * table and the limits of its cgroups. An ordinary user cannot read another's namespaces:
 * then `namespaces` is empty and namespacesError says why.
 */
export interface ProcessFacts {
  pid: number
  procRoot: string
  status: ProcStatus
  /** Its namespaces, and whether each is the host's (and how that was decided); [] when not readable. */
  namespaces: {type: NsType; inode: number; host: boolean | null; basis: HostBasis | null}[]
  /** Why its namespaces could not be read. */
  namespacesError?: string
  /** type -> host? (undefined: unknown). */
  hostNamespace(type: string): boolean | undefined
  capabilities: {effective: CapabilitySet; permitted: CapabilitySet; bounding: CapabilitySet}
  /** The host init's bounding set: every capability a process on this host may hold. */
  hostCapabilities: bigint
  /** Whether nsx runs in the host's user namespace (so the uids in status are the host's). */
  viewerIsHost: boolean
  memberships: CgroupMembership[]
  devices: InspectReport['devices']
  rootReadOnly: boolean | null
  /** Its mount table; undefined when unreadable. */
  mounts?: MountInfoEntry[]
  /** The host's mount table (the host reference process's), to tell which host path a bind mount shows. */
  hostMounts?: MountInfoEntry[]
  /** Memory and pids limits in force on its cgroups (the lowest found walking up). */
  limits: {memory: LimitFact; pids: LimitFact}
}

export interface LimitFact {
  /** The limit's file and value, when one is set; null when none is; undefined when not readable (see why). */
  set?: {file: string; value: string} | null
  /** The files read (for the evidence of "no limit"). */
  read: string[]
  why?: string
}

/** What many processes of one run share: the host's facts, and what is read once per mount namespace or cgroup. */
export class FactCache {
  readonly hostCapabilities: bigint
  readonly viewerIsHost: boolean
  private readonly mountTables = new Map<string, MountInfoEntry[] | undefined>()
  private readonly devices = new Map<string, InspectReport['devices']>()
  private hostMountTable: MountInfoEntry[] | undefined | null = null

  constructor(
    readonly shared: SharedFacts,
    readonly procRoot = PROC_ROOT,
  ) {
    const init = readText(`${procRoot}/1/status`)
    const bnd = init ? /^CapBnd:\s*([0-9a-f]+)/m.exec(init)?.[1] : undefined
    this.hostCapabilities = bnd ? BigInt(`0x${bnd}`) : (1n << BigInt(shared.lastCap + 1)) - 1n
    this.viewerIsHost = shared.own?.user === INITIAL_INODES.user
  }

  mountsOf(pid: number, mntInode: number | undefined): MountInfoEntry[] | undefined {
    const key = mntInode === undefined ? `pid:${pid}` : `mnt:${mntInode}`
    if (!this.mountTables.has(key)) {
      const text = readText(`${this.procRoot}/${pid}/mountinfo`)
      this.mountTables.set(key, text === undefined ? undefined : parseMountInfo(text))
    }
    return this.mountTables.get(key)
  }

  private readonly files = new Map<string, string | undefined>()

  /** A cgroup control file, read once per run. */
  cgroupFile(path: string): string | undefined {
    if (!this.files.has(path)) this.files.set(path, readText(path)?.trim())
    return this.files.get(path)
  }

  limit(memberships: CgroupMembership[], controller: string, v1File: string, v2File: string): LimitFact {
    return readLimit(memberships, this, controller, v1File, v2File)
  }

  hostMounts(): MountInfoEntry[] | undefined {
    if (this.hostMountTable === null) {
      const ref = this.shared.ref?.pid ?? 1
      const text = readText(`${this.procRoot}/${ref}/mountinfo`) ?? readText(`${this.procRoot}/1/mountinfo`)
      this.hostMountTable = text === undefined ? undefined : parseMountInfo(text)
    }
    return this.hostMountTable
  }

  /** Device rules by cgroup: read once for the processes of one cgroup (the v2 programs are read through the executor). */
  devicesOf(memberships: CgroupMembership[]): InspectReport['devices'] {
    if (this.procRoot !== '/proc') return {source: 'unknown', rules: [], error: 'not read from a fixture tree'}
    const key = memberships.map((m) => m.directory ?? '').join('\n')
    let d = this.devices.get(key)
    if (d === undefined) {
      // A v1 list is an allow-list already: the cgroup2 programs (read through the executor, a process each) are asked only without one.
      const v1only = memberships.filter((m) => m.version === 1)
      const v1 = readDeviceRules(v1only)
      // And only where some are in effect: BPF_PROG_QUERY in-process says how many.
      const r = 'source' in v1 && v1.source === 'v1' ? v1 : devicePrograms(memberships) === 0 ? v1 : readDeviceRules(memberships)
      d = 'error' in r ? {source: 'unknown', rules: [], error: r.error} : r
      this.devices.set(key, d)
    }
    return d
  }
}

export function gatherFacts(p: ScannedProcess, cache: FactCache): ProcessFacts {
  const {pid, links} = p
  const status = p.status()
  const shared = cache.shared
  const lastCap = shared.lastCap
  const memberships = locateMemberships(p.cgroups, shared.layout)
  // Whether each namespace is the host's, decided as nsx inspect decides it (ns/host.ts).
  const namespaces: ProcessFacts['namespaces'] = []
  for (const type of NS_TYPES) {
    const inode = links?.[type]
    if (inode === undefined) continue
    const d = decideHost(type, inode, shared.ref, shared.own, shared.numbersNetMnt)
    namespaces.push({type, inode, host: d.host, basis: d.basis})
  }
  const hosts = new Map(namespaces.map((n) => [n.type as string, n.host]))
  const mounts = cache.mountsOf(pid, links?.mnt)
  return {
    pid,
    procRoot: cache.procRoot,
    status,
    namespaces,
    ...(links === undefined ? {namespacesError: 'reading /proc/PID/ns needs ptrace access to the process (root, or its owner)'} : {}),
    hostNamespace: (type) => hosts.get(type) ?? undefined,
    capabilities: {
      effective: describeCapabilities(status.capEff, lastCap),
      permitted: describeCapabilities(status.capPrm, lastCap),
      bounding: describeCapabilities(status.capBnd, lastCap),
    },
    hostCapabilities: cache.hostCapabilities,
    viewerIsHost: cache.viewerIsHost,
    memberships,
    devices: cache.devicesOf(memberships),
    rootReadOnly: mounts === undefined ? null : rootReadOnly(mounts),
    ...(mounts ? {mounts} : {}),
    ...(cache.hostMounts() ? {hostMounts: cache.hostMounts()} : {}),
    limits: {
      memory: cache.limit(memberships, 'memory', 'memory.limit_in_bytes', 'memory.max'),
      pids: cache.limit(memberships, 'pids', 'pids.max', 'pids.max'),
    },
  }
}

/** As security/inspect.ts's readRootReadOnly decides it, over a mount table already read: the last mount on "/". */
function rootReadOnly(mounts: readonly MountInfoEntry[]): boolean | null {
  let ro: boolean | null = null
  for (const m of mounts) if (m.mountpoint === '/') ro = m.options.split(',').includes('ro')
  return ro
}

/** v1 memory.limit_in_bytes at or above this is "no limit" (the kernel shows PAGE_COUNTER_MAX in bytes). */
const V1_UNLIMITED = 1n << 62n

/** The limit in force: the workload's cgroup or any above it, in the hierarchy that holds the controller. */
function readLimit(memberships: CgroupMembership[], cache: FactCache, controller: string, v1File: string, v2File: string): LimitFact {
  const layout = cache.shared.layout
  const v1 = layout.v1.find((h) => h.controllers.includes(controller))
  let m: CgroupMembership | undefined
  let mountpoint: string | undefined
  let file: string
  if (v1) {
    m = memberships.find((x) => x.version === 1 && x.controllers.includes(controller))
    mountpoint = v1.mountpoint
    file = v1File
  } else if (layout.v2 && layout.v2Controllers.includes(controller)) {
    m = memberships.find((x) => x.version === 2)
    mountpoint = layout.v2
    file = v2File
  } else {
    return {read: [], why: `no ${controller} controller is mounted`}
  }
  if (m?.directory === undefined || mountpoint === undefined) return {read: [], why: `its ${controller} cgroup is not visible from here`}
  const read: string[] = []
  for (let dir = m.directory; dir.length >= mountpoint.length; dir = dir.slice(0, dir.lastIndexOf('/'))) {
    const path = `${dir}/${file}`
    const text = cache.cgroupFile(path)
    if (text === undefined) {
      // The root cgroup has no limit file (v2 always, v1 pids): no limit there.
      read.push(dir === mountpoint && !existsSync(path) ? `${path}: absent (the root cgroup has no limit)` : `${path}: unreadable`)
    } else {
      read.push(`${path}: ${text}`)
      const limited = text !== 'max' && !(v1 && controller === 'memory' && /^\d+$/.test(text) && BigInt(text) >= V1_UNLIMITED)
      if (limited) return {set: {file: path, value: text}, read}
    }
    if (dir === mountpoint) break
  }
  if (!read.some((r) => !r.endsWith(': unreadable'))) return {read, why: `its ${controller} cgroup files are not readable`}
  return {set: null, read}
}

/** Device programs in effect on the process's cgroup2 directory; undefined when unknown (then the executor reads them). */
function devicePrograms(memberships: CgroupMembership[]): number | undefined {
  const dir = memberships.find((m) => m.version === 2)?.directory
  if (dir === undefined) return 0
  let fd: number
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY)
  } catch {
    return undefined
  }
  try {
    return cgroupDeviceProgramCount(fd)
  } finally {
    closeSync(fd)
  }
}
