import {NsxError} from '../cli/errors.js'
import {parsePid, requireProcess, type Target, type TargetResolver} from '../proc/target.js'
import {readStat, readStatus} from '../proc/process.js'
import {containerResolver, runningContainerInit} from '../container/target.js'


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
export const NAMED_TARGET_LOADERS: Array<() => Promise<TargetResolver>> = [() => Promise.resolve(containerResolver)]

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

/**
 * The pid argument of the inspection commands (inspect, pstree, uidmap, ls -p, top): a pid as
 * typed, or a running container's name or unique id prefix, meaning its init (PID 1 inside).
 * One resolver with enter's: the commands layer passes it down to the inspection code
 * (src/proc/target.ts PidResolver), whose fast paths hand a name over to oclif.
 */
export function resolvePidArg(arg: string | undefined, what = 'pid'): number {
  if (arg === undefined || arg === '' || /^\d+$/.test(arg) || arg.startsWith('-')) return parsePid(arg, what)
  if (containerResolver.claims(arg)) return containerResolver.resolve(arg).pid
  throw new NsxError(`no such process or container: ${arg} (expected a pid, or the name or id of a running container)`)
}

/**
 * A running container's init pid when `spec` names one (its name or a unique id prefix), else
 * undefined. For a command that takes no pid (nsx top), so digits may be an id prefix here.
 */
export function containerInitPid(spec: string): number | undefined {
  return runningContainerInit(spec)
}
