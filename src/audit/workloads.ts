import {AccessLog, PROC_ROOT, listNumeric, readProcFile} from '../proc/fs.js'
import {ProcStatus, parseStatus} from '../proc/process.js'
import type {NsLinks} from '../ns/links.js'
import {LinkReader} from '../ns/link-reader.js'
import {decideHost} from '../ns/host.js'
import {NS_TYPES, NsType} from '../ns/types.js'
import {CgroupMembership, parseProcCgroup} from '../cgroup/membership.js'
import type {SharedFacts} from '../inspect/report.js'
import {Recognised, recogniseCgroups, recognisedKey} from './recognise.js'
import type {AuditWorkload, WorkloadKind} from './types.js'

/**
 * The host's processes grouped into workloads, from what the kernel holds for each: its
 * cgroup paths (which runtime made it, recognise.ts) and its namespaces (whether they are
 * the host's). One pass over /proc reading status, ns links and cgroup per process, as
 * `nsx ls` does; within a workload, processes with the same isolation (capabilities,
 * seccomp, no_new_privs, uid, namespaces, cgroups) form one class, judged once.
 */

export interface ScannedProcess {
  pid: number
  /** /proc/PID/status as read; parsed (status()) only for the processes judged. */
  statusText: string
  ppid: number
  /** Its capabilities, seccomp, no_new_privs and uids, as status shows them: what classes are told by. */
  privileges: string
  status(): ProcStatus
  /** undefined: not readable (an ordinary user and another's process). */
  links: NsLinks | undefined
  cgroups: CgroupMembership[]
}

export interface IsolationClass {
  /** The process judged for the class: the lowest pid whose parent is outside the workload, else the lowest. */
  pid: number
  pids: number[]
}

/** A workload as the scan found it: the report's identity fields, with what the rules read. */
export interface ScannedWorkload extends Pick<AuditWorkload, 'key' | 'kind' | 'id' | 'name' | 'pod' | 'cgroup' | 'pids' | 'pid'> {
  /** Per type: the inode and whether it is the host's (from the named process). */
  namespaces: {type: NsType; inode: number; host: boolean | null}[]
  classes: IsolationClass[]
  processes: Map<number, ScannedProcess>
}

export interface Scan {
  workloads: ScannedWorkload[]
  /** The processes of the workloads listed: all the host's, or with pids only the targets' workloads'. */
  processes: number
  log: AccessLog
  /** Processes whose namespaces could not be read (their grouping rests on cgroups alone). */
  unreadable: number
}

/** Namespace types a hand-made workload is told by (time is left out: nothing isolates by it alone). */
const ISOLATING: readonly NsType[] = ['user', 'mnt', 'net', 'uts', 'ipc', 'cgroup', 'pid']

export interface ScanOptions {
  procRoot?: string
  /** Only these pids (and the workloads they are in). */
  pids?: ReadonlySet<number>
  shared: SharedFacts
}

export function scanWorkloads(opts: ScanOptions): Scan {
  const root = opts.procRoot ?? PROC_ROOT
  const log = new AccessLog()
  const self = process.pid
  const groups = new Map<string, {rec?: Recognised; kind: WorkloadKind; procs: ScannedProcess[]}>()
  let unreadable = 0
  let count = 0
  const reader = new LinkReader(root)
  const cgroupCache = new Map<string, {cgroups: CgroupMembership[]; rec: Recognised | undefined}>()
  const ownCache = new Map<string, ScannedWorkload['namespaces']>()
  try {
    for (const pid of listNumeric(root, log, 'processes') ?? []) {
      if (pid === self) continue
      const statusText = readSmall(`${root}/${pid}/status`, log, 'process status files')
      if (statusText === undefined) continue
      // Only a few fields of every process's status are needed here: found without parsing it all.
      const state = statusField(statusText, 'State')?.charAt(0)
      const kthread = statusField(statusText, 'Kthread')
      if (state === 'Z' || (kthread !== undefined ? kthread === '1' : statusField(statusText, 'VmSize') === undefined)) continue
      const cgroupText = readSmall(`${root}/${pid}/cgroup`, log, 'cgroup files')
      if (cgroupText === undefined) continue
      // Most processes share their cgroups with others: parse and recognise each distinct file once.
      let byCgroup = cgroupCache.get(cgroupText)
      if (!byCgroup) {
        const cgroups = parseProcCgroup(cgroupText)
        cgroupCache.set(cgroupText, (byCgroup = {cgroups, rec: recogniseCgroups(cgroups.map((c) => c.path))}))
      }
      const {cgroups, rec} = byCgroup
      const read = reader.read(pid)
      if (read === 'denied') log.record('namespace links')
      const links = typeof read === 'object' ? read : undefined
      if (links === undefined) unreadable++
      count++
      let key: string
      let kind: WorkloadKind
      if (rec && rec.kind !== 'systemd') {
        key = recognisedKey(rec)
        kind = rec.kind
      } else {
        const linksKey = links ? NS_TYPES.map((t) => links[t] ?? '').join(',') : '?'
        let own = ownCache.get(linksKey)
        if (!own) ownCache.set(linksKey, (own = privateNamespaces(links, opts.shared)))
        // systemd's sandboxing (PrivateTmp, ProtectSystem) gives a unit's processes a mount namespace of their own: still the unit.
        if (own.length > 0 && !(rec && own.length === 1 && own[0].type === 'mnt')) {
          const told = own.length > 1 ? own.filter((n) => n.type !== 'pid') : own
          key = `namespaces:${told.map((n) => `${n.type}:${n.inode}`).join(',')}`
          kind = 'namespaces'
        } else if (rec) {
          key = recognisedKey(rec)
          kind = 'systemd'
        } else {
          key = 'host'
          kind = 'host'
        }
      }
      let g = groups.get(key)
      if (!g) groups.set(key, (g = {rec: kind === 'namespaces' || kind === 'host' ? undefined : rec, kind, procs: []}))
      g.procs.push(scanned(pid, statusText, links, cgroups))
    }
  } finally {
    reader.close()
  }

  const workloads: ScannedWorkload[] = []
  for (const [key, g] of groups) {
    if (opts.pids && !g.procs.some((p) => opts.pids!.has(p.pid))) continue
    const processes = new Map(g.procs.map((p) => [p.pid, p]))
    const topmost = (ps: ScannedProcess[]) => (ps.find((p) => !processes.has(p.ppid)) ?? ps[0]).pid
    const byClass = new Map<string, ScannedProcess[]>()
    for (const p of g.procs) {
      const k = isolationKey(p)
      const c = byClass.get(k)
      if (c) c.push(p)
      else byClass.set(k, [p])
    }
    const pid = topmost(g.procs)
    const named = processes.get(pid)!
    const classes = [...byClass.values()].map((ps) => ({pid: topmost(ps), pids: ps.map((p) => p.pid)}))
    // The named process's class first: its evidence is shown first.
    classes.sort((a, b) => Number(b.pids.includes(pid)) - Number(a.pids.includes(pid)) || a.pid - b.pid)
    workloads.push({
      key,
      kind: g.kind,
      id: g.rec?.id ?? null,
      name: g.rec?.name ?? null,
      ...(g.rec?.pod ? {pod: g.rec.pod} : {}),
      cgroup: g.rec?.cgroup ?? null,
      pids: g.procs.map((p) => p.pid),
      pid,
      namespaces: namespacesOf(named.links, opts.shared),
      classes,
      processes,
    })
  }
  const order: WorkloadKind[] = ['host', 'systemd', 'namespaces', 'nsx', 'docker', 'podman', 'containerd', 'crio', 'kubernetes']
  workloads.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.key.localeCompare(b.key))
  // With targets, the count is of the workloads kept (what the summary speaks of), not of every process read.
  const processes = opts.pids ? workloads.reduce((n, w) => n + w.pids.length, 0) : count
  return {workloads, processes, log, unreadable}
}

function namespacesOf(links: NsLinks | undefined, shared: SharedFacts): ScannedWorkload['namespaces'] {
  if (!links) return []
  const out: ScannedWorkload['namespaces'] = []
  for (const type of NS_TYPES) {
    const inode = links[type]
    if (inode === undefined) continue
    out.push({type, inode, host: decideHost(type, inode, shared.ref, shared.own, shared.numbersNetMnt).host})
  }
  return out
}

function privateNamespaces(links: NsLinks | undefined, shared: SharedFacts): ScannedWorkload['namespaces'] {
  return namespacesOf(links, shared).filter((n) => n.host === false && ISOLATING.includes(n.type))
}

const cgroupIds = new WeakMap<CgroupMembership[], number>()
let nextCgroupId = 0

/** What makes two processes of a workload judged alike. */
function isolationKey(p: ScannedProcess): string {
  const ns = p.links ? NS_TYPES.map((t) => p.links![t] ?? '').join(',') : '?'
  // Processes of one cgroup file share its parsed array (scanWorkloads' cache): its identity tells them apart.
  let cg = cgroupIds.get(p.cgroups)
  if (cg === undefined) cgroupIds.set(p.cgroups, (cg = nextCgroupId++))
  return `${p.privileges}|${ns}|${cg}`
}

/** A small /proc file through proc/fs's reused buffer (a thousand of them per audit); undefined when gone or denied (counted). */
function readSmall(path: string, log: AccessLog, what: string): string | undefined {
  try {
    return readProcFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') log.record(what)
    else if (code !== 'ENOENT' && code !== 'ESRCH' && code !== 'ENOTDIR' && code !== 'EINVAL' && code !== 'EIO') throw err
    return undefined
  }
}

/** The fields of status that tell processes apart for judging (parseStatus reads the same lines). */
const PRIVILEGE_FIELDS = ['Uid', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp', 'Seccomp_filters']

function scanned(pid: number, statusText: string, links: NsLinks | undefined, cgroups: CgroupMembership[]): ScannedProcess {
  let parsed: ProcStatus | undefined
  return {
    pid,
    statusText,
    ppid: Number(statusField(statusText, 'PPid') ?? 0),
    privileges: PRIVILEGE_FIELDS.map((f) => statusField(statusText, f) ?? '').join('|'),
    status: () => (parsed ??= parseStatus(statusText)),
    links,
    cgroups,
  }
}

/** One field of a status text ("Name:\tsleep" -> "sleep"), undefined when absent. */
function statusField(text: string, name: string): string | undefined {
  const key = `${name}:`
  const at = text.startsWith(key) ? 0 : text.indexOf(`\n${key}`) + 1
  if (at <= 0 && !text.startsWith(key)) return undefined
  const from = at + key.length
  const end = text.indexOf('\n', from)
  return text.slice(from, end < 0 ? text.length : end).trim()
}
