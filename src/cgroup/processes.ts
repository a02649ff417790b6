import {performance} from 'node:perf_hooks'
import {PROC_ROOT, readText} from '../proc/fs.js'
import {parseStat, readCommandLine} from '../proc/process.js'
import {NsLinks, readNsLinks} from '../ns/links.js'
import {HostReference, decideHost, findHostReference} from '../inspect/host.js'
import {NS_TYPES, NsType} from '../ns/types.js'
import {parsePidList} from './counters.js'
import {ControlFile, ControlFiles, defaultOpenFileBudget} from './files.js'

/** /proc/PID/stat times are in USER_HZ, which the kernel ABI fixes at 100 on Linux. */
const USER_HZ = 100

export interface CgroupProcess {
  pid: number
  command: string
  /** 100 = one core; null on the first sight of a process. */
  cpuPercent: number | null
  rssBytes: number | null
  /** Namespace types in which the process is not in the host's namespaces, e.g. ["mnt","pid","net"]. */
  namespaces: NsType[]
}

/** "VmRSS:    1234 kB" in /proc/PID/status, in bytes. */
export function parseVmRss(status: string): number | null {
  const i = status.indexOf('\nVmRSS:')
  if (i < 0) return null
  const v = parseInt(status.slice(i + 7).trimStart(), 10)
  return Number.isFinite(v) ? v * 1024 : null
}

/**
 * The namespace types in which a process is not in the host's (the kernel's initial)
 * namespace, as `nsx inspect` decides it: by the kernel's fixed inodes, else by a kernel
 * thread's namespaces (pid 1 may be unreadable, or a container's init).
 */
export function differingNamespaces(mine: NsLinks | undefined, ref: HostReference | undefined, own: NsLinks | undefined): NsType[] {
  if (!mine) return []
  return NS_TYPES.filter((t) => mine[t] !== undefined && decideHost(t, mine[t]!, ref, own).host === false)
}

/**
 * The processes of one cgroup (its cgroup.procs), with CPU% from utime+stime deltas between
 * calls over measured time, RSS, and the namespaces that set each apart from the host,
 * so a container reads as one. Processes that exit meanwhile are skipped.
 */
interface Seen {
  /** /proc/PID/stat, kept open: one pread per refresh. */
  stat: ControlFile
  ticks: number
  at: number
  start: number
  command: string
  namespaces: NsType[]
}

/** Bytes per page, from this process's own RSS in kB (status) and in pages (statm). */
export function pageSizeFrom(statusText: string | undefined, statmText: string | undefined): number {
  const kb = statusText === undefined ? null : parseVmRss(statusText)
  const pages = statmText === undefined ? NaN : Number(statmText.split(' ')[1])
  if (kb === null || !(pages > 0)) return 4096
  // The two reads are not atomic: round to the nearest power of two.
  return 2 ** Math.round(Math.log2(kb / pages))
}

export class ProcessSampler {
  private last = new Map<number, Seen>()
  // A quarter of the descriptor budget: the collector keeps most of it.
  private readonly files = new ControlFiles(Math.floor(defaultOpenFileBudget() / 4), 0)
  private readonly host: HostReference | undefined
  private readonly own: NsLinks | undefined
  private readonly pageSize: number

  constructor(private readonly procRoot = PROC_ROOT) {
    this.host = findHostReference(procRoot)
    this.own = readNsLinks(`${procRoot}/self`)
    this.pageSize = pageSizeFrom(readText(`${procRoot}/self/status`), readText(`${procRoot}/self/statm`))
  }

  sample(procsFile: string, limit = 200): CgroupProcess[] {
    const pids = parsePidList(readText(procsFile)).slice(0, 5000)
    const seen = new Map<number, Seen>()
    const out: CgroupProcess[] = []
    for (const pid of pids) {
      let prev = this.last.get(pid)
      const stat = prev?.stat ?? this.files.handle(`${this.procRoot}/${pid}/stat`)
      const statText = this.files.read(stat)
      if (statText === undefined) {
        this.files.close(stat)
        continue
      }
      const at = performance.now()
      const st = parseStat(statText)
      const ticks = st.utime + st.stime
      // A reused pid is another process: its open stat file shows the new one, the start time tells.
      if (prev && prev.start !== st.starttime) prev = undefined
      let cpuPercent: number | null = null
      // Same pid and same start time: the same process, not a reused pid.
      if (prev && prev.start === st.starttime && at > prev.at && ticks >= prev.ticks) {
        cpuPercent = ((ticks - prev.ticks) / USER_HZ / ((at - prev.at) / 1000)) * 100
      }
      // Command line and namespaces are read once per process: one stat read per refresh
      // keeps a cgroup of hundreds of processes cheap to watch.
      let command = prev && prev.start === st.starttime ? prev.command : undefined
      let namespaces = prev && prev.start === st.starttime ? prev.namespaces : undefined
      if (command === undefined || namespaces === undefined) {
        const cmd = readCommandLine(pid, this.procRoot)
        command = cmd && cmd.length > 0 ? cmd : `[${st.comm}]`
        namespaces = differingNamespaces(readNsLinks(`${this.procRoot}/${pid}`), this.host, this.own)
      }
      seen.set(pid, {stat, ticks, at, start: st.starttime, command, namespaces})
      out.push({pid, command, cpuPercent, rssBytes: st.rss * this.pageSize, namespaces})
    }
    for (const [pid, p] of this.last) if (!seen.has(pid)) this.files.close(p.stat)
    this.last = seen
    out.sort((a, b) => (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1) || (b.rssBytes ?? 0) - (a.rssBytes ?? 0) || a.pid - b.pid)
    return out.slice(0, limit)
  }

  /** Forget CPU baselines (the selection moved to another cgroup). */
  reset(): void {
    this.files.closeAll()
    this.last.clear()
  }

  close(): void {
    this.reset()
  }
}
