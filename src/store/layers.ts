import {closeSync, mkdirSync, mkdtempSync, openSync, renameSync, writeSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {SyscallError} from '../ffi/libc.js'
import {BlobSource, Compression, streamBlob} from '../image/blob.js'
import {ExtractStats, LayerExtractor, opaqueXattr} from '../image/extract.js'
import {Progress} from '../image/progress.js'
import {TarParser} from '../image/tar.js'
import {armInterruptCleanup, removeOnInterrupt} from './interrupt.js'
import {exists, removeTree, Store} from './store.js'

/** What the store knows about an extracted layer (layers/sha256/<hex>/meta.json). */
export interface LayerMeta {
  diffId: string
  /** Digest of the blob it came from, when known (compressed form in an OCI image). */
  blobDigest: string
  compression: Compression
  /** Bytes of the blob as stored, and of its uncompressed tar. */
  storedBytes: number
  tarBytes: number
  stats: ExtractStats
  /** 'trusted' when extracted as root; 'user' for rootless (overlay mounted with userxattr). */
  overlayXattrs: 'trusted' | 'user'
  /** false when extracted rootless: every file belongs to the extracting user. */
  ownershipKept: boolean
  extractedAt: string
  /** Where it was first imported from. */
  source: string
  /** The blob (blobDigest, compression) is kept beside root/ as blob. */
  blobKept?: boolean
}

export interface Expected {
  /** Digest of the blob as stored (the manifest's layer digest). */
  blob?: string
  /** Digest of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId?: string
  /**
   * Keep the blob as stored (layers/sha256/<hex>/blob) so push sends the very bytes whose
   * digest the manifest names; pulled and built layers keep it.
   */
  keepBlob?: boolean
}

export interface StoredLayer {
  meta: LayerMeta
  root: string
  /** true when the layer was already in the store and nothing was extracted. */
  reused: boolean
}

export function readLayerMeta(store: Store, diffId: string): LayerMeta | undefined {
  return store.readJson<LayerMeta>(join(store.layerDir(diffId), 'meta.json'))
}

/**
 * Extract a layer blob into the store, once: into a private directory under tmp/,
 * checked against its digests, then renamed into place. Nothing outside the store is
 * written, and nothing half-extracted is ever published. The caller holds the store lock.
 */
export async function storeLayer(store: Store, blob: BlobSource, expected: Expected = {}, progress?: Progress): Promise<StoredLayer> {
  if (expected.diffId) {
    const meta = readLayerMeta(store, expected.diffId)
    if (meta) return {meta, root: store.layerRoot(expected.diffId), reused: true}
  }
  armInterruptCleanup()
  const work = mkdtempSync(join(store.tmpDir, 'layer-'))
  const untrack = removeOnInterrupt(work)
  try {
    const root = join(work, 'root')
    mkdirSync(root, {mode: 0o755})
    // Paths must stay under PATH_MAX (4096 with its NUL) below the layer's published root.
    const maxPathBytes = 4095 - Buffer.byteLength(store.layerRoot(`sha256:${'0'.repeat(64)}`)) - 1
    const extractor = new LayerExtractor(root, {privileged: store.privileged, maxPathBytes})
    const parser = new TarParser(extractor)
    progress?.begin(blob.label)
    let digests
    const blobFd = expected.keepBlob ? openSync(join(work, 'blob'), 'w', 0o600) : undefined
    const keep = blobFd === undefined ? undefined : (c: Buffer) => {
      let off = 0
      while (off < c.length) off += writeSync(blobFd, c, off)
    }
    try {
      digests = await streamBlob(blob, (c) => parser.write(c), {onProgress: progress ? (n, total) => progress.update(n, total) : undefined, onStored: keep})
      parser.end()
    } catch (err) {
      extractor.abort()
      throw prefixed(err, blob.label)
    } finally {
      if (blobFd !== undefined) closeSync(blobFd)
      progress?.done()
    }
    if (expected.blob && digests.blob !== expected.blob)
      throw NsxError.invalid(`${blob.label}: digest mismatch (expected ${expected.blob}, got ${digests.blob})`)
    if (expected.diffId && digests.diffId !== expected.diffId)
      throw NsxError.invalid(`${blob.label}: uncompressed digest mismatch (config says ${expected.diffId}, got ${digests.diffId})`)
    extractor.finish()
    const meta: LayerMeta = {
      diffId: digests.diffId,
      blobDigest: digests.blob,
      compression: digests.compression,
      storedBytes: digests.storedBytes,
      tarBytes: digests.tarBytes,
      stats: extractor.stats,
      overlayXattrs: opaqueXattr(store.privileged).startsWith('trusted') ? 'trusted' : 'user',
      ownershipKept: store.privileged,
      extractedAt: new Date().toISOString(),
      source: blob.label,
      blobKept: blobFd !== undefined,
    }
    store.writeJsonAtomic(join(work, 'meta.json'), meta)
    const dest = store.layerDir(meta.diffId)
    if (exists(join(dest, 'meta.json'))) return {meta: readLayerMeta(store, meta.diffId) ?? meta, root: join(dest, 'root'), reused: true}
    if (exists(dest)) store.retire(dest) // a directory without meta.json is not a layer: an interrupted delete
    try {
      renameSync(work, dest)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      // Another nsx published the same layer meanwhile: theirs is as good as ours.
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && exists(join(dest, 'meta.json')))
        return {meta: readLayerMeta(store, meta.diffId) ?? meta, root: join(dest, 'root'), reused: true}
      throw err
    }
    return {meta, root: join(dest, 'root'), reused: false}
  } finally {
    if (exists(work)) removeTree(work)
    untrack()
  }
}

/** Name the layer in errors from deep inside extraction (tar format, unsafe entries, I/O). */
function prefixed(err: unknown, label: string): unknown {
  if (err instanceof NsxError) return err.message.startsWith(label) ? err : NsxError.from(err, `${label}: ${err.message}`)
  const e = err as NodeJS.ErrnoException
  if (e.code === 'ENOSPC') return NsxError.internal(`${label}: no space left in the image store`)
  if (e.code === 'EDQUOT') return NsxError.internal(`${label}: disk quota exceeded in the image store`)
  // A failed system call while writing the layer (fs or libc): the user's problem to see, not a bug.
  if (err instanceof SyscallError || (typeof e.code === 'string' && typeof e.syscall === 'string')) return NsxError.internal(`${label}: ${e.message}`)
  return err
}

/**
 * Publish a directory that is already a layer in the store's form (a build step's directory
 * or a finished RUN's upper directory: overlayfs whiteouts and opaque xattrs), together with
 * the tar packed from it, without extracting that tar again: the directory is moved, so it
 * must be on the store's filesystem and no longer used. As docker's overlay2 driver does with
 * a container's diff directory.
 */
export function publishLayerDir(store: Store, dir: string, tar: string, packed: {diffId: string; tarBytes: number; entries: number; counts: Omit<ExtractStats, 'entries' | 'xattrsSkipped' | 'ownersFlattened'>}, label: string): StoredLayer {
  const existing = readLayerMeta(store, packed.diffId)
  if (existing) return {meta: existing, root: store.layerRoot(packed.diffId), reused: true}
  armInterruptCleanup()
  const work = mkdtempSync(join(store.tmpDir, 'layer-'))
  const untrack = removeOnInterrupt(work)
  try {
    renameSync(dir, join(work, 'root'))
    renameSync(tar, join(work, 'blob'))
    const meta: LayerMeta = {
      diffId: packed.diffId,
      blobDigest: packed.diffId,
      compression: 'none',
      storedBytes: packed.tarBytes,
      tarBytes: packed.tarBytes,
      stats: {...packed.counts, entries: packed.entries, xattrsSkipped: 0, ownersFlattened: 0},
      overlayXattrs: opaqueXattr(store.privileged).startsWith('trusted') ? 'trusted' : 'user',
      ownershipKept: store.privileged,
      extractedAt: new Date().toISOString(),
      source: label,
      blobKept: true,
    }
    store.writeJsonAtomic(join(work, 'meta.json'), meta)
    const dest = store.layerDir(meta.diffId)
    if (exists(dest)) store.retire(dest)
    try {
      renameSync(work, dest)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && exists(join(dest, 'meta.json'))) return {meta: readLayerMeta(store, meta.diffId) ?? meta, root: join(dest, 'root'), reused: true}
      throw err
    }
    return {meta, root: join(dest, 'root'), reused: false}
  } finally {
    if (exists(work)) removeTree(work)
    untrack()
  }
}
