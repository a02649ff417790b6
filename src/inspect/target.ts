import {NsxError} from '../cli/errors.js'
import type {ProcStatus} from '../proc/process.js'

/**
 * A zombie has exited: the kernel has released its namespaces, so there is nothing to inspect.
 * A zombie thread-group leader whose other threads still run is no exited process, but its
 * /proc/PID/ns is gone all the same: say so, and where its namespaces show.
 */
export function refuseZombie(pid: number, status: ProcStatus): void {
  if (status.state !== 'Z') return
  if (status.threads > 1) {
    const others = status.threads - 1
    throw new NsxError(
      `process ${pid} (${status.name}): its main thread has exited, so its namespace links are gone, but ${others} other thread${others === 1 ? '' : 's'} still run${others === 1 ? 's' : ''} (nsx ls -p ${pid} shows what they hold)`,
    )
  }
  throw new NsxError(`process ${pid} (${status.name}) is a zombie: it has exited and holds no namespaces (its parent ${status.ppid} has not reaped it)`)
}
