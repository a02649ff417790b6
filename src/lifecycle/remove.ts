import {NsxError} from '../cli/errors.js'
import {join} from 'node:path'
import {diskUsage, type Store} from '../store/store.js'
import {type PruneSelector, selects} from '../store/prune-filter.js'
import {alive, killIfSame, listContainers, lockContainer, readContainer, requestStop, sleep, withContainer} from '../container/state.js'
import {recordContainerEvent} from '../container/events.js'
import {removeContainer} from '../container/sweep.js'
import {thawIfPaused, waitSupervisorGone} from './stop.js'

/**
 * docker rm [-f]: everything of the container goes (upper directory, log, cgroups, name,
 * layer pin). A running one is refused unless forced; forced, its init is SIGKILLed first and
 * its supervisor's end awaited. With `volumes` (rm -v) its anonymous volumes go too.
 */
export async function removeContainerVerb(store: Store, ref: string, opts: {force?: boolean; volumes?: boolean} = {}): Promise<{name: string; id: string}> {
  const done = await withContainer(store, ref, async (c) => {
    if (c.status === 'running' || c.status === 'starting') {
      if (!opts.force) throw NsxError.conflict(`You cannot remove a running container ${c.config.id}. Stop the container before attempting removal or force remove`, 1)
      if (c.status === 'starting') await waitSupervisorGone(c, 10000)
      const now = readContainer(c.dir) ?? c
      requestStop(c.dir)
      if (now.pids) killIfSame(now.pids.init, 'SIGKILL')
      await thawIfPaused(now)
      if (!(await waitSupervisorGone(now, 10000))) throw NsxError.internal(`container ${c.config.name} did not stop: its supervisor (pid ${now.pids?.supervisor.pid}) is still running`, 1)
      c = readContainer(c.dir) ?? now
    }
    if (c.orphanInit) {
      killIfSame(c.orphanInit, 'SIGKILL')
      for (let i = 0; i < 200 && alive(c.orphanInit); i++) await sleep(10)
    }
    // Its die (when it ran: a watcher may not have told it yet) and its destroy, in order; a watcher seeing them too tells them once.
    if (c.run?.startedAt && c.status === 'exited') recordContainerEvent(store, c, 'die', {exitCode: String(c.exitCode ?? 0)}, `${c.config.id}/die/${c.run.startedAt}`)
    removeContainer(store, c)
    recordContainerEvent(store, c, 'destroy', {}, `${c.config.id}/destroy`)
    return {name: c.config.name, id: c.config.id, anonymous: c.config.spec.volumes?.filter((v) => v.anonymous && v.volume !== undefined).map((v) => v.volume!) ?? []}
  })
  if (opts.volumes && done.anonymous.length > 0) {
    const {removeVolume} = await import('../volume/volumes.js')
    for (const v of done.anonymous) {
      try {
        removeVolume(store, v, {force: true})
      } catch {
        // another container mounts it too: it stays, as docker leaves it
      }
    }
  }
  return {name: done.name, id: done.id}
}

/**
 * docker container prune: every container that is not running (created or exited) is removed,
 * narrowed by the selector of its filters (created at or before `until`; its labels).
 */
export async function pruneContainers(store: Store, select: PruneSelector = {labels: [], notLabels: []}): Promise<{removed: string[]; reclaimed: number}> {
  const removed: string[] = []
  let reclaimed = 0
  for (const c0 of listContainers(store)) {
    if (c0.status === 'running' || c0.status === 'starting') continue
    if (!selects(select, {created: c0.config.created, labels: c0.config.labels})) continue
    const {lock, container: c} = await lockContainer(store, c0).catch(() => ({lock: undefined, container: undefined}))
    if (!lock || !c) continue
    try {
      if (c.status === 'running' || c.status === 'starting') continue
      // What docker counts: the container's own writable layer (its upper directory), in bytes on disk.
      const size = diskUsage(join(c.dir, 'upper'))
      removeContainer(store, c)
      recordContainerEvent(store, c, 'destroy', {}, `${c.config.id}/destroy`)
      removed.push(c.config.id)
      reclaimed += size
    } finally {
      lock.release()
    }
  }
  return {removed, reclaimed}
}
