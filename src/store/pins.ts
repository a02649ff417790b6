import {existsSync, readdirSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {readStat} from '../proc/process.js'
import {Store} from './store.js'

/**
 * The hook through which running containers keep their layers from gc and rmi.
 * The runtime (nsx run) calls pinLayers() before mounting and unpin() after the
 * container is gone; a pin whose process has died (crash, kill -9) is stale and is
 * ignored and removed by gc. The process is named by pid *and* start time, so a
 * reused pid does not keep a dead container's pin alive.
 */

export interface Pin {
  /** Container id, also the file name: containers/<id>.json. */
  id: string
  pid: number
  /** /proc/PID/stat starttime of pid when pinned. */
  startTime: number
  /** diff_ids of the stored layers it uses. */
  layers: string[]
  /** Image ids it was started from. */
  images: string[]
  /** A kept container's directory: the pin lives while it does (the container is removed by nsx rm). */
  dir?: string
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

export function pinLayers(store: Store, id: string, pid: number, layers: string[], images: string[] = [], dir?: string): Pin {
  if (!ID_RE.test(id)) throw new Error(`bad container id for a pin: ${id}`)
  const stat = readStat(pid)
  if (!stat) throw new Error(`cannot pin layers for pid ${pid}: no such process`)
  const pin: Pin = {id, pid, startTime: stat.starttime, layers, images, ...(dir ? {dir} : {})}
  store.writeJsonAtomic(join(store.root, 'containers', `${id}.json`), pin)
  return pin
}

export function unpin(store: Store, id: string): void {
  if (!ID_RE.test(id)) return
  rmSync(join(store.root, 'containers', `${id}.json`), {force: true})
}

export function isPinLive(pin: Pin): boolean {
  if (pin.dir) return existsSync(join(pin.dir, 'config.json'))
  const stat = readStat(pin.pid)
  return stat !== undefined && stat.starttime === pin.startTime
}

export function listPins(store: Store): {live: Pin[]; stale: Pin[]} {
  const live: Pin[] = []
  const stale: Pin[] = []
  let names: string[] = []
  try {
    names = readdirSync(join(store.root, 'containers'))
  } catch {
    return {live, stale}
  }
  for (const n of names) {
    if (!n.endsWith('.json')) continue
    const pin = store.readJson<Pin>(join(store.root, 'containers', n))
    if (!pin) continue
    ;(isPinLive(pin) ? live : stale).push(pin)
  }
  return {live, stale}
}
