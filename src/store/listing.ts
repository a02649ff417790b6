import type {ImageDefaults} from '../image/config.js'
import {splitName} from '../image/source.js'
import {listImages, namesOf, readRepositories} from './images.js'
import {LayerMeta, readLayerMeta} from './layers.js'
import {keptLayers} from './kept-layers.js'
import {listPins} from './pins.js'
import {Store} from './store.js'

/** The model behind `nsx images` (and its --json schema, documented in docs/images.md and docs/schemas/). */
export interface ImageListing {
  store: string
  images: ImageEntry[]
  layers: LayerEntry[]
}

export interface ImageEntry {
  id: string
  /** "name:tag" references; empty for an untagged image. */
  names: string[]
  created: string | null
  architecture: string
  os: string
  /** Sum of its layers' file data, bytes. */
  size: number
  layers: string[]
  defaults: ImageDefaults
  source: string
  loadedAt: string
}

export interface LayerEntry {
  diffId: string
  blobDigest: string
  compression: string
  /** Bytes of file data in the layer. */
  size: number
  entries: number
  whiteouts: number
  /** Ids of the stored images using it. */
  usedBy: string[]
  /** Containers (pins) using it now. */
  pinnedBy: string[]
  /** Stored on its own (nsx load --layer): kept until nsx rmi names it. */
  kept: boolean
  ownershipKept: boolean
  source: string
  extractedAt: string
}

export function listStore(store: Store): ImageListing {
  const repos = readRepositories(store)
  const metas = new Map<string, LayerMeta>()
  for (const d of store.listDigests('layers')) {
    const m = readLayerMeta(store, d)
    if (m) metas.set(d, m)
  }
  const images = listImages(store)
  const {live} = listPins(store)
  const kept = new Set(keptLayers(store))
  const imageEntries: ImageEntry[] = images.map((i) => ({
    id: i.id,
    names: namesOf(repos, i.id),
    created: i.created ?? null,
    architecture: i.architecture,
    os: i.os,
    size: i.layers.reduce((n, l) => n + (metas.get(l)?.stats.bytes ?? 0), 0),
    layers: i.layers,
    defaults: i.defaults,
    source: i.source,
    loadedAt: i.loadedAt,
  }))
  imageEntries.sort((a, b) => (a.names[0] ?? '~' + a.id).localeCompare(b.names[0] ?? '~' + b.id))
  const layers: LayerEntry[] = [...metas.values()].map((m) => ({
    diffId: m.diffId,
    blobDigest: m.blobDigest,
    compression: m.compression,
    size: m.stats.bytes,
    entries: m.stats.entries,
    whiteouts: m.stats.whiteouts,
    usedBy: images.filter((i) => i.layers.includes(m.diffId)).map((i) => i.id),
    pinnedBy: live.filter((p) => p.layers.includes(m.diffId)).map((p) => p.id),
    kept: kept.has(m.diffId),
    ownershipKept: m.ownershipKept,
    source: m.source,
    extractedAt: m.extractedAt,
  }))
  layers.sort((a, b) => a.diffId.localeCompare(b.diffId))
  return {store: store.root, images: imageEntries, layers}
}

/** One row per name (as docker images shows), untagged images once as <none>. */
export function imageRows(l: ImageListing): {repository: string; tag: string; image: ImageEntry}[] {
  const rows: {repository: string; tag: string; image: ImageEntry}[] = []
  for (const i of l.images) {
    if (i.names.length === 0) rows.push({repository: '<none>', tag: '<none>', image: i})
    for (const n of i.names) {
      const {name, tag} = splitName(n)
      rows.push({repository: name, tag, image: i})
    }
  }
  return rows
}
