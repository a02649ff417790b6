import {NsxError, reportError} from '../cli/errors.js'
import {OptionSpec, getoptForCommand} from '../cli/getopt.js'
import type {NsType} from '../ns/types.js'
import {execPlan, inheritedFds} from '../plan/executor.js'
import type {Plan} from '../plan/ops.js'
import {validatePlan} from '../plan/validate.js'
import {buildDebugPlan, DEBUG_NS_ORDER} from './plan.js'

export type DebugOutcome = {kind: 'help'} | {kind: 'done'; exitCode: number}

export const DEBUG_OPTIONS: readonly OptionSpec[] = [
  {key: 'image', long: 'image', arg: 'required'},
  {key: 'rw', long: 'rw', arg: 'none'},
  {key: 'dry-run', long: 'dry-run', arg: 'none'},
  {key: 'json', long: 'json', arg: 'none'},
  {key: 'help', long: 'help', short: 'h', arg: 'none'},
]

export interface DebugOptions {
  /** A container's name or unique id prefix, or a PID. */
  target: string
  /** A toolbox image of the store (or a path to load); undefined: the host's tools. */
  image?: string
  writable: boolean
  command: string[]
}

export function parseDebugArgs(argv: readonly string[]): {options: DebugOptions; dryRun: boolean; json: boolean; help: boolean} {
  const parsed = getoptForCommand('debug', argv, DEBUG_OPTIONS)
  const r = {options: {target: '', writable: false, command: []} as DebugOptions, dryRun: false, json: false, help: false}
  for (const {key, value} of parsed.options) {
    if (key === 'image') r.options.image = value
    else if (key === 'rw') r.options.writable = true
    else if (key === 'dry-run') r.dryRun = true
    else if (key === 'json') r.json = true
    else if (key === 'help') r.help = true
  }
  if (r.help) return r
  if (r.json && !r.dryRun) throw new NsxError('--json only goes with --dry-run', 125)
  const [target, ...rest] = parsed.rest
  if (target === undefined) throw new NsxError('nsx debug needs a target: a container NAME or a PID (see nsx debug --help)', 125)
  r.options.target = target
  r.options.command = rest[0] === '--' ? rest.slice(1) : rest
  return r
}

/**
 * The plan of `nsx debug`, for any front door: resolve the target (a running container's
 * init, or a process), the toolbox image's layers if one is asked for, the namespaces to enter.
 */
export async function prepareDebug(o: DebugOptions): Promise<{plan: Plan; target: {pid: number; label: string}}> {
  let pid: number
  let startTime: number
  let label: string
  if (/^\d+$/.test(o.target)) {
    const {resolveTarget} = await import('../enter/target.js')
    const t = await resolveTarget(o.target)
    if (t.thread) throw new NsxError(`${t.label}: nsx debug takes a process, not a thread`, 125)
    ;({pid, startTime, label} = t)
  } else {
    const [{Store}, {findByNameOrId}] = await Promise.all([import('../store/store.js'), import('../container/exec.js')])
    const c = findByNameOrId(Store.open(undefined, {create: false}), o.target)
    if (!c) throw new NsxError(`no such container: ${o.target} (nsx debug takes a container's name or id, or a PID)`, 125)
    if (c.status !== 'running' || !c.pids) throw new NsxError(`container ${c.config.name} is not running`, 125)
    ;({pid, startTime} = c.pids.init)
    label = `container ${c.config.name}`
  }
  const {readNsLinks} = await import('../ns/links.js')
  const self = readNsLinks('/proc/self') ?? {}
  const theirs = readNsLinks(`/proc/${pid}`)
  if (!theirs) throw new NsxError(`cannot read the namespaces of process ${pid}`, 125)
  const namespaces = DEBUG_NS_ORDER.filter((t: NsType) => theirs[t] !== undefined && theirs[t] !== self[t])
  let lowerDirs: string[] = []
  if (o.image !== undefined) {
    const [{Store}, {prepareRootfs}] = await Promise.all([import('../store/store.js'), import('../store/import.js')])
    const store = Store.open()
    store.lock('shared')
    try {
      lowerDirs = (await prepareRootfs(store, {image: o.image, layers: []})).lowerDirs
    } finally {
      store.unlock()
    }
    for (const d of lowerDirs) if (/[:,\\]/.test(d)) throw new NsxError(`layer path ${d} holds ':' ',' or '\\', which overlayfs options cannot carry`, 125)
  }
  return {plan: buildDebugPlan({target: {pid, startTime}, namespaces}, {lowerDirs, writable: o.writable, argv: o.command}), target: {pid, label}}
}

/** `nsx debug ARGS`: shared by bin/nsx's fast path and commands/debug.ts. */
export async function runDebug(argv: readonly string[]): Promise<DebugOutcome> {
  const inherit = inheritedFds()
  try {
    const p = parseDebugArgs(argv)
    if (p.help) return {kind: 'help'}
    if (process.geteuid?.() !== 0) throw new NsxError('nsx debug needs root (it mounts a root of its own in the target\'s namespaces)', 125)
    const prepared = await prepareDebug(p.options)
    const plan = validatePlan(prepared.plan)
    if (p.dryRun) {
      const {renderDryRun, dryRunJson} = await import('../plan/dry-run.js')
      process.stdout.write(p.json ? `${JSON.stringify({...dryRunJson(plan), target: prepared.target}, null, 2)}\n` : renderDryRun(plan))
      return {kind: 'done', exitCode: 0}
    }
    return await execPlan(plan, inherit)
  } catch (err) {
    const e = err instanceof NsxError && err.exitCode === 1 ? new NsxError(err.message, 125) : err
    return {kind: 'done', exitCode: reportError(e, 'nsx debug', 125)}
  }
}
