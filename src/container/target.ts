import {NsxError} from '../cli/errors.js'
import type {Target} from '../proc/target.js'
import {defaultStoreRoot, Store} from '../store/store.js'
import {findByNameOrId} from './exec.js'
import {Container, liveNames} from './state.js'
import type {Limits} from './limits.js'

/** A TargetResolver that resolves synchronously (inspection commands are synchronous). */
interface SyncResolver {
  claims(spec: string): boolean
  resolve(spec: string): Target
}

/** A live container by name, else by a unique id prefix: exec's lookup (docker's rules). */
function lookUp(store: Store, spec: string): Container | undefined {
  const c = findByNameOrId(store, spec)
  return c !== undefined && c.liveness !== 'dead' ? c : undefined
}

/**
 * `nsx enter NAME`, `nsx inspect NAME`: a running container's init (PID 1 inside), pinned by
 * pid and start time like any target. Claims a spec only when such a container exists, so a
 * command name after `nsx enter` is never mistaken for a container.
 */
export const containerResolver: SyncResolver = {
  claims(spec: string): boolean {
    if (/^\d+$/.test(spec)) return false
    try {
      return lookUp(new Store(defaultStoreRoot()), spec) !== undefined
    } catch {
      return true // an ambiguous prefix: resolve() says so
    }
  },
  resolve(spec: string): Target {
    const store = new Store(defaultStoreRoot())
    const c = lookUp(store, spec)
    if (!c) throw new NsxError(`no such container: ${spec} (running: ${liveNames(store)})`)
    const name = c.state.name
    if (!c.pids || c.liveness !== 'running') throw new NsxError(`container ${name} is ${c.liveness === 'starting' ? 'still starting' : 'stopping'}`)
    return {pid: c.pids.init.pid, startTime: c.pids.init.startTime, label: `container ${name}`}
  },
}

/**
 * The init pid of the running container `spec` names (a name or a unique id prefix, digits
 * included: for a command that takes no pid), or undefined when none is running by that name.
 */
export function runningContainerInit(spec: string): number | undefined {
  const c = lookUp(new Store(defaultStoreRoot()), spec)
  return c?.liveness === 'running' && c.pids ? c.pids.init.pid : undefined
}

/** For nsx inspect NAME: the container named and the limits in force (its saved state); undefined for a pid. */
export function describeContainer(spec: string): {name: string; id: string; group?: string; limits: Limits} | undefined {
  if (/^\d+$/.test(spec)) return undefined
  try {
    const c = lookUp(new Store(defaultStoreRoot()), spec)
    if (!c) return undefined
    return {name: c.state.name, id: c.state.id, ...(c.state.group ? {group: c.state.group} : {}), limits: c.state.limits ?? {}}
  } catch {
    return undefined
  }
}
