import {createReadStream, mkdtempSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {configFor, exportLayer, LayerBlob} from '../store/export-layer.js'
import {findImage, readImage} from '../store/images.js'
import {armInterruptCleanup, removeOnInterrupt} from '../store/interrupt.js'
import {removeTree, Store} from '../store/store.js'
import {RegistryClient} from './client.js'
import {loadRegistriesConf, registrySource} from './registries-conf.js'
import {MEDIA} from './manifest.js'
import {TransferListener, TransferProgress} from './progress.js'
import type {Credentials} from './credentials.js'
import {familiarRef, parseReference} from '../image/reference.js'
import {createHash} from 'node:crypto'
import type {Readable} from 'node:stream'
import {recordImageEvent} from '../store/events.js'

/**
 * nsx push: a stored image's layers, config and an OCI manifest to a registry. A layer
 * sends the blob it was pulled as when the store kept it (so the registry sees the same
 * digests); a kept plain tar is gzipped; a layer stored without its blob (loaded from a
 * file) is packed again from its extracted tree, and when that tar differs from the
 * original the config's diff_ids are rewritten to match (a new image id in the registry).
 * Blobs the registry has are not sent.
 */

export interface PushOptions {
  /** The stored image: name[:tag] or id. */
  image: string
  /** Where to push; default the image name itself. */
  destination?: string
  tlsVerify?: boolean
  authFile?: string
  /** Credentials given by the caller (the Engine API's X-Registry-Auth), instead of the auth files. */
  credentials?: Credentials
  quiet?: boolean
  parallel?: number
  /** Each layer's progress as data (the Engine API's progress stream). */
  onProgress?: TransferListener
}

export interface PushResult {
  reference: string
  /** Digest of the manifest pushed. */
  digest: string
  /** Config digest in the registry (the image id there). */
  configDigest: string
  /** Bytes of the manifest pushed. */
  manifestSize: number
  layers: {digest: string; size: number; existed: boolean}[]
}

const layerMediaType = (c: string) => (c === 'gzip' ? MEDIA.ociLayerGzip : c === 'zstd' ? MEDIA.ociLayerZstd : MEDIA.ociLayer)

export async function pushImage(store: Store, opts: PushOptions): Promise<PushResult> {
  const {id} = findImage(store, opts.image)
  const rec = readImage(store, id)
  if (!rec) throw NsxError.internal(`image ${opts.image} vanished from the store`)
  const ref = parseReference(opts.destination ?? opts.image)
  if (ref.digest) throw NsxError.invalid(`push ${opts.destination ?? opts.image}: cannot push to a digest; give a tag`)
  const what = `push ${familiarRef(ref)}`
  armInterruptCleanup()
  const tmp = mkdtempSync(join(store.tmpDir, 'push-'))
  const untrack = removeOnInterrupt(tmp)
  // registries.conf: the registry's location (a rewrite) and TLS setting; never a mirror, as podman pushes.
  const target = registrySource(loadRegistriesConf(), ref)
  const client = new RegistryClient(target.registry, {tlsVerify: target.insecure ? false : opts.tlsVerify, authFile: opts.authFile, credentials: opts.credentials})
  const repo = target.repository
  const progress = new TransferProgress('push', process.stderr, undefined, opts.quiet, opts.onProgress)
  const scope = `repository:${repo}:pull,push`
  try {
    const blobs: LayerBlob[] = []
    for (let i = 0; i < rec.layers.length; i++) blobs.push(await exportLayer(store, rec.layers[i], tmp, 'compressed', i))
    const configBytes = configFor(readFileSync(join(store.imageDir(id), 'config.json')), rec.layers, blobs)
    const configDigest = `sha256:${createHash('sha256').update(configBytes).digest('hex')}`
    const rows = blobs.map((b) => progress.add(b.digest, b.size))
    const existed: boolean[] = []

    const upload = async (digest: string, size: number, body: () => Buffer | Readable, label: string): Promise<boolean> => {
      const head = await client.request('HEAD', `/v2/${repo}/blobs/${digest}`, {scope, accept: [404], what: label})
      head.resume()
      if (head.statusCode === 200) return true
      const start = await client.request('POST', `/v2/${repo}/blobs/uploads/`, {scope, what: label, headers: {'Content-Length': '0'}})
      start.resume()
      const loc = start.headers.location
      if (!loc) throw NsxError.internal(`${label}: the registry gave no upload location`)
      const url = new URL(loc, `http://placeholder`)
      url.searchParams.set('digest', digest)
      const target = loc.startsWith('http') ? url.toString() : `${url.pathname}${url.search}`
      const put = await client.request('PUT', target, {
        scope,
        what: label,
        headers: {'Content-Type': 'application/octet-stream', 'Content-Length': String(size)},
        body,
      })
      put.resume()
      return false
    }

    let next = 0
    let failed: unknown
    const worker = async () => {
      while (!failed && next < blobs.length) {
        const i = next++
        const b = blobs[i]
        try {
          // A layer twice in one image: the second HEAD finds the first upload.
          existed[i] = await upload(b.digest, b.size, () => {
            const s = createReadStream(b.file, {highWaterMark: 1 << 20})
            let n = 0
            s.on('data', (c) => progress.progress(rows[i], (n += c.length)))
            return s
          }, `${what}: layer ${b.digest.slice(0, 19)}`)
          progress.finish(rows[i], existed[i] ? 'exists' : 'done')
        } catch (err) {
          progress.finish(rows[i], 'failed')
          failed ??= err
        }
      }
    }
    await Promise.all(Array.from({length: Math.min(opts.parallel ?? 4, blobs.length)}, worker))
    if (failed) throw failed
    await upload(configDigest, configBytes.length, () => configBytes, `${what}: config`)

    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.ociManifest,
        config: {mediaType: MEDIA.ociConfig, digest: configDigest, size: configBytes.length},
        layers: blobs.map((b) => ({mediaType: layerMediaType(b.compression), digest: b.digest, size: b.size})),
      }),
    )
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`
    const res = await client.request('PUT', `/v2/${repo}/manifests/${ref.tag}`, {
      scope,
      what: `${what}: manifest`,
      headers: {'Content-Type': MEDIA.ociManifest, 'Content-Length': String(manifest.length)},
      body: () => manifest,
    })
    res.resume()
    const repoDigest = `${ref.registry}/${ref.repository}@${digest}`
    if (!(rec.repoDigests ?? []).includes(repoDigest) && configDigest === id) {
      rec.repoDigests = [...(rec.repoDigests ?? []), repoDigest]
      store.writeJsonAtomic(join(store.imageDir(id), 'image.json'), rec)
    }
    recordImageEvent(store, 'push', familiarRef(ref), {imageId: id})
    return {reference: familiarRef(ref), digest, configDigest, manifestSize: manifest.length, layers: blobs.map((b, i) => ({digest: b.digest, size: b.size, existed: !!existed[i]}))}
  } finally {
    progress.end()
    client.close()
    removeTree(tmp)
    untrack()
  }
}
