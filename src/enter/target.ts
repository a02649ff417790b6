import {NsxError} from '../cli/errors.js'
import {parsePid, requireProcess} from '../proc/target.js'
import {readStat, readStatus} from '../proc/process.js'

/**
 * Resolving what the user named (`nsx enter 1234`, later `nsx enter web`) to a process.
 * The result carries the start time, which the executor re-checks after pidfd_open,
 * so the process entered is provably the one resolved here (native/ops-ns.c).
 */
export interface Target {
  pid: number
  /** Field 22 of /proc/PID/stat (clock ticks after boot). */
  startTime: number
  /** For messages: "process 1234", "container web". */
  label: string
  /** pid is a thread's tid: its own namespaces are entered (a thread may have left its process's). */
  thread?: boolean
}

export interface TargetResolver {
  /** Whether this resolver owns specs of this shape (the first that claims a spec resolves it). */
  claims(spec: string): boolean
  /** The target, or an NsxError naming what is wrong. */
  resolve(spec: string): Target | Promise<Target>
}

const pidResolver: TargetResolver = {
  claims: (spec) => /^\d+$/.test(spec),
  resolve(spec) {
    const pid = parsePid(spec)
    // A tid (not listed in /proc, but /proc/TID is there) names that thread and its namespaces.
    const status = readStatus(pid)
    const thread = status !== undefined && status.tgid !== pid
    if (!thread) requireProcess(pid, {allowKernelThread: true})
    const stat = readStat(pid)
    if (stat === undefined) throw new NsxError(`no such process: ${pid}`)
    // A zombie keeps its pid until reaped but has no namespaces left to enter.
    if (stat.state === 'Z') throw new NsxError(`process ${pid} has exited (a zombie its parent has not reaped)`)
    if (thread) return {pid, startTime: stat.starttime, label: `thread ${pid} of process ${status.tgid}`, thread}
    return {pid, startTime: stat.starttime, label: `process ${pid}`}
  },
}

/**
 * Extension point for named targets: `nsx run --name` adds a loader here, e.g.
 * `() => import('../container/target.js').then((m) => m.containerResolver)`.
 * Loaders are imported only when a spec is not a pid, so `nsx enter PID` stays fast.
 */
export const NAMED_TARGET_LOADERS: Array<() => Promise<TargetResolver>> = [() => import('../container/target.js').then((m) => m.containerResolver)]

/** Whether a leading argument (`nsx enter SPEC cmd`) names a target rather than the command. */
export async function isTargetSpec(spec: string): Promise<boolean> {
  if (pidResolver.claims(spec)) return true
  for (const load of NAMED_TARGET_LOADERS) if ((await load()).claims(spec)) return true
  return false
}

export async function resolveTarget(spec: string): Promise<Target> {
  if (spec === '') throw new NsxError('empty target: expected a pid')
  if (pidResolver.claims(spec)) return pidResolver.resolve(spec)
  for (const load of NAMED_TARGET_LOADERS) {
    const r = await load()
    if (r.claims(spec)) return r.resolve(spec)
  }
  const kinds = NAMED_TARGET_LOADERS.length > 0 ? 'a pid or a container name' : 'a pid'
  throw new NsxError(`invalid target '${spec}': expected ${kinds}`)
}
