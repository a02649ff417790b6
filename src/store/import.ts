import {createHash} from 'node:crypto'
import {closeSync, createReadStream, createWriteStream, mkdirSync, mkdtempSync, openSync, readSync, realpathSync, statSync, writeSync} from 'node:fs'
import {basename, join} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {NsxError} from '../cli/errors.js'
import type {ImageDefaults} from '../image/config.js'
import {sniffCompression, streamBlob} from '../image/blob.js'
import {isDockerArchive, readDockerArchive} from '../image/docker-archive.js'
import {isOciLayout, readOciLayout} from '../image/oci-layout.js'
import {Progress} from '../image/progress.js'
import {ImageSource, parseImageRef} from '../image/source.js'
import {indexTar, TarMember} from '../image/tar-index.js'
import {findImage, ImageRecord, namesOf, readImage, readRepositories, updateRepositories, writeImage} from './images.js'
import {readLayerMeta, storeLayer} from './layers.js'
import {armInterruptCleanup, removeOnInterrupt} from './interrupt.js'
import {exists, removeTree, Store} from './store.js'
import {recordImageEvent} from './events.js'

/**
 * The import path of `nsx load` and, later, `nsx run --image/--layer`: image files and
 * layer files into the store, and stored images back out as an ordered list of overlay
 * lower directories plus the config defaults.
 */

export interface LoadedLayer {
  diffId: string
  /** true when the store had it already and nothing was extracted. */
  reused: boolean
  size: number
}

export interface LoadResult {
  id: string
  names: string[]
  /** Names that pointed to another image before and now point to this one. */
  retagged: string[]
  format: ImageSource['format']
  layers: LoadedLayer[]
}

/**
 * Open PATH[:TAG] as an OCI layout or docker archive. A gzip- or zstd-compressed docker
 * archive (docker save | gzip) is first decompressed into the store's tmp/, since its
 * layers are read in place by offset; call cleanup() when done with the source.
 */
export async function openImage(store: Store, arg: string): Promise<{src: ImageSource; cleanup(): void}> {
  const ref = parseImageRef(arg)
  const st = statSync(ref.path)
  const none = () => {}
  if (st.isDirectory()) {
    if (!isOciLayout(ref.path)) throw NsxError.invalid(`${ref.path}: a directory but not an OCI image layout (no oci-layout file)`)
    return {src: readOciLayout(ref.path, ref.tag), cleanup: none}
  }
  if (!st.isFile()) throw NsxError.invalid(`${ref.path}: not a file or directory`)
  const compression = sniffCompression(readHead(ref.path))
  if (compression === 'none') {
    const oci = ociArchiveMembers(ref.path)
    if (oci) return openOciArchive(store, ref.path, oci, ref.tag)
    if (!isDockerArchive(ref.path)) throw NsxError.invalid(`${ref.path}: neither an OCI image layout nor a docker archive; a root filesystem tar (mmdebstrap, docker export) becomes an image with nsx import ${ref.path} [NAME[:TAG]], a single layer is stored with --layer`)
    return {src: readDockerArchive(ref.path, ref.tag), cleanup: none}
  }
  armInterruptCleanup()
  const tmp = mkdtempSync(join(store.tmpDir, 'archive-'))
  const untrack = removeOnInterrupt(tmp)
  const cleanup = () => {
    removeTree(tmp)
    untrack()
  }
  try {
    const plain = join(tmp, 'archive.tar')
    const fd = openSync(plain, 'w', 0o600)
    try {
      await streamBlob({file: ref.path, label: ref.path}, (c) => {
        let off = 0
        while (off < c.length) off += writeSync(fd, c, off)
      })
    } finally {
      closeSync(fd)
    }
    const oci = ociArchiveMembers(plain)
    if (oci) {
      const opened = await openOciArchive(store, plain, oci, ref.tag, ref.path)
      return {src: opened.src, cleanup: () => (opened.cleanup(), cleanup())}
    }
    if (!isDockerArchive(plain)) throw NsxError.invalid(`${ref.path}: a ${compression}-compressed file that is not a docker archive; a root filesystem tar becomes an image with nsx import ${ref.path} [NAME[:TAG]], a single layer is stored with --layer`)
    return {src: readDockerArchive(plain, ref.tag, ref.path), cleanup}
  } catch (err) {
    cleanup()
    throw err
  }
}

/**
 * The members of an oci-archive (an OCI image layout in a tar: what nsx save --format
 * oci-archive, podman save and skopeo's oci-archive: write), or undefined when FILE is not
 * one. A tar that also has docker's manifest.json is read as a docker archive.
 */
function ociArchiveMembers(file: string): Map<string, TarMember> | undefined {
  if (!isDockerArchive(file)) return undefined
  let members: Map<string, TarMember>
  try {
    members = indexTar(file)
  } catch {
    return undefined
  }
  return members.has('oci-layout') && members.has('index.json') && !members.has('manifest.json') ? members : undefined
}

/** Copy the layout's files (oci-layout, index.json, blobs/sha256/HEX; nothing else) into the store's tmp/ and read it there. */
async function openOciArchive(store: Store, file: string, members: Map<string, TarMember>, tag: string | undefined, display = file): Promise<{src: ImageSource; cleanup(): void}> {
  armInterruptCleanup()
  const dir = mkdtempSync(join(store.tmpDir, 'oci-archive-'))
  const untrack = removeOnInterrupt(dir)
  const cleanup = () => {
    removeTree(dir)
    untrack()
  }
  try {
    mkdirSync(join(dir, 'blobs', 'sha256'), {recursive: true})
    for (const [name, m] of members) {
      if ((m.type !== '0' && m.type !== '7') || !(name === 'oci-layout' || name === 'index.json' || /^blobs\/sha256\/[0-9a-f]{64}$/.test(name))) continue
      const out = createWriteStream(join(dir, name), {flags: 'wx', mode: 0o600})
      await (m.size === 0 ? new Promise<void>((resolve, reject) => out.end(() => resolve()).once('error', reject)) : pipeline(createReadStream(file, {start: m.start, end: m.start + m.size - 1}), out))
    }
    const src = readOciLayout(dir, tag, tag ? `${display}:${tag}` : display)
    // A bare tag in the index is named after the layout directory, here the archive's file name.
    const prefix = `${basename(dir)}:`
    src.names = src.names.map((n) => (n.startsWith(prefix) ? `${basename(display).replace(/\.tar$/, '')}:${n.slice(prefix.length)}` : n))
    return {src, cleanup}
  } catch (err) {
    cleanup()
    // Messages name the archive, not the copy in tmp/.
    throw err instanceof NsxError ? new NsxError(err.message.split(dir).join(display), err.exitCode, err.kind) : err
  }
}

function readHead(file: string): Buffer {
  const fd = openSync(file, 'r')
  try {
    const b = Buffer.alloc(4)
    return b.subarray(0, readSync(fd, b, 0, 4, 0))
  } finally {
    closeSync(fd)
  }
}

/** A file the user named cannot be read (EACCES, EISDIR, ...): their problem to see, in one line, not a bug. */
function userFsError(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException
  if (!(err instanceof NsxError) && typeof e?.code === 'string' && typeof e.syscall === 'string') return new NsxError(e.message, 1, e.code === 'ENOENT' ? 'not-found' : 'invalid')
  return err
}

/** Store an image and its layers; the caller holds the store lock (shared). */
export async function loadImage(store: Store, arg: string): Promise<LoadResult> {
  const {src, cleanup} = await openImage(store, arg).catch((err) => {
    throw userFsError(err)
  })
  // Names are printed by nsx load and nsx images: an escape sequence in a tag must not reach a terminal.
  for (const n of src.names) {
    if (/[\s\x00-\x1f\x7f-\x9f]/.test(n) || n === '') {
      cleanup()
      throw NsxError.invalid(`${src.label}: refusing image name ${JSON.stringify(n)}: names have no spaces or control characters`)
    }
  }
  const progress = Progress.forTerminal()
  const layers: LoadedLayer[] = []
  try {
    for (const l of src.layers) {
      // The blob is kept as loaded, so push and save send these very bytes: the image id stays the same.
      const stored = await storeLayer(store, l.blob, {blob: l.digest, diffId: l.diffId, keepBlob: true}, progress)
      layers.push({diffId: stored.meta.diffId, reused: stored.reused, size: stored.meta.stats.bytes})
    }
  } finally {
    cleanup()
  }
  const record: ImageRecord = {
    id: src.id,
    layers: src.config.diffIds,
    architecture: src.config.architecture,
    os: src.config.os,
    created: src.config.created,
    defaults: src.config.defaults,
    format: src.format,
    source: src.label,
    loadedAt: new Date().toISOString(),
  }
  writeImage(store, record, src.configBytes)
  const retagged = updateRepositories(store, (repos) => {
    const moved: string[] = []
    for (const n of src.names) {
      if (repos[n] !== undefined && repos[n] !== src.id) moved.push(n)
      repos[n] = src.id
    }
    return moved
  })
  for (const n of src.names.length > 0 ? src.names : [src.id]) recordImageEvent(store, 'load', n, {imageId: src.id})
  return {id: src.id, names: src.names, retagged, format: src.format, layers}
}

/** A --layer argument, resolved: a directory used in place, or a stored layer. */
export type ResolvedLayer = {kind: 'dir'; path: string} | {kind: 'stored'; diffId: string; path: string; reused: boolean}

/**
 * A --layer PATH: a directory is used as it is (an overlay lower directory needs no copy);
 * a tar, tar.gz or tar.zst is extracted into the store once. A small cache, keyed by the
 * file's identity (device, inode, size, mtime and ctime, which no one can set back), lets a
 * second run skip reading it again.
 */
export async function importLayer(store: Store, path: string): Promise<ResolvedLayer> {
  let st
  try {
    st = statSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      // Not a path: a stored layer by its digest or a unique prefix (what nsx load --layer printed).
      const {findStoredLayer} = await import('./kept-layers.js')
      const diffId = findStoredLayer(store, path)
      if (diffId) return {kind: 'stored', diffId, path: store.layerRoot(diffId), reused: true}
      throw NsxError.notFound(`no such layer: ${path} (neither a file or directory nor a stored layer's digest)`)
    }
    throw userFsError(err)
  }
  if (st.isDirectory()) return {kind: 'dir', path: realpathSync(path)}
  if (!st.isFile()) throw NsxError.invalid(`${path}: a layer must be a directory or a tar, tar.gz or tar.zst file`)
  const real = realpathSync(path)
  const key = createHash('sha256').update(`${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${real}`).digest('hex')
  const cacheFile = join(store.root, 'sources', `${key}.json`)
  const cached = store.readJson<{diffId: string}>(cacheFile)
  if (cached && readLayerMeta(store, cached.diffId)) return {kind: 'stored', diffId: cached.diffId, path: store.layerRoot(cached.diffId), reused: true}
  const progress = Progress.forTerminal()
  const stored = await storeLayer(store, {file: real, label: path}, {}, progress)
  mkdirSync(join(store.root, 'sources'), {recursive: true, mode: 0o700})
  store.writeJsonAtomic(cacheFile, {diffId: stored.meta.diffId, path: real})
  return {kind: 'stored', diffId: stored.meta.diffId, path: stored.root, reused: stored.reused}
}

/** What the runtime needs to build a container's root: lower directories lowest first, and the image defaults. */
export interface RootfsPlan {
  lowerDirs: string[]
  /** Stored layers used (to pin while the container runs). */
  layers: string[]
  image?: {id: string; names: string[]; defaults: ImageDefaults}
}

/**
 * --image (a PATH[:TAG] to load, or the name or id of a stored image) and --layer
 * arguments (stacked on top, in order) to a rootfs plan. Call with the store lock held.
 */
/**
 * `resolveImage` finds a stored image by name or id; the container verbs pass the registry's
 * ensureImage, which pulls a missing one (the store stands below the registry and cannot call it).
 */
export async function prepareRootfs(
  store: Store,
  opts: {image?: string; layers: string[]; resolveImage?: (store: Store, ref: string) => Promise<{id: string}> | {id: string}},
): Promise<RootfsPlan> {
  const plan: RootfsPlan = {lowerDirs: [], layers: []}
  if (opts.image !== undefined) {
    let id: string
    if (looksLikePath(opts.image)) id = (await loadImage(store, opts.image)).id
    else id = (await (opts.resolveImage ?? findImage)(store, opts.image)).id
    const rec = readImage(store, id)
    if (!rec) throw NsxError.internal(`image ${id} vanished from the store`)
    for (const d of rec.layers) {
      if (!readLayerMeta(store, d)) throw NsxError.internal(`image ${opts.image}: layer ${d} is missing from the store (load the image again)`)
      plan.lowerDirs.push(store.layerRoot(d))
      plan.layers.push(d)
    }
    plan.image = {id, names: namesOf(readRepositories(store), id), defaults: rec.defaults}
  }
  for (const l of opts.layers) {
    const r = await importLayer(store, l)
    plan.lowerDirs.push(r.path)
    if (r.kind === 'stored') plan.layers.push(r.diffId)
  }
  // overlayfs refuses a directory twice among its lower layers (ELOOP), and images repeat
  // layers (two empty ones, say). A layer repeated higher up shadows every path, whiteout and
  // opaque directory of its lower copy, so only the topmost copy of each is kept.
  plan.lowerDirs = plan.lowerDirs.filter((d, i) => plan.lowerDirs.indexOf(d, i + 1) < 0)
  plan.layers = plan.layers.filter((l, i) => plan.layers.indexOf(l, i + 1) < 0)
  return plan
}

/** An existing path, or PATH:TAG of one, is a file to load; anything else names a stored image. */
function looksLikePath(arg: string): boolean {
  if (exists(arg)) return true
  const i = arg.lastIndexOf(':')
  return i > 0 && exists(arg.slice(0, i))
}
