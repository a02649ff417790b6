import {NsxError, type ErrorKind} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {recordContainerEvent} from './events.js'
import {findByNameOrId} from './exec.js'
import {hostFreezerOf, isFrozenOrFreezing, readFreezerState, setFrozen} from './freezer.js'
import type {Container} from './state.js'

/**
 * docker pause / unpause: every process of the container stopped by the cgroup freezer
 * (cgroup v1 freezer.state on v1 and hybrid hosts, cgroup v2 cgroup.freeze on v2), which
 * unlike SIGSTOP the processes can neither see nor catch. Returns once the kernel reports
 * the whole cgroup frozen (or thawed). Errors are docker's, with its exit code 1.
 */
export interface PauseResult {
  name: string
  freezer: 'v1' | 'v2'
}

const fail = (msg: string, kind: ErrorKind = 'conflict'): never => {
  throw new NsxError(msg, 1, kind)
}

async function runningWithFreezer(store: Store, spec: string) {
  const c: Container | undefined = findByNameOrId(store, spec)
  if (!c) return fail(`No such container: ${spec}`, 'not-found')
  if (c.status !== 'running' || !c.pids) return fail(`container ${c.config.name} is not running`)
  const f = await hostFreezerOf(c.run?.cgroups ?? [])
  if (!f) return fail(`container ${c.config.name} has no freezer cgroup (rootless, or started by an older nsx): it cannot be paused`)
  return {c, f}
}

export async function pauseContainer(store: Store, spec: string): Promise<PauseResult> {
  const {c, f} = await runningWithFreezer(store, spec)
  if (readFreezerState(f) === 'frozen') fail(`container ${c.config.name} is already paused`)
  await setFrozen(f, true)
  recordContainerEvent(store, c, 'pause')
  return {name: c.config.name, freezer: f.version === 1 ? 'v1' : 'v2'}
}

export async function unpauseContainer(store: Store, spec: string): Promise<PauseResult> {
  const {c, f} = await runningWithFreezer(store, spec)
  if (readFreezerState(f) === 'thawed') fail(`container ${c.config.name} is not paused`)
  await setFrozen(f, false)
  recordContainerEvent(store, c, 'unpause')
  return {name: c.config.name, freezer: f.version === 1 ? 'v1' : 'v2'}
}

/** Whether a running container is paused (for ps and inspect). */
export async function isPaused(c: Container): Promise<boolean> {
  const f = await hostFreezerOf(c.run?.cgroups ?? [])
  return f !== undefined && isFrozenOrFreezing(readFreezerState(f))
}
