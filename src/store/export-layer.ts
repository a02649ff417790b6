import {statSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {decompressFile, gzipFile, packLayer} from '../image/layer-tar.js'
import {readLayerMeta} from './layers.js'
import {Store} from './store.js'

/**
 * A stored layer as a blob to send or archive (push, save): the kept blob when it has the
 * wanted form, else made from it (gzip of a kept tar, decompression of a kept gzip/zstd), else
 * packed again from the extracted tree. diffId is the sha256 of the tar the blob holds: equal
 * to the stored layer's unless it had to be packed again from a tree that does not reproduce
 * the original tar byte for byte; then the image's config must name the new one.
 */

export interface LayerBlob {
  file: string
  digest: string
  size: number
  compression: 'none' | 'gzip' | 'zstd'
  diffId: string
}

export async function exportLayer(store: Store, diffId: string, scratch: string, want: 'compressed' | 'tar', n: number): Promise<LayerBlob> {
  const meta = readLayerMeta(store, diffId)
  if (!meta) throw NsxError.internal(`layer ${diffId} is missing from the store`)
  const kept = join(store.layerDir(diffId), 'blob')
  if (meta.blobKept) {
    if (meta.compression === 'none' && want === 'tar') return {file: kept, digest: diffId, size: statSync(kept).size, compression: 'none', diffId}
    if (meta.compression !== 'none' && want === 'compressed') return {file: kept, digest: meta.blobDigest, size: statSync(kept).size, compression: meta.compression, diffId}
    if (meta.compression !== 'none') {
      const tar = join(scratch, `layer-${n}.tar`)
      await decompressFile(kept, tar, meta.compression)
      return {file: tar, digest: diffId, size: statSync(tar).size, compression: 'none', diffId}
    }
    const gz = join(scratch, `layer-${n}.tar.gz`)
    const {digest, size} = await gzipFile(kept, gz)
    return {file: gz, digest, size, compression: 'gzip', diffId}
  }
  const tar = join(scratch, `layer-${n}.tar`)
  const packed = packLayer(store.layerRoot(diffId), tar)
  if (want === 'tar') return {file: tar, digest: packed.diffId, size: packed.tarBytes, compression: 'none', diffId: packed.diffId}
  const gz = join(scratch, `layer-${n}.tar.gz`)
  const {digest, size} = await gzipFile(tar, gz)
  return {file: gz, digest, size, compression: 'gzip', diffId: packed.diffId}
}

/** The config bytes for exported layers: the stored one, or with diff_ids rewritten to what was packed. */
export function configFor(original: Buffer, storedDiffIds: string[], blobs: LayerBlob[]): Buffer {
  if (blobs.every((b, i) => b.diffId === storedDiffIds[i])) return original
  const cfg = JSON.parse(original.toString('utf8')) as {rootfs: {diff_ids: string[]}}
  cfg.rootfs.diff_ids = blobs.map((b) => b.diffId)
  return Buffer.from(JSON.stringify(cfg))
}
