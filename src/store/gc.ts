import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {findImage, listImages, namesOf, readImage, readRepositories, updateRepositories} from './images.js'
import {readLayerMeta} from './layers.js'
import {recordImageEvent} from './events.js'
import {listPins, unpin} from './pins.js'
import {findStoredLayer, keptLayers, releaseLayer} from './kept-layers.js'
import {diskUsage, exists, removeTree, Store} from './store.js'
import {type PruneSelector, selects} from './prune-filter.js'

/**
 * Removal: rmi (untag, then delete the image and the layers nothing else uses) and gc
 * (mark and sweep). Roots of the mark: every stored image's layers, and the layers pinned
 * by live containers (pins.ts). Both run under the exclusive store lock, so no import can
 * be between "layer stored" and "image recorded" while they sweep.
 */

export interface Freed {
  untagged: string[]
  images: string[]
  layers: string[]
  /** Leftovers of interrupted imports or deletes removed from tmp/. */
  temporaries: number
  /** Bytes on disk released. */
  bytes: number
}

const emptyFreed = (): Freed => ({untagged: [], images: [], layers: [], temporaries: 0, bytes: 0})

/** Layers referenced by stored images and live containers; stale pins are dropped. */
export function markLayers(store: Store, opts: {dropStalePins: boolean}): {layers: Set<string>; pinnedImages: Set<string>} {
  const layers = new Set<string>()
  const pinnedImages = new Set<string>()
  for (const img of listImages(store)) for (const l of img.layers) layers.add(l)
  for (const l of keptLayers(store)) layers.add(l)
  const {live, stale} = listPins(store)
  for (const p of live) {
    for (const l of p.layers) layers.add(l)
    for (const i of p.images) pinnedImages.add(i)
  }
  if (opts.dropStalePins) for (const p of stale) unpin(store, p.id)
  return {layers, pinnedImages}
}

function deleteLayer(store: Store, diffId: string, freed: Freed): void {
  const dir = store.layerDir(diffId)
  if (!exists(dir)) return
  freed.bytes += diskUsage(dir)
  store.retire(dir)
  freed.layers.push(diffId)
}

export function removeImages(store: Store, refs: string[], opts: {force: boolean}): Freed {
  const freed = emptyFreed()
  // A layer kept by nsx load --layer, named by its digest, is released (and deleted when unused).
  const kept = keptLayers(store)
  const layerTargets: string[] = []
  const imageRefs = refs.filter((r) => {
    const l = findStoredLayer(store, r, kept)
    if (l === undefined) return true
    try {
      findImage(store, r)
      return true
    } catch {
      layerTargets.push(l)
      return false
    }
  })
  // Resolve every reference first: a typo in the last one removes nothing.
  const targets = imageRefs.map((r) => ({ref: r, ...findImage(store, r)}))
  const {pinnedImages} = markLayers(store, {dropStalePins: false})
  // Then decide, on a copy of the names, what each reference does when its turn comes: a
  // refusal (an id with several names, an image in use) must also come before any change.
  const repos = readRepositories(store)
  const removed = new Set<string>()
  const actions: ({kind: 'untag'; name: string; id: string} | {kind: 'remove'; id: string})[] = []
  for (const t of targets) {
    const names = namesOf(repos, t.id)
    // Already untagged or removed by an earlier reference in the same call (rmi a a).
    if (removed.has(t.id) || (t.byName && !names.includes(t.byName))) continue
    if (t.byName && names.length > 1) {
      // Like docker rmi: a name shared with other names is only untagged.
      delete repos[t.byName]
      actions.push({kind: 'untag', name: t.byName, id: t.id})
      continue
    }
    if (!t.byName && names.length > 1 && !opts.force)
      throw NsxError.conflict(`image ${t.ref} is tagged ${names.join(', ')}; remove those names, or use --force to remove the image and all its names`)
    if (pinnedImages.has(t.id)) throw NsxError.conflict(`image ${t.ref} is in use by a running container`)
    for (const n of names) delete repos[n]
    removed.add(t.id)
    actions.push({kind: 'remove', id: t.id})
  }
  for (const a of actions) {
    if (a.kind === 'untag') {
      updateRepositories(store, (r) => delete r[a.name])
      freed.untagged.push(a.name)
      recordImageEvent(store, 'untag', a.id, {imageId: a.id})
      continue
    }
    const rec = readImage(store, a.id)
    const untagged = updateRepositories(store, (r) => {
      const names = namesOf(r, a.id)
      for (const n of names) {
        delete r[n]
        freed.untagged.push(n)
      }
      return names
    })
    for (const _ of untagged) recordImageEvent(store, 'untag', a.id, {imageId: a.id})
    const dir = store.imageDir(a.id)
    if (exists(dir)) {
      freed.bytes += diskUsage(dir)
      // Told before it goes: the event carries the image's labels.
      recordImageEvent(store, 'delete', a.id, {imageId: a.id})
      store.retire(dir)
      freed.images.push(a.id)
    }
    // Its layers go too, unless another image or a live container still uses them.
    const {layers: used} = markLayers(store, {dropStalePins: false})
    for (const l of rec?.layers ?? []) if (!used.has(l) && !freed.layers.includes(l)) deleteLayer(store, l, freed)
  }
  for (const l of layerTargets) {
    releaseLayer(store, l)
    const {layers: used} = markLayers(store, {dropStalePins: false})
    if (!used.has(l) && !freed.layers.includes(l)) deleteLayer(store, l, freed)
  }
  return freed
}

/**
 * docker image prune: the dangling images (no name), or with `all` every image no container
 * uses, with the layers only they used, narrowed by the selector of its filters (created at or
 * before `until`, the labels of the image's config). Run under the exclusive store lock, as rmi.
 */
export function pruneImages(store: Store, opts: {all?: boolean; select?: PruneSelector} = {}): Freed {
  const repos = readRepositories(store)
  const {pinnedImages} = markLayers(store, {dropStalePins: false})
  const select = opts.select ?? {labels: [], notLabels: []}
  const ids = listImages(store)
    .map((i) => i.id)
    .filter((id) => (opts.all || namesOf(repos, id).length === 0) && !pinnedImages.has(id))
    .filter((id) => {
      const cfg = store.readJson<{created?: string; config?: {Labels?: Record<string, string> | null}}>(join(store.imageDir(id), 'config.json'))
      return selects(select, {created: cfg?.created, labels: cfg?.config?.Labels})
    })
  return ids.length > 0 ? removeImages(store, ids, {force: true}) : emptyFreed()
}

/** docker's ImageDeleteResponseItem: names untagged, then images and layers deleted (rmi's answer and image prune's). */
export type ImageDeleted = {Untagged: string} | {Deleted: string}

export function imagesDeleted(f: Freed): ImageDeleted[] {
  return [...f.untagged.map((n) => ({Untagged: n})), ...f.images.map((i) => ({Deleted: i})), ...f.layers.map((l) => ({Deleted: l}))]
}

export function collectGarbage(store: Store, opts: {dryRun: boolean}): Freed {
  const freed = emptyFreed()
  if (!store.exists) return freed
  const {layers: used} = markLayers(store, {dropStalePins: !opts.dryRun})
  // Names pointing at images that are gone (a crash between the two writes) are dropped.
  const images = new Set(store.listDigests('images'))
  if (!opts.dryRun)
    updateRepositories(store, (repos) => {
      for (const [n, id] of Object.entries(repos))
        if (!images.has(id)) {
          delete repos[n]
          freed.untagged.push(n)
        }
    })
  let names: string[] = []
  try {
    names = readdirSync(join(store.root, 'layers', 'sha256'))
  } catch {
    /* empty store */
  }
  for (const hex of names) {
    const d = `sha256:${hex}`
    if (used.has(d) && readLayerMeta(store, d)) continue
    if (opts.dryRun) {
      freed.bytes += diskUsage(store.layerDir(d))
      freed.layers.push(d)
    } else deleteLayer(store, d, freed)
  }
  // Under the exclusive lock no import runs: everything in tmp/ is a leftover.
  for (const t of safeList(store.tmpDir)) {
    const p = join(store.tmpDir, t)
    freed.bytes += diskUsage(p)
    freed.temporaries++
    if (!opts.dryRun) removeTree(p)
  }
  // The --layer cache entries of deleted layers.
  for (const f of safeList(join(store.root, 'sources'))) {
    const c = store.readJson<{diffId?: string}>(join(store.root, 'sources', f))
    if (!opts.dryRun && (!c?.diffId || !readLayerMeta(store, c.diffId))) removeTree(join(store.root, 'sources', f))
  }
  // nsx build's cache entries whose layer is gone (an entry for a step that made no layer stays).
  for (const f of safeList(join(store.root, 'build-cache'))) {
    const c = store.readJson<{diffId?: string | null}>(join(store.root, 'build-cache', f))
    if (!opts.dryRun && (c === undefined || (c.diffId !== null && (typeof c.diffId !== 'string' || !readLayerMeta(store, c.diffId))))) removeTree(join(store.root, 'build-cache', f))
  }
  return freed
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}
