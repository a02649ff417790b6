import {existsSync, lstatSync, readdirSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {packLayer} from '../image/layer-tar.js'
import {publishLayerDir, storeLayer} from './layers.js'
import {Store} from './store.js'

/**
 * A directory in overlayfs form (a container's upper directory, or a directory a build step
 * filled) into a stored layer: packed as a tar with whiteouts and opaque markers
 * (src/image/layer-tar.ts), then stored like any layer (checked, extracted, published
 * atomically), the tar kept as its blob for push. One function for build steps and commit.
 * The directory is only read (a running container's upper directory may be committed).
 * Returns undefined when nothing is left to pack: no change, no layer.
 */
export async function storeDirAsLayer(
  store: Store,
  dir: string,
  scratch: string,
  label: string,
  exclude?: (rel: string) => boolean,
  /** The directory is the caller's to give away (a finished build step): moved into the store, not extracted again. */
  consume = false,
): Promise<{diffId: string; size: number} | undefined> {
  if (readdirSync(dir).length === 0) return undefined
  const tar = join(scratch, `layer-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.tar`)
  const packed = packLayer(dir, tar, exclude)
  if (packed.entries === 0) return undefined
  if (consume) {
    // What the tar left out must not be in the published tree either.
    if (exclude) removeExcluded(dir, '', exclude)
    const stored = publishLayerDir(store, dir, tar, packed, label)
    return {diffId: stored.meta.diffId, size: packed.tarBytes}
  }
  const stored = await storeLayer(store, {file: tar, label}, {diffId: undefined, blob: packed.digest, keepBlob: true})
  return {diffId: stored.meta.diffId, size: packed.tarBytes}
}

const MOUNT_POINTS = ['proc', 'sys', 'dev', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf']

/**
 * What a container's setup made in its upper directory only to mount over (/proc, /sys, /dev
 * when the image has none; empty files for /etc/hosts, /etc/resolv.conf, /etc/hostname; /etc
 * made only to hold them): not the container's changes, so not in a layer made from it.
 */
export function mountPointFilter(upper: string, lowerDirs: string[]): (rel: string) => boolean {
  const skip = new Set<string>()
  const inLower = (p: string) => lowerDirs.some((d) => existsSync(join(d, p)))
  for (const p of MOUNT_POINTS) {
    if (inLower(p)) continue
    try {
      const st = lstatSync(join(upper, p))
      if ((st.isDirectory() && readdirSync(join(upper, p)).length === 0) || (st.isFile() && st.size === 0)) skip.add(p)
    } catch {
      // not there
    }
  }
  try {
    if (!inLower('etc') && readdirSync(join(upper, 'etc')).every((n) => skip.has(`etc/${n}`))) skip.add('etc')
  } catch {
    // no /etc in the upper directory
  }
  return (rel) => skip.has(rel)
}

function removeExcluded(root: string, rel: string, exclude: (rel: string) => boolean): void {
  for (const n of readdirSync(join(root, rel))) {
    const r = rel === '' ? n : `${rel}/${n}`
    if (exclude(r)) rmSync(join(root, r), {recursive: true, force: true})
    else if (lstatSync(join(root, r)).isDirectory() && (r === 'etc' || r === 'dev')) removeExcluded(root, r, exclude)
  }
}
