import {NsxError} from '../cli/errors.js'
import type {Target} from '../proc/target.js'
import {defaultStoreRoot, Store} from '../store/store.js'
import {NAME_RE} from './spec.js'
import {Container, containerDir, listContainers, liveNames, readContainer} from './state.js'

/** A TargetResolver that resolves synchronously (inspection commands are synchronous). */
interface SyncResolver {
  claims(spec: string): boolean
  resolve(spec: string): Target
}

/**
 * A live container by name, else by a unique prefix of its id (as docker resolves them).
 * Throws when a prefix fits several.
 */
function lookUp(store: Store, spec: string): Container | undefined {
  if (NAME_RE.test(spec)) {
    const c = readContainer(containerDir(store, spec))
    if (c !== undefined && c.liveness !== 'dead') return c
  }
  if (!/^[0-9a-f]+$/.test(spec)) return undefined
  const found = listContainers(store).filter((c) => c.liveness !== 'dead' && c.state.id.startsWith(spec))
  if (found.length > 1) throw new NsxError(`the id prefix ${spec} fits several containers: ${found.map((c) => c.state.name).join(', ')}`)
  return found[0]
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
