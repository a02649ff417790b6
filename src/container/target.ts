import {NsxError} from '../cli/errors.js'
import type {Target} from '../proc/target.js'
import {defaultStoreRoot, Store} from '../store/store.js'
import {findByNameOrId} from './exec.js'
import type {Container} from './state.js'
import type {Limits} from './limits.js'

/** A TargetResolver that resolves synchronously (inspection commands are synchronous). */
interface SyncResolver {
  claims(spec: string): boolean
  resolve(spec: string): Target
}

/** A container by name, else by a unique id prefix: exec's lookup (docker's rules). */
function lookUp(store: Store, spec: string): Container | undefined {
  return findByNameOrId(store, spec)
}

/**
 * `nsx enter NAME`, `nsx inspect NAME`: a running container's init (PID 1 inside), pinned by
 * pid and start time like any target. Claims a spec only when such a container exists (running
 * or not: a stopped one is then refused by name), so a command name after `nsx enter` is never
 * mistaken for a container.
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
    const c = lookUp(new Store(defaultStoreRoot()), spec)
    if (!c) throw new NsxError(`No such container: ${spec}`)
    const name = c.config.name
    if (!c.pids || c.status !== 'running') throw new NsxError(`container ${name} is ${c.status === 'starting' ? 'still starting' : `not running (${c.status})`}`)
    return {pid: c.pids.init.pid, startTime: c.pids.init.startTime, label: `container ${name}`}
  },
}

/**
 * The init pid of the running container `spec` names (a name or a unique id prefix, digits
 * included: for a command that takes no pid), or undefined when none is running by that name.
 */
export function runningContainerInit(spec: string): number | undefined {
  const c = lookUp(new Store(defaultStoreRoot()), spec)
  return c?.status === 'running' && c.pids ? c.pids.init.pid : undefined
}

/** For nsx inspect NAME: the container named and the limits in force (its saved state); undefined for a pid. */
export function describeContainer(spec: string): {name: string; id: string; group?: string; limits: Limits} | undefined {
  if (/^\d+$/.test(spec)) return undefined
  try {
    const c = lookUp(new Store(defaultStoreRoot()), spec)
    if (!c) return undefined
    const {devices: _devices, devicesV1: _v1, ...limits} = c.config.limits ?? {}
    return {name: c.config.name, id: c.config.id, ...(c.config.group ? {group: c.config.group} : {}), limits}
  } catch {
    return undefined
  }
}
