import {join} from 'node:path'
import {listEntries} from '../container/listing.js'
import {listContainers} from '../container/state.js'
import {familiarName} from '../store/image-inspect.js'
import {listBuildCache} from '../store/build-cache.js'
import {listStore} from '../store/listing.js'
import {diskUsage, Store} from '../store/store.js'
import {listVolumes, volumeData, volumeUsers} from '../volume/volumes.js'

/**
 * docker system df (`GET /system/df`): what the store's images, containers, local volumes and
 * build cache take, measured from the store. A layer is counted once however many images share
 * it (LayersSize); an image's SharedSize is what of it other images use too; a container's
 * SizeRw its upper directory on disk; a volume's its data on disk; a build cache entry's the
 * layer it made, when no image holds that layer (else it is shared, as BuildKit calls it).
 */

export interface DiskUsageImage {
  id: string
  names: string[]
  /** Seconds since the epoch. */
  created: number
  size: number
  sharedSize: number
  /** Containers (running or not) made from it. */
  containers: number
  labels: Record<string, string>
}

export interface DiskUsageContainer {
  id: string
  name: string
  image: string
  imageId: string
  command: string
  created: number
  state: string
  status: string
  sizeRw: number
  sizeRootFs: number
  /** Volumes it mounts. */
  localVolumes: number
  labels: Record<string, string>
}

export interface DiskUsageVolume {
  name: string
  mountpoint: string
  createdAt: string
  labels: Record<string, string>
  size: number
  /** Containers (running or not) that mount it. */
  refCount: number
}

export interface DiskUsageCache {
  id: string
  /** The layer it made (null for a step that made none). */
  layer: string | null
  /** The step that made it (BuildKit's Description). */
  description: string
  size: number
  /** Its layer is an image's too: pruning the entry frees nothing (BuildKit's Shared). */
  shared: boolean
  inUse: boolean
  createdAt: string
  lastUsedAt: string | null
  usageCount: number
}

export interface DiskUsage {
  /** Every stored layer once, bytes. */
  layersSize: number
  images: DiskUsageImage[]
  containers: DiskUsageContainer[]
  volumes: DiskUsageVolume[]
  buildCache: DiskUsageCache[]
}

export function diskUsageOf(store: Store): DiskUsage {
  const listing = listStore(store)
  const layerSize = new Map(listing.layers.map((l) => [l.diffId, l]))
  const all = listContainers(store)
  const byImage = new Map<string, number>()
  for (const c of all) {
    const i = c.config.imageIds[0]
    if (i) byImage.set(i, (byImage.get(i) ?? 0) + 1)
  }
  const images: DiskUsageImage[] = listing.images.map((i) => ({
    id: i.id,
    names: [...new Set(i.names.map(familiarName))],
    created: Math.floor((Date.parse(i.created ?? '') || 0) / 1000),
    size: i.size,
    sharedSize: i.layers.reduce((n, d) => n + ((layerSize.get(d)?.usedBy.length ?? 0) > 1 ? layerSize.get(d)!.size : 0), 0),
    containers: byImage.get(i.id) ?? 0,
    labels: {},
  }))
  const imageSize = new Map(images.map((i) => [i.id, i.size]))
  const users = volumeUsers(store)
  const entries = new Map(listEntries(store, {all: true}).map((e) => [e.id, e]))
  const containers: DiskUsageContainer[] = all.map((c) => {
    const e = entries.get(c.config.id)
    const sizeRw = diskUsage(join(c.dir, 'upper'))
    return {
      id: c.config.id,
      name: c.config.name,
      image: e?.image ?? '',
      imageId: c.config.imageIds[0] ?? '',
      command: (e?.command ?? []).map((w) => (/\s/.test(w) ? JSON.stringify(w) : w)).join(' '),
      created: Math.floor(Date.parse(e?.created ?? '') / 1000) || 0,
      state: e?.state ?? c.status,
      status: e?.status ?? c.status,
      sizeRw,
      sizeRootFs: sizeRw + (imageSize.get(c.config.imageIds[0] ?? '') ?? 0),
      localVolumes: [...users.values()].filter((ids) => ids.includes(c.config.id)).length,
      labels: e?.labels ?? {},
    }
  })
  const volumes: DiskUsageVolume[] = listVolumes(store).map((v) => ({
    name: v.Name,
    mountpoint: v.Mountpoint,
    createdAt: v.CreatedAt,
    labels: v.Labels ?? {},
    size: diskUsage(volumeData(store, v.Name)),
    refCount: users.get(v.Name)?.length ?? 0,
  }))
  const buildCache = buildCacheUsage(store, listing)
  return {layersSize: listing.layers.reduce((n, l) => n + l.size, 0), images, containers, volumes, buildCache}
}

/**
 * nsx build's cached steps as docker system df -v shows BuildKit's records: the layer each made
 * (its size), shared when an image holds that layer, the step, when made, last used and how often.
 */
export function buildCacheUsage(store: Store, listing = listStore(store)): DiskUsageCache[] {
  const layerSize = new Map(listing.layers.map((l) => [l.diffId, l.size]))
  const inImages = new Set(listing.images.flatMap((i) => i.layers))
  return listBuildCache(store).map(({id, entry: e}) => {
    const layer = typeof e.diffId === 'string' && layerSize.has(e.diffId) ? e.diffId : null
    return {
      id, layer, description: e.description ?? (layer ? `layer ${layer}` : 'a step that made no layer'),
      size: layer ? layerSize.get(layer)! : 0, shared: layer !== null && inImages.has(layer), inUse: false,
      createdAt: e.created ?? '', lastUsedAt: e.lastUsed ?? e.created ?? null, usageCount: e.usageCount ?? 1,
    }
  })
}

/** One row of docker system df's summary. */
export interface DiskUsageSummaryRow {
  type: 'Images' | 'Containers' | 'Local Volumes' | 'Build Cache'
  total: number
  active: number
  size: number
  reclaimable: number
  /** Whether docker prints the reclaimable share as a percentage. */
  percent: boolean
}

/**
 * The four rows, computed as the docker CLI computes them from the API's answer, so that
 * `nsx system df` and `docker system df` print the same: images' reclaimable is LayersSize less
 * the unique size of each image some container uses.
 */
export function summarise(u: DiskUsage): DiskUsageSummaryRow[] {
  const activeImages = u.images.filter((i) => i.containers > 0)
  const imagesUsed = activeImages.reduce((n, i) => n + i.size - i.sharedSize, 0)
  const running = (c: DiskUsageContainer) => ['running', 'paused', 'restarting'].includes(c.state)
  const ctrSize = u.containers.reduce((n, c) => n + c.sizeRw, 0)
  const volSize = u.volumes.reduce((n, v) => n + v.size, 0)
  const own = u.buildCache.filter((b) => !b.shared)
  return [
    {type: 'Images', total: u.images.length, active: activeImages.length, size: u.layersSize, reclaimable: u.layersSize - imagesUsed, percent: true},
    {type: 'Containers', total: u.containers.length, active: u.containers.filter(running).length, size: ctrSize, reclaimable: u.containers.filter((c) => !running(c)).reduce((n, c) => n + c.sizeRw, 0), percent: true},
    {type: 'Local Volumes', total: u.volumes.length, active: u.volumes.filter((v) => v.refCount > 0).length, size: volSize, reclaimable: u.volumes.filter((v) => v.refCount === 0).reduce((n, v) => n + v.size, 0), percent: true},
    {type: 'Build Cache', total: u.buildCache.length, active: u.buildCache.filter((b) => b.inUse).length, size: own.reduce((n, b) => n + b.size, 0), reclaimable: own.filter((b) => !b.inUse).reduce((n, b) => n + b.size, 0), percent: false},
  ]
}

/** docker's units.HumanSize: decimal units, four significant digits (or `precision`), as Go's %.4g prints them. */
export function humanSize(n: number, precision = 4): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB']
  let v = n
  let i = 0
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return `${Number(v.toPrecision(precision))}${units[i]}`
}
