import {readdirSync, rmSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {unpin} from '../store/pins.js'
import {exists, Store} from '../store/store.js'
import {hasEndpoint, teardownContainer} from '../network/records.js'
import {removeCgroups} from './cgroups.js'
import {alive, Container, idOfName, killIfSame, listContainers, nameLink, namesDir, releaseName, runDir, waitUntilSync} from './state.js'

/*
 * Removing containers and tidying what crashes left: apart from the state model (state.ts) so
 * that the verbs which only read and signal a container (stop, kill, wait, start) do not load
 * the network records and cgroup code that removal needs.
 */

/** Remove everything of a stopped container: cgroups, directory (upper, log), name, pin. */
export function removeContainer(store: Store, c: Container): void {
  if (c.run) removeCgroups(c.run.cgroups)
  // Its network attachments (veth, address lease, NAT and port rules), when its supervisor could not release them.
  teardownContainer(store, c.config.id)
  store.retire(c.dir)
  releaseName(store, c.config.name, c.config.id)
  unpin(store, c.config.id)
}

/** How long an unread tombstone stays: a waiter reads it at once; this is for one that came late. */
const TOMBSTONE_MS = 10 * 60 * 1000

/**
 * Tidy what crashes left (nsx, ps and gc call it): an orphaned init is killed, the cgroups
 * of exited containers removed, --rm containers that ended without their supervisor's
 * cleanup removed whole, and name links to removed containers dropped. Kept containers
 * stay. Returns the names of the containers it removed or tidied.
 */
export function sweepStale(store: Store): string[] {
  const swept: string[] = []
  for (const c of listContainers(store)) {
    if (c.status !== 'exited') continue
    if (c.orphanInit) {
      killIfSame(c.orphanInit, 'SIGKILL')
      const init = c.orphanInit
      if (!waitUntilSync(() => !alive(init), 2000)) continue // the next sweep does the rest
    }
    const leftCgroups = (c.run?.cgroups ?? []).filter((d) => exists(d))
    if (!c.config.autoRemove && hasEndpoint(store, c.config.id)) {
      teardownContainer(store, c.config.id)
      if (!c.config.autoRemove && leftCgroups.length === 0) swept.push(c.config.name)
    }
    if (c.config.autoRemove) {
      removeContainer(store, c)
      swept.push(c.config.name)
    } else if (leftCgroups.length > 0) {
      removeCgroups(leftCgroups)
      swept.push(c.config.name)
    }
  }
  try {
    for (const n of readdirSync(runDir(store))) {
      if (!/^[0-9a-f]{64}\.exit(\.tmp)?$/.test(n)) continue
      const p = join(runDir(store), n)
      if (Date.now() - statSafe(p) > TOMBSTONE_MS) rmSync(p, {force: true})
    }
  } catch {
    // no containers yet
  }
  try {
    for (const n of readdirSync(namesDir(store))) {
      if (n.includes('.tmp-')) {
        const p = join(namesDir(store), n)
        if (Date.now() - statSafe(p) > 60000) rmSync(p, {force: true})
        continue
      }
      if (idOfName(store, n) === undefined) rmSync(nameLink(store, n), {force: true})
    }
  } catch {
    // no names yet
  }
  return swept
}

function statSafe(p: string): number {
  try {
    return statSync(p).mtimeMs
  } catch {
    return 0
  }
}

