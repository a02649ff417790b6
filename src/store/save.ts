import {createHash} from 'node:crypto'
import {closeSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {ArchiveWriter} from '../image/layer-tar.js'
import {familiarRef, parseReference} from '../image/reference.js'
import {configFor, exportLayer, LayerBlob} from './export-layer.js'
import {findImage, namesOf, readImage, readRepositories} from './images.js'
import {armInterruptCleanup, removeOnInterrupt} from './interrupt.js'
import {hexOf, removeTree, Store} from './store.js'
import {recordImageEvent} from './events.js'

/**
 * nsx save: stored images into one archive file, as docker save (docker-archive: manifest.json,
 * <config>.json, <layer>/layer.tar uncompressed, repositories) or podman save --format
 * oci-archive (an OCI image layout in a tar, gzip layers, one index entry per name). Written to
 * a temporary file beside OUTPUT and renamed: an interrupted save leaves no half archive.
 */

export interface SaveOptions {
  images: string[]
  output: string
  format?: 'docker-archive' | 'oci-archive'
  /** An image given by id is saved without names (docker save's rule; nsx save gives all its names). */
  idsUntagged?: boolean
}

export interface SaveResult {
  output: string
  format: 'docker-archive' | 'oci-archive'
  images: {id: string; names: string[]}[]
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`

export async function saveImages(store: Store, opts: SaveOptions): Promise<SaveResult> {
  const format = opts.format ?? 'docker-archive'
  if (opts.images.length === 0) throw NsxError.invalid('no image given: name one or more stored images')
  const repos = readRepositories(store)
  const targets = opts.images.map((ref) => {
    const {id, byName} = findImage(store, ref)
    // A name given is the name saved; an id saves the image with all its names.
    const names = byName ? [byName] : opts.idsUntagged ? [] : namesOf(repos, id)
    return {id, names, rec: readImage(store, id)!}
  })
  armInterruptCleanup()
  const scratch = mkdtempSync(join(store.tmpDir, 'save-'))
  const untrack = removeOnInterrupt(scratch)
  const out = resolve(opts.output)
  const partial = join(dirname(out), `.${process.pid}.nsx-save.partial`)
  let fd: number
  try {
    fd = openSync(partial, 'w', 0o644)
  } catch (err) {
    removeTree(scratch)
    untrack()
    throw NsxError.internal(`cannot write ${opts.output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  try {
    const w = new ArchiveWriter(fd)
    const written = new Set<string>()
    let n = 0
    if (format === 'docker-archive') {
      const manifest: {Config: string; RepoTags: string[]; Layers: string[]}[] = []
      const legacy: Record<string, Record<string, string>> = {}
      for (const t of targets) {
        const blobs: LayerBlob[] = []
        for (const l of t.rec.layers) blobs.push(await exportLayer(store, l, scratch, 'tar', n++))
        const config = configFor(readFileSync(join(store.imageDir(t.id), 'config.json')), t.rec.layers, blobs)
        const configName = `${hexOf(sha(config))}.json`
        if (!written.has(configName)) w.buffer(configName, config)
        written.add(configName)
        const layers: string[] = []
        for (const b of blobs) {
          const name = `${hexOf(b.diffId)}/layer.tar`
          if (!written.has(name)) {
            w.dir(hexOf(b.diffId))
            w.file(name, b.file)
            written.add(name)
          }
          layers.push(name)
        }
        const tags = t.names.map((x) => familiarRef(parseReference(x)))
        manifest.push({Config: configName, RepoTags: tags, Layers: layers})
        for (const tag of tags) {
          const i = tag.lastIndexOf(':')
          ;(legacy[tag.slice(0, i)] ??= {})[tag.slice(i + 1)] = hexOf(blobs[blobs.length - 1]?.diffId ?? sha(config))
        }
      }
      w.buffer('manifest.json', Buffer.from(JSON.stringify(manifest)))
      w.buffer('repositories', Buffer.from(JSON.stringify(legacy)))
    } else {
      const index: {schemaVersion: 2; mediaType: string; manifests: unknown[]} = {schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: []}
      w.buffer('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'))
      w.dir('blobs')
      w.dir('blobs/sha256')
      const put = (data: Buffer | {file: string; digest: string}) => {
        const digest = Buffer.isBuffer(data) ? sha(data) : data.digest
        const name = `blobs/sha256/${hexOf(digest)}`
        if (!written.has(name)) {
          if (Buffer.isBuffer(data)) w.buffer(name, data)
          else w.file(name, data.file)
          written.add(name)
        }
      }
      for (const t of targets) {
        const blobs: LayerBlob[] = []
        for (const l of t.rec.layers) blobs.push(await exportLayer(store, l, scratch, 'compressed', n++))
        const config = configFor(readFileSync(join(store.imageDir(t.id), 'config.json')), t.rec.layers, blobs)
        put(config)
        for (const b of blobs) put(b)
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            config: {mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length},
            layers: blobs.map((b) => ({mediaType: `application/vnd.oci.image.layer.v1.tar${b.compression === 'none' ? '' : `+${b.compression}`}`, digest: b.digest, size: b.size})),
          }),
        )
        put(manifest)
        const desc = {mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length}
        if (t.names.length === 0) index.manifests.push(desc)
        for (const name of t.names) {
          const full = familiarRef(parseReference(name))
          index.manifests.push({...desc, annotations: {'org.opencontainers.image.ref.name': full, 'io.containerd.image.name': full}})
        }
      }
      w.buffer('index.json', Buffer.from(JSON.stringify(index)))
    }
    w.end()
    closeSync(fd)
    fd = -1
    renameSync(partial, out)
    for (const t of targets) recordImageEvent(store, 'save', t.id, {imageId: t.id})
    return {output: out, format, images: targets.map((t) => ({id: t.id, names: t.names}))}
  } catch (err) {
    if (fd >= 0) closeSync(fd)
    rmSync(partial, {force: true})
    const e = err as NodeJS.ErrnoException
    if (e.code === 'ENOSPC') throw NsxError.internal(`cannot write ${opts.output}: no space left on device`)
    throw err
  } finally {
    removeTree(scratch)
    untrack()
  }
}
