import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {Container, containerDir, killIfSame, liveNames, readContainer} from './state.js'
import {checkName} from './spec.js'

/** A running container by name, or an error listing the running ones. */
export function requireRunning(store: Store, name: string): Container {
  checkName(name)
  const c = readContainer(containerDir(store, name))
  if (!c || c.liveness === 'dead') throw new NsxError(`no such container: ${name} (running: ${liveNames(store)})`)
  if (c.liveness === 'starting' || !c.pids) throw new NsxError(`container ${name} is still starting`)
  return c
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/**
 * docker stop: SIGTERM to the command (through the supervisor and the init), SIGKILL to
 * the container's init after the grace period; returns once the supervisor has exited,
 * that is once it has removed the cgroups, the upper directory and the state.
 */
export async function stopContainer(store: Store, name: string, graceSeconds: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<'stopped' | 'killed'> {
  const c = requireRunning(store, name)
  const sup = c.pids!.supervisor
  const done = () => readContainer(c.dir)?.liveness !== 'running'
  killIfSame(sup, signal)
  // A paused container's processes receive no signal until thawed (v1 freezes even SIGKILL): thaw it, as docker does.
  const {hostFreezerOf, isFrozenOrFreezing, readFreezerState, setFrozen} = await import('./freezer.js')
  const freezer = await hostFreezerOf(c.state.cgroups ?? [])
  if (freezer && isFrozenOrFreezing(readFreezerState(freezer))) await setFrozen(freezer, false).catch(() => undefined)
  const end = Date.now() + graceSeconds * 1000
  while (Date.now() < end) {
    if (done()) return 'stopped'
    await sleep(20)
  }
  // Killing the init kills its whole pid namespace; the supervisor then cleans up and exits.
  killIfSame(c.pids!.init, 'SIGKILL')
  const hard = Date.now() + 10000
  while (Date.now() < hard) {
    if (done()) return 'killed'
    await sleep(20)
  }
  throw new NsxError(`container ${name} did not stop: its supervisor (pid ${sup.pid}) is still running`)
}
