import {NsxError} from '../cli/errors.js'
import type {Target, TargetResolver} from '../proc/target.js'
import {defaultStoreRoot, Store} from '../store/store.js'
import {NAME_RE} from './spec.js'
import {containerDir, liveNames, readContainer} from './state.js'

/**
 * `nsx enter NAME`: a running container's init (PID 1 inside), pinned by pid and start
 * time like any target. Claims a spec only when a container of that name exists, so a
 * command name after `nsx enter` is never mistaken for a container.
 */
export const containerResolver: TargetResolver = {
  claims(spec: string): boolean {
    if (!NAME_RE.test(spec) || /^\d+$/.test(spec)) return false
    const c = readContainer(containerDir(new Store(defaultStoreRoot()), spec))
    return c !== undefined && c.liveness !== 'dead'
  },
  resolve(spec: string): Target {
    const store = new Store(defaultStoreRoot())
    const c = readContainer(containerDir(store, spec))
    if (!c || c.liveness === 'dead') throw new NsxError(`no such container: ${spec} (running: ${liveNames(store)})`)
    if (!c.pids || c.liveness !== 'running') throw new NsxError(`container ${spec} is ${c.liveness === 'starting' ? 'still starting' : 'stopping'}`)
    return {pid: c.pids.init.pid, startTime: c.pids.init.startTime, label: `container ${spec}`}
  },
}
