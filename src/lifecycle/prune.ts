import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import type {NetworkGcReport} from '../network/attach.js'
import {collectGarbage, type Freed, pruneImages} from '../store/gc.js'
import {removeTree, type Store} from '../store/store.js'

/**
 * The store's sweeps in one place: docker system prune (and each area's prune of the Engine
 * API: containers, images, networks, volumes, build cache) and nsx gc (what dead containers and
 * interrupted imports left). The callers hold the store's exclusive lock (the CLI for the
 * process, the service per request), so no import runs between "layer stored" and "image
 * recorded" while layers are swept.
 */

/** docker's ImageDeleteResponseItem. */
export type ImageDeleted = {Untagged: string} | {Deleted: string}

/** docker's prune answers, each area's fields. */
export interface PruneReport {
  ContainersDeleted: string[]
  NetworksDeleted: string[]
  VolumesDeleted: string[]
  ImagesDeleted: ImageDeleted[]
  CachesDeleted: string[]
  SpaceReclaimed: number
}

export interface SystemPruneOptions {
  /** -a: every image no container uses, not only the dangling ones; the whole build cache. */
  all?: boolean
  /** --volumes: the volumes no container uses too. */
  volumes?: boolean
}

/** docker image prune's items: names untagged, then images and layers deleted. */
export function imagesDeleted(f: Freed): ImageDeleted[] {
  return [...f.untagged.map((n) => ({Untagged: n})), ...f.images.map((i) => ({Deleted: i})), ...f.layers.map((l) => ({Deleted: l}))]
}

/**
 * docker builder prune (`POST /build/prune`): nsx build's cached steps go (all of them: nsx keeps
 * no record of a step's last use to keep recent ones by), then the layers only they held.
 */
export function pruneBuildCache(store: Store): {CachesDeleted: string[]; SpaceReclaimed: number} {
  const dir = join(store.root, 'build-cache')
  let files: string[] = []
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'))
  } catch {
    return {CachesDeleted: [], SpaceReclaimed: 0}
  }
  for (const f of files) removeTree(join(dir, f))
  const freed = collectGarbage(store, {dryRun: false})
  return {CachesDeleted: files.map((f) => f.slice(0, -'.json'.length)).sort(), SpaceReclaimed: freed.bytes}
}

/** docker system prune [-a] [--volumes]: stopped containers, unused networks, (volumes,) dangling or unused images, the build cache. */
export async function pruneSystem(store: Store, opts: SystemPruneOptions = {}): Promise<PruneReport> {
  const [{pruneContainers}, {pruneNetworks}, {pruneVolumes}] = await Promise.all([import('./remove.js'), import('../network/manage.js'), import('../volume/volumes.js')])
  const containers = await pruneContainers(store)
  const networks = pruneNetworks(store)
  const volumes = opts.volumes ? pruneVolumes(store) : {VolumesDeleted: [], SpaceReclaimed: 0}
  const images = pruneImages(store, {all: opts.all})
  const cache = pruneBuildCache(store)
  return {
    ContainersDeleted: containers.removed,
    NetworksDeleted: networks,
    VolumesDeleted: volumes.VolumesDeleted,
    ImagesDeleted: imagesDeleted(images),
    CachesDeleted: cache.CachesDeleted,
    SpaceReclaimed: containers.reclaimed + volumes.SpaceReclaimed + images.bytes + cache.SpaceReclaimed,
  }
}

/** docker's sections, each when it has something: "Deleted Containers:" and the ids, then a blank line. */
export function renderPrune(r: PruneReport): string {
  const section = (title: string, lines: string[]) => (lines.length > 0 ? `${title}:\n${lines.map((l) => `${l}\n`).join('')}\n` : '')
  return [
    section('Deleted Containers', r.ContainersDeleted),
    section('Deleted Networks', r.NetworksDeleted),
    section('Deleted Volumes', r.VolumesDeleted),
    section('Deleted Images', r.ImagesDeleted.map((i) => ('Untagged' in i ? `untagged: ${i.Untagged}` : `deleted: ${i.Deleted}`))),
    section('Deleted build cache objects', r.CachesDeleted),
  ].join('')
}

/** What nsx gc did: the store's Freed, and the containers, network attachments and anonymous volumes swept. */
export interface GcReport extends Freed {
  containers: string[]
  volumes: string[]
  dryRun: boolean
  networks?: NetworkGcReport
}

/**
 * nsx gc, its four sweeps in order: what containers whose nsx was killed left (cgroups, upper
 * directories, pins); their network attachments (CNI DEL), leases nobody holds, a CHECK of the
 * live ones; the layers nothing uses and the leftovers of interrupted imports; the anonymous
 * volumes of --rm containers that died without their supervisor's cleanup. A dry run only reports
 * the layers and volumes.
 */
export async function collectSystemGarbage(store: Store, opts: {dryRun: boolean}): Promise<GcReport> {
  const [{sweepStale}, {gcNetworks}, {collectVolumes}] = await Promise.all([import('../container/sweep.js'), import('./container-network.js'), import('../volume/volumes.js')])
  const containers = opts.dryRun ? [] : sweepStale(store)
  const networks = opts.dryRun ? undefined : await gcNetworks(store)
  const freed = collectGarbage(store, opts)
  const vols = collectVolumes(store, opts)
  freed.bytes += vols.bytes
  return {...freed, containers, volumes: vols.volumes, dryRun: opts.dryRun, ...(networks ? {networks} : {})}
}
