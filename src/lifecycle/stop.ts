import {NsxError} from '../cli/errors.js'
import type {Store} from '../store/store.js'
import {alive, Container, killIfSame, readContainer, requestStop, sleep, withContainer} from '../container/state.js'
import {recordContainerEvent} from '../container/events.js'

/** Waits for the supervisor to be gone: often first, then every 20 ms (a cooperative stop returns within a few ms). */
export async function waitSupervisorGone(c: Container, ms: number): Promise<boolean> {
  const sup = c.pids?.supervisor
  const end = Date.now() + ms
  for (let i = 0; ; i++) {
    if (sup ? !alive(sup) : readContainer(c.dir)?.status !== 'starting') return true
    if (Date.now() >= end) return false
    await sleep(i < 50 ? 2 : 20)
  }
}

/** A paused container's processes receive no signal until thawed (v1 freezes even SIGKILL): thaw it, as docker does. */
export async function thawIfPaused(c: Container): Promise<void> {
  const {hostFreezerOf, isFrozenOrFreezing, readFreezerState, setFrozen} = await import('../container/freezer.js')
  const freezer = await hostFreezerOf(c.run?.cgroups ?? [])
  if (freezer && isFrozenOrFreezing(readFreezerState(freezer))) await setFrozen(freezer, false).catch(() => undefined)
}

export interface StopResult {
  name: string
  id: string
  /** stopped: ended within the grace period; killed: SIGKILLed after it; not-running: nothing to do. */
  result: 'stopped' | 'killed' | 'not-running'
}

/**
 * Stop C (lock held): SIGTERM (or `signal`) to the command through its supervisor and init,
 * SIGKILL to the init after `graceSeconds` (its pid namespace goes with it); returns once the
 * supervisor has recorded the exit and removed the cgroups.
 */
export async function stopLocked(c: Container, graceSeconds: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<StopResult['result']> {
  if (c.status === 'starting') {
    // A start in progress holds no lock once its executor runs: let it reach running or exited.
    await waitSupervisorGone(c, 10000)
    c = readContainer(c.dir) ?? c
  }
  if (c.status !== 'running' || !c.pids) return 'not-running'
  requestStop(c.dir)
  killIfSame(c.pids.supervisor, signal)
  await thawIfPaused(c)
  if (await waitSupervisorGone(c, graceSeconds * 1000)) return 'stopped'
  // Killing the init kills its whole pid namespace; the supervisor then records the end and exits.
  killIfSame(c.pids.init, 'SIGKILL')
  if (await waitSupervisorGone(c, 10000)) return 'killed'
  throw NsxError.internal(`container ${c.config.name} did not stop: its supervisor (pid ${c.pids.supervisor.pid}) is still running`, 1)
}

/** docker stop [-t N] [-s SIG]. A container that is not running is not an error (docker's rule). */
export async function stopContainer(store: Store, ref: string, opts: {time?: number; signal?: NodeJS.Signals} = {}): Promise<StopResult> {
  return withContainer(store, ref, async (c) => {
    const result = await stopLocked(c, opts.time ?? 10, opts.signal)
    if (result !== 'not-running') recordContainerEvent(store, c, 'stop')
    return {name: c.config.name, id: c.config.id, result}
  })
}

/** docker restart: stop (if running), then start detached, under one lock. */
export async function restartContainer(store: Store, ref: string, opts: {time?: number} = {}): Promise<{name: string; id: string}> {
  const {launch} = await import('./start.js')
  return withContainer(store, ref, async (c) => {
    await stopLocked(c, opts.time ?? 10)
    const now = readContainer(c.dir)
    if (!now) throw NsxError.notFound(`No such container: ${ref}`, 1)
    await launch(store, now, {detached: true})
    recordContainerEvent(store, c, 'restart')
    return {name: c.config.name, id: c.config.id}
  })
}
