import {performance} from 'node:perf_hooks'
import {PROC_ROOT, readText} from '../proc/fs.js'
import {readCommandLine} from '../proc/process.js'
import {NsLinks, readNsLinks} from '../ns/links.js'
import {HostReference, decideHost, findHostReference} from '../ns/host.js'
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
  pid: number
  /** /proc/PID/stat, kept open: one pread per refresh. */
  stat: ControlFile
  ticks: number
  at: number
  start: number
  /** The name in /proc/PID/stat, for a process whose command line is empty or gone. */
  comm: string
  /** Read when the process is first among those shown, not for every process listed. */
  command: string | undefined
  namespaces: NsType[] | undefined
  /** This refresh's figures (the record is reused from one refresh to the next). */
  cpuPercent: number | null
  rssBytes: number
  /** Refresh at which it was last listed. */
  seenAt: number
  /** Readings in a row in which its CPU time did not move. */
  quiet: number
}

/**
 * A process whose CPU time stood still over this many readings in a row is read only every
 * QUIET_EVERY-th refresh (staggered by pid) until it moves again. In a cgroup of a thousand
 * mostly sleeping processes, their /proc/PID/stat files (which the kernel generates afresh,
 * cold, on each read) were most of the dashboard's cost. A process that starts using CPU is
 * seen at its next reading, at most QUIET_EVERY refreshes later, with its CPU% over the whole
 * time since the reading before: exact, if late.
 */
export const QUIET_AFTER = 3
export const QUIET_EVERY = 3

/** The fields of /proc/PID/stat the sampler needs, parsed from its bytes without a string. */
export interface StatFigures {
  /** utime + stime, in USER_HZ ticks. */
  ticks: number
  starttime: number
  /** Resident pages. */
  rss: number
}

const CLOSE_PAREN = 41
const SPACE = 32

/**
 * utime+stime (fields 14, 15), starttime (22) and rss (24) of a /proc/PID/stat line, counted
 * after the last ')' (the command name may hold spaces and parentheses). false when short.
 */
export function parseStatFigures(b: Uint8Array, out: StatFigures): boolean {
  let i = b.lastIndexOf(CLOSE_PAREN)
  if (i < 0) return false
  // Field 3 (state) starts two bytes after ')'; field k starts after k-3 more spaces.
  let field = 2
  i += 1
  let utime = -1
  let stime = -1
  let start = -1
  for (; i < b.length; i++) {
    if (b[i] !== SPACE) continue
    field++
    if (field !== 14 && field !== 15 && field !== 22 && field !== 24) continue
    let n = 0
    let j = i + 1
    for (; j < b.length; j++) {
      const c = b[j]
      if (c < 48 || c > 57) break
      n = n * 10 + (c - 48)
    }
    if (j === i + 1) return false
    if (field === 14) utime = n
    else if (field === 15) stime = n
    else if (field === 22) start = n
    else {
      out.ticks = utime + stime
      out.starttime = start
      out.rss = n
      return utime >= 0 && stime >= 0 && start >= 0
    }
    i = j - 1
  }
  return false
}

/** The command name between the first '(' and the last ')' of a stat line. */
function commOf(b: Uint8Array): string {
  const open = b.indexOf(40)
  const close = b.lastIndexOf(CLOSE_PAREN)
  return Buffer.from(b.buffer, b.byteOffset + open + 1, Math.max(0, close - open - 1)).toString('latin1')
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
  /** How many processes the last sample found (it returns at most `limit` of them). */
  listed = 0
  private last = new Map<number, Seen>()
  private generation = 0
  private procs: ControlFile | undefined
  private readonly figures: StatFigures = {ticks: 0, starttime: 0, rss: 0}
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
    const generation = ++this.generation
    if (this.procs === undefined || this.procs.path !== procsFile) {
      this.files.close(this.procs)
      this.procs = this.files.handle(procsFile)
    }
    const pids = parsePidList(this.files.readBytes(this.procs))
    if (pids.length > 5000) pids.length = 5000
    const fig = this.figures
    const live: Seen[] = []
    for (const pid of pids) {
      let prev = this.last.get(pid)
      if (prev !== undefined && prev.seenAt === generation) continue // listed twice
      if (prev !== undefined && prev.quiet >= QUIET_AFTER && (generation + pid) % QUIET_EVERY !== 0) {
        // Still listed, figures carried: its last CPU% (0) and RSS.
        prev.seenAt = generation
        live.push(prev)
        continue
      }
      const stat = prev?.stat ?? this.files.handle(`${this.procRoot}/${pid}/stat`)
      // Parsed at once: the next read reuses the buffer.
      const b = this.files.readBytes(stat)
      if (b === undefined || !parseStatFigures(b, fig)) {
        this.files.close(stat)
        if (prev) this.last.delete(pid)
        continue
      }
      const at = performance.now()
      // A reused pid is another process: its open stat file shows the new one, the start time tells.
      if (prev && prev.start !== fig.starttime) {
        this.last.delete(pid)
        prev = undefined
      }
      if (prev === undefined) {
        // Command line and namespaces (nine more reads) wait until the process is shown,
        // and are read once: one stat read per refresh keeps hundreds of processes cheap.
        prev = {pid, stat, ticks: fig.ticks, at, start: fig.starttime, comm: commOf(b), command: undefined, namespaces: undefined, cpuPercent: null, rssBytes: 0, seenAt: 0, quiet: 0}
        this.last.set(pid, prev)
      } else {
        // Same pid and same start time: the same process, not a reused pid.
        prev.cpuPercent = at > prev.at && fig.ticks >= prev.ticks ? ((fig.ticks - prev.ticks) / USER_HZ / ((at - prev.at) / 1000)) * 100 : null
        prev.quiet = fig.ticks === prev.ticks ? prev.quiet + 1 : 0
        prev.ticks = fig.ticks
        prev.at = at
      }
      prev.rssBytes = fig.rss * this.pageSize
      prev.seenAt = generation
      live.push(prev)
    }
    for (const p of this.last.values()) {
      if (p.seenAt === generation) continue
      this.files.close(p.stat)
      this.last.delete(p.pid)
    }
    live.sort((a, b) => (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1) || b.rssBytes - a.rssBytes || a.pid - b.pid)
    this.listed = live.length
    const out: CgroupProcess[] = []
    for (let i = 0; i < live.length && i < limit; i++) {
      const p = live[i]
      if (p.command === undefined) {
        const cmd = readCommandLine(p.pid, this.procRoot)
        p.command = cmd && cmd.length > 0 ? cmd : `[${p.comm}]`
        p.namespaces = differingNamespaces(readNsLinks(`${this.procRoot}/${p.pid}`), this.host, this.own)
      }
      out.push({pid: p.pid, command: p.command, cpuPercent: p.cpuPercent, rssBytes: p.rssBytes, namespaces: p.namespaces ?? []})
    }
    return out
  }

  /** Forget CPU baselines (the selection moved to another cgroup). */
  reset(): void {
    this.files.closeAll()
    this.procs = undefined
    this.last.clear()
    this.listed = 0
  }

  close(): void {
    this.reset()
  }
}
