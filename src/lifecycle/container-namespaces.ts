import {kindOf, NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import type {ContainerConfig} from '../container/state.js'

/**
 * docker's --pid and --ipc container:NAME (and --pid host) at a start: the namespace files of
 * the other container's init, which must be running (docker's rule), for the plan to join.
 */
export async function namespacePaths(store: Store, config: ContainerConfig): Promise<{pidns?: string; ipcns?: string}> {
  const ns = config.spec.namespaces
  if (!ns) return {}
  const out: {pidns?: string; ipcns?: string} = {}
  const other = async (flag: 'pid' | 'ipc', mode: string): Promise<string> => {
    const {resolveContainer} = await import('../container/state.js')
    let target
    try {
      target = resolveContainer(store, mode.slice(10))
    } catch (err) {
      throw new NsxError(`--${flag} ${mode}: ${(err as Error).message}`, 125, kindOf(err) ?? 'invalid')
    }
    if (target.config.id === config.id) throw NsxError.invalid(`--${flag} ${mode}: a container cannot join its own ${flag} namespace`, 125)
    if (target.status !== 'running' || !target.pids) throw NsxError.conflict(`cannot join the ${flag} namespace of container ${target.config.name}: it is not running`, 125)
    return `/proc/${target.pids.init.pid}/ns/${flag}`
  }
  if (ns.pid === 'host') out.pidns = 'host'
  else if (ns.pid?.startsWith('container:')) out.pidns = await other('pid', ns.pid)
  if (ns.ipc?.startsWith('container:')) out.ipcns = await other('ipc', ns.ipc)
  return out
}
