import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {findImage, readImage} from './images.js'
import {readLayerMeta} from './layers.js'
import {Store} from './store.js'

/** nsx history: an image's config history, newest first, each step with the layer it made and its size. */

export interface HistoryRow {
  created?: string
  createdBy: string
  comment?: string
  emptyLayer: boolean
  /** diff_id of the layer this step made (undefined for config-only steps). */
  layer?: string
  /** Bytes of file data in that layer (0 for config-only steps). */
  size: number
}

export function imageHistory(store: Store, ref: string): {id: string; history: HistoryRow[]} {
  const {id} = findImage(store, ref)
  const rec = readImage(store, id)!
  const cfg = JSON.parse(readFileSync(join(store.imageDir(id), 'config.json'), 'utf8')) as {history?: {created?: string; created_by?: string; comment?: string; empty_layer?: boolean}[]}
  let layer = 0
  const rows: HistoryRow[] = (cfg.history ?? []).map((h) => {
    const empty = !!h.empty_layer
    const diffId = empty ? undefined : rec.layers[layer++]
    const meta = diffId ? readLayerMeta(store, diffId) : undefined
    return {created: h.created, createdBy: h.created_by ?? '', comment: h.comment, emptyLayer: empty, layer: diffId, size: meta?.stats.bytes ?? 0}
  })
  // Layers the history does not account for (an image without history): one row each.
  for (; layer < rec.layers.length; layer++) rows.push({createdBy: '', emptyLayer: false, layer: rec.layers[layer], size: readLayerMeta(store, rec.layers[layer])?.stats.bytes ?? 0})
  return {id, history: rows.reverse()}
}
