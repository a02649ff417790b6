import {existsSync} from 'node:fs'
import {NsxError} from '../cli/errors.js'
import {PROC_ROOT, readText} from '../proc/fs.js'
import type {ProcStatus} from '../proc/process.js'
import {CapabilitySet, describeCapabilities} from '../proc/capabilities.js'
import {MountInfoEntry, parseMountInfo} from '../cgroup/hierarchy.js'
import {CgroupMembership, locateMemberships} from '../cgroup/membership.js'
import {INITIAL_INODES} from '../ns/host.js'
import {readDeviceRules, readRootReadOnly} from '../security/inspect.js'
import {gatherReport, InspectReport, SharedFacts} from '../inspect/report.js'
import type {ScannedProcess} from './workloads.js'

/**
 * What the rules read about one process: nsx inspect's report of it (namespaces and whether
 * each is the host's, capabilities, seccomp, no_new_privs, cgroups, devices, read-only root),
 * plus its mount table and the limits of its cgroups. For an ordinary user, who cannot read
 * another's namespaces, the report is absent and the rest comes from what /proc still shows
 * (status, cgroup, mountinfo).
 */
export interface ProcessFacts {
  pid: number
  procRoot: string
  status: ProcStatus
  report?: InspectReport
  /** Why there is no report. */
  reportError?: string
  /** type -> host?, from the report (undefined: unknown). */
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
      const r = readDeviceRules(memberships)
      d = 'error' in r ? {source: 'unknown', rules: [], error: r.error} : r
      this.devices.set(key, d)
    }
    return d
  }
}

export function gatherFacts(p: ScannedProcess, cache: FactCache): ProcessFacts | undefined {
  const {pid, status} = p
  const root = cache.procRoot
  let report: InspectReport | undefined
  let reportError: string | undefined
  try {
    report = gatherReport(String(pid), {procRoot: root, shares: false, uts: false, readback: false, shared: cache.shared})
  } catch (err) {
    if (!(err instanceof NsxError)) throw err
    if (/exited/.test(err.message)) return undefined
    reportError = err.message.replace(/^process \d+ \([^)]*\): /, '')
  }
  const lastCap = cache.shared.lastCap
  const memberships = report?.cgroups.memberships ?? locateMemberships(p.cgroups, cache.shared.layout)
  const hosts = new Map<string, boolean | null>((report?.namespaces ?? []).map((n) => [n.type, n.host]))
  const mntInode = report?.namespaces.find((n) => n.type === 'mnt')?.inode
  return {
    pid,
    procRoot: root,
    status,
    ...(report ? {report} : {}),
    ...(reportError ? {reportError} : {}),
    hostNamespace: (type) => hosts.get(type) ?? undefined,
    capabilities: report?.capabilities ?? {
      effective: describeCapabilities(status.capEff, lastCap),
      permitted: describeCapabilities(status.capPrm, lastCap),
      bounding: describeCapabilities(status.capBnd, lastCap),
    },
    hostCapabilities: cache.hostCapabilities,
    viewerIsHost: cache.viewerIsHost,
    memberships,
    devices: cache.devicesOf(memberships),
    rootReadOnly: report?.rootReadOnly ?? readRootReadOnly(pid, root),
    mounts: cache.mountsOf(pid, mntInode),
    hostMounts: cache.hostMounts(),
    limits: {
      memory: readLimit(memberships, cache, 'memory', 'memory.limit_in_bytes', 'memory.max'),
      pids: readLimit(memberships, cache, 'pids', 'pids.max', 'pids.max'),
    },
  }
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
    const text = readText(path)?.trim()
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
