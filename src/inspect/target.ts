import {NsxError} from '../cli/errors.js'
import type {ProcStatus} from '../proc/process.js'

/** A zombie has exited: the kernel has released its namespaces, so there is nothing to inspect. */
export function refuseZombie(pid: number, status: ProcStatus): void {
  if (status.state === 'Z') throw new NsxError(`process ${pid} (${status.name}) is a zombie: it has exited and holds no namespaces (its parent ${status.ppid} has not reaped it)`)
}
