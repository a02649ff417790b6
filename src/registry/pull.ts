import type {IncomingMessage} from 'node:http'
import {NsxError} from '../cli/errors.js'
import {MAX_METADATA_BYTES, verifyBytes} from '../image/blob.js'
import {parseImageConfig} from '../image/config.js'
import {ImageRecord, readImage, updateRepositories, writeImage} from '../store/images.js'
import {readLayerMeta, storeLayer} from '../store/layers.js'
import {Store} from '../store/store.js'
import {readBody, RegistryClient} from './client.js'
import {fromSources} from './sources.js'
import {listTags} from './tags.js'
import type {Credentials} from './credentials.js'
import {choosePlatform, Descriptor, hostPlatform, MANIFEST_ACCEPT, parseManifest, parsePlatform, platformString} from './manifest.js'
import {TransferListener, TransferProgress} from './progress.js'
import {canonical, familiarName, familiarRef, parseReference, Reference} from '../image/reference.js'
import {recordImageEvent} from '../store/events.js'

/**
 * nsx pull: a reference's manifest (through an index to this machine's platform, or
 * --platform's), its config, and its layers, fetched in parallel and extracted into the
 * store as they arrive, each checked against its digest before it is published. Layers the
 * store has are not fetched. The image is recorded only when every layer is stored.
 */

export interface PullOptions {
  reference: string
  /** OS/ARCH[/VARIANT]; default this machine's. */
  platform?: string
  tlsVerify?: boolean
  authFile?: string
  /** Credentials given by the caller (the Engine API's X-Registry-Auth), instead of the auth files. */
  credentials?: Credentials
  /** No progress output. */
  quiet?: boolean
  /** Layers fetched at once. */
  parallel?: number
  /** Written to stderr once the manifest is found (before any layer). */
  announce?: string
  /** Each layer's progress as data (the Engine API's progress stream). */
  onProgress?: TransferListener
  /** Aborted (a client gone): the transfers stop, no image is recorded; layers already complete stay stored. */
  signal?: AbortSignal
}

export interface PullResult {
  id: string
  /** The name recorded in the store (docker's short form). */
  name?: string
  reference: string
  /** Digest of the image manifest pulled. */
  digest: string
  platform: string
  layers: {digest: string; diffId: string; size: number; reused: boolean}[]
}

const REPO_SCOPE = (ref: Reference, actions: string) => `repository:${ref.repository}:${actions}`

export async function fetchManifest(client: RegistryClient, ref: Reference, refOrDigest: string, what: string): Promise<{bytes: Buffer; digest: string; contentType?: string}> {
  const res = await client.request('GET', `/v2/${ref.repository}/manifests/${refOrDigest}`, {headers: {Accept: MANIFEST_ACCEPT}, scope: REPO_SCOPE(ref, 'pull'), what})
  const bytes = await readBody(res, MAX_METADATA_BYTES, `${what}: manifest`)
  const expected = refOrDigest.startsWith('sha256:') ? refOrDigest : undefined
  const digest = verifyBytes(bytes, expected, `${what}: manifest`)
  return {bytes, digest, contentType: res.headers['content-type']}
}

/** The bytes of a response, failing as soon as it is longer than its descriptor says. */
async function* bounded(res: IncomingMessage, size: number, label: string, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  let n = 0
  for await (const c of res as AsyncIterable<Buffer>) {
    n += c.length
    if (n > size) throw NsxError.internal(`${label}: the registry sent more than the ${size} bytes its descriptor says`)
    onBytes(n)
    yield c
  }
  if (n !== size) throw NsxError.internal(`${label}: the download ended after ${n} of ${size} bytes`)
}

export async function pullImage(store: Store, opts: PullOptions): Promise<PullResult> {
  const ref = parseReference(opts.reference)
  const what = `pull ${familiarRef(ref)}`
  const want = opts.platform ? parsePlatform(opts.platform) : hostPlatform()
  let announced = false
  // Each mirror of registries.conf in turn, then the registry itself; the image keeps its own name.
  return fromSources(ref, opts, async (client, at) => {
    const progress = new TransferProgress('pull', process.stderr, undefined, opts.quiet, opts.onProgress)
    try {
      let m = await fetchManifest(client, at, at.digest ?? at.tag!, what)
      let parsed = parseManifest(m.bytes, m.contentType, what)
      if (parsed.kind === 'index') {
        const chosen = choosePlatform(parsed.manifests, want, opts.platform !== undefined, what)
        m = await fetchManifest(client, at, chosen.digest, what)
        parsed = parseManifest(m.bytes, m.contentType, what)
        if (parsed.kind !== 'image') throw NsxError.invalid(`${what}: an index inside an index is not supported`)
      }
      const manifest = parsed.manifest
      if (opts.announce && !announced) process.stderr.write(opts.announce)
      announced = true
      // The config: small, read whole and checked.
      const cfgRes = await client.request('GET', `/v2/${at.repository}/blobs/${manifest.config.digest}`, {scope: REPO_SCOPE(at, 'pull'), what: `${what}: config`})
      const configBytes = await readBody(cfgRes, MAX_METADATA_BYTES, `${what}: config`)
      const id = verifyBytes(configBytes, manifest.config.digest, `${what}: config`)
      const config = parseImageConfig(configBytes, what)
      if (config.diffIds.length !== manifest.layers.length)
        throw NsxError.internal(`${what}: the manifest lists ${manifest.layers.length} layers but the config has ${config.diffIds.length} diff_ids`)
      // A single-platform image is taken as it is, with a warning, as podman does.
      if (config.architecture && config.architecture !== want.architecture)
        process.stderr.write(`nsx: warning: ${familiarRef(ref)} is for ${config.os}/${config.architecture}, not ${platformString(want)}\n`)

      const layers = await fetchLayers(store, client, at, manifest.layers, config.diffIds, progress, opts.parallel ?? 6, what, opts.signal)
      if (opts.signal?.aborted) throw NsxError.internal(`${what}: cancelled`)
      const record: ImageRecord = {
        id,
        layers: config.diffIds,
        architecture: config.architecture,
        os: config.os,
        created: config.created,
        defaults: config.defaults,
        format: 'registry',
        source: canonical(ref),
        loadedAt: new Date().toISOString(),
        repoDigests: [`${ref.registry}/${ref.repository}@${m.digest}`],
      }
      if (!readImage(store, id)) writeImage(store, record, configBytes)
      const name = ref.tag !== undefined ? familiarRef({...ref, digest: undefined}) : undefined
      if (name) updateRepositories(store, (repos) => void (repos[name] = id))
      recordImageEvent(store, 'pull', name ?? canonical(ref), {imageId: id})
      return {id, name, reference: canonical(ref), digest: m.digest, platform: `${config.os}/${config.architecture}`, layers}
    } finally {
      progress.end()
    }
  })
}

/**
 * Every tag of a repository (docker pull --all-tags; the Engine API's pull without a tag), one
 * pull each, in the registry's order. REFERENCE must name no tag or digest.
 */
export async function pullAllTags(store: Store, opts: PullOptions & {onTag?: (tag: string) => void}): Promise<PullResult[]> {
  const ref = parseReference(opts.reference)
  if (ref.digest !== undefined || /:[^/]*$/.test(opts.reference)) throw NsxError.invalid(`tag can't be used with --all-tags/-a`)
  const tags = await listTags(ref, opts)
  if (tags.length === 0) throw NsxError.notFound(`repository ${familiarName(ref)} has no tags`)
  const out: PullResult[] = []
  for (const tag of tags) {
    opts.onTag?.(tag)
    out.push(await pullImage(store, {...opts, reference: `${canonical({...ref, tag, digest: undefined})}`}))
  }
  return out
}

async function fetchLayers(
  store: Store,
  client: RegistryClient,
  ref: Reference,
  descs: Descriptor[],
  diffIds: string[],
  progress: TransferProgress,
  parallel: number,
  what: string,
  signal?: AbortSignal,
): Promise<PullResult['layers']> {
  const results: PullResult['layers'] = descs.map((d, i) => ({digest: d.digest, diffId: diffIds[i], size: d.size, reused: false}))
  const rows = descs.map((d) => progress.add(d.digest, d.size))
  const inflight = new Set<IncomingMessage>()
  let failed: unknown
  const seen = new Map<string, Promise<void>>()
  let next = 0
  const abort = () => {
    if (failed) return
    failed = NsxError.internal(`${what}: cancelled`)
    for (const r of inflight) r.destroy(NsxError.internal('cancelled'))
  }
  if (signal?.aborted) abort()
  signal?.addEventListener('abort', abort)
  const one = async (i: number) => {
    const d = descs[i]
    const diffId = diffIds[i]
    if (readLayerMeta(store, diffId)) {
      results[i].reused = true
      progress.finish(rows[i], 'exists')
      return
    }
    const label = `${what}: layer ${d.digest.slice(0, 19)}`
    const res = await client.request('GET', `/v2/${ref.repository}/blobs/${d.digest}`, {scope: `repository:${ref.repository}:pull`, what: label})
    if (failed) {
      res.destroy()
      return
    }
    inflight.add(res)
    try {
      const stored = await storeLayer(store, {stream: bounded(res, d.size, label, (n) => progress.progress(rows[i], n)), size: d.size, label}, {blob: d.digest, diffId, keepBlob: true})
      results[i].reused = stored.reused
      progress.finish(rows[i], stored.reused ? 'exists' : 'done')
    } finally {
      inflight.delete(res)
    }
  }
  const worker = async () => {
    while (!failed && next < descs.length) {
      const i = next++
      // The same layer twice in one image is fetched once.
      const prior = seen.get(diffIds[i])
      if (prior) {
        await prior
        results[i].reused = true
        progress.finish(rows[i], 'exists')
        continue
      }
      const p = one(i)
      seen.set(diffIds[i], p.catch(() => {}))
      try {
        await p
      } catch (err) {
        progress.finish(rows[i], 'failed')
        if (!failed) {
          failed = err
          for (const r of inflight) r.destroy(NsxError.internal('cancelled'))
        }
      }
    }
  }
  try {
    await Promise.all(Array.from({length: Math.min(parallel, descs.length)}, worker))
  } finally {
    signal?.removeEventListener('abort', abort)
  }
  if (failed) throw failed
  return results
}
