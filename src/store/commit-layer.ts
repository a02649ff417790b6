import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import {packLayer} from '../image/layer-tar.js'
import {storeLayer} from './layers.js'
import {Store} from './store.js'

/**
 * A directory in overlayfs form (a container's upper directory, or a directory a build step
 * filled) into a stored layer: packed as a tar with whiteouts and opaque markers
 * (src/image/layer-tar.ts), then stored like any layer (checked, extracted, published
 * atomically), the tar kept as its blob for push. One function for build steps and commit.
 * Returns undefined when the directory is empty: no change, no layer.
 */
export async function storeDirAsLayer(store: Store, dir: string, scratch: string, label: string): Promise<{diffId: string; size: number} | undefined> {
  if (readdirSync(dir).length === 0) return undefined
  const tar = join(scratch, `layer-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.tar`)
  const packed = packLayer(dir, tar)
  const stored = await storeLayer(store, {file: tar, label}, {diffId: undefined, blob: packed.digest, keepBlob: true})
  return {diffId: stored.meta.diffId, size: packed.tarBytes}
}
