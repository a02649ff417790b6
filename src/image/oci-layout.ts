import {readFileSync, statSync} from 'node:fs'
import {basename, join, resolve} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {checkDigestSyntax, checkMetadataSize, verifyBytes} from './blob.js'
import {parseImageConfig} from './config.js'
import {goArch, ImageSource, LayerSource} from './source.js'

/**
 * OCI image layout (image-spec image-layout.md): oci-layout, index.json, blobs/sha256/<hex>.
 * Tags are the org.opencontainers.image.ref.name annotations of index.json's manifests
 * (umoci and skopeo both write them). Every blob read is checked against its descriptor.
 */

const REF_NAME = 'org.opencontainers.image.ref.name'
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'])

interface Descriptor {
  mediaType?: string
  digest: string
  size: number
  annotations?: Record<string, string>
  platform?: {architecture?: string; os?: string; variant?: string}
}

export function isOciLayout(dir: string): boolean {
  try {
    return statSync(join(dir, 'oci-layout')).isFile()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return false
    throw NsxError.internal(`${dir}: ${(err as Error).message}`)
  }
}

function readJsonFile(path: string, label: string): unknown {
  let text: string
  try {
    checkMetadataSize(statSync(path).size, `${label}: ${basename(path)}`)
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if (err instanceof NsxError) throw err
    throw NsxError.internal(`${label}: cannot read ${basename(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw NsxError.invalid(`${label}: ${basename(path)} is not valid JSON`)
  }
}

function descriptors(v: unknown, what: string, label: string): Descriptor[] {
  if (!Array.isArray(v)) throw NsxError.invalid(`${label}: ${what} has no list of descriptors`)
  for (const d of v as Descriptor[]) {
    if (typeof d !== 'object' || d === null || typeof d.digest !== 'string' || typeof d.size !== 'number') throw NsxError.invalid(`${label}: malformed descriptor in ${what}`)
    checkDigestSyntax(d.digest, `${label}: ${what}`)
  }
  return v as Descriptor[]
}

/** "is missing" for ENOENT; otherwise what the system said (EACCES on a root-only blob, ...). */
function missingOr(err: unknown, what: string): NsxError {
  if (err instanceof NsxError) return err
  const e = err as NodeJS.ErrnoException
  if (e.code === 'ENOENT') return NsxError.invalid(`${what} is missing`)
  return NsxError.internal(`${what}: ${e.code ?? e.message}`)
}

function blobPath(dir: string, digest: string): string {
  return join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length))
}

/** A small blob (manifest, index, config), read whole and checked. */
function readBlob(dir: string, d: Descriptor, what: string, label: string): Buffer {
  checkMetadataSize(d.size, `${label}: ${what} blob ${d.digest}`)
  let data: Buffer
  try {
    const path = blobPath(dir, d.digest)
    checkMetadataSize(statSync(path).size, `${label}: ${what} blob ${d.digest}`)
    data = readFileSync(path)
  } catch (err) {
    throw missingOr(err, `${label}: ${what} blob ${d.digest}`)
  }
  if (data.length !== d.size) throw NsxError.invalid(`${label}: ${what} blob ${d.digest} has ${data.length} bytes, descriptor says ${d.size}`)
  verifyBytes(data, d.digest, `${label}: ${what} blob`)
  return data
}

/** The tags (ref names) of a layout's index, for "unknown tag" messages and listing. */
export function ociTags(dir: string): string[] {
  const index = readJsonFile(join(dir, 'index.json'), dir) as {manifests?: unknown}
  return descriptors(index.manifests, 'index.json', dir)
    .map((d) => d.annotations?.[REF_NAME])
    .filter((t): t is string => typeof t === 'string')
}

export function readOciLayout(dir: string, tag: string | undefined, label = tag ? `${dir}:${tag}` : dir): ImageSource {
  const layout = (readJsonFile(join(dir, 'oci-layout'), label) ?? {}) as {imageLayoutVersion?: unknown}
  if (typeof layout?.imageLayoutVersion !== 'string') throw NsxError.invalid(`${label}: oci-layout has no imageLayoutVersion`)
  const index = (readJsonFile(join(dir, 'index.json'), label) ?? {}) as {manifests?: unknown}
  const all = descriptors(index.manifests, 'index.json', label)
  if (all.length === 0) throw NsxError.invalid(`${label}: the layout holds no image`)
  const tags = all.map((d) => d.annotations?.[REF_NAME]).filter((t): t is string => typeof t === 'string')
  const tagList = tags.length > 0 ? tags.join(', ') : 'none'
  let chosen: Descriptor
  if (tag !== undefined) {
    const m = all.filter((d) => d.annotations?.[REF_NAME] === tag)
    if (m.length === 0) throw NsxError.invalid(`unknown tag '${tag}' in ${dir} (tags: ${tagList})`)
    chosen = m[0]
  } else if (all.length === 1) {
    chosen = all[0]
  } else {
    const latest = all.filter((d) => d.annotations?.[REF_NAME] === 'latest')
    if (latest.length !== 1) throw NsxError.invalid(`${dir} holds ${all.length} images; name one as ${dir}:TAG (tags: ${tagList})`)
    chosen = latest[0]
  }
  const refName = chosen.annotations?.[REF_NAME]
  const manifest = resolveManifest(dir, chosen, label, 0)
  const configDesc = descriptors([manifest.config], 'manifest config', label)[0]
  const configBytes = readBlob(dir, configDesc, 'config', label)
  const id = verifyBytes(configBytes, configDesc.digest, `${label}: config`)
  const config = parseImageConfig(configBytes, label)
  const layerDescs = descriptors(manifest.layers, 'manifest layers', label)
  if (layerDescs.length !== config.diffIds.length)
    throw NsxError.invalid(`${label}: manifest lists ${layerDescs.length} layers but the config has ${config.diffIds.length} diff_ids`)
  const layers: LayerSource[] = layerDescs.map((d, i) => {
    const file = blobPath(dir, d.digest)
    let size: number
    try {
      size = statSync(file).size
    } catch (err) {
      throw missingOr(err, `${label}: layer blob ${d.digest}`)
    }
    if (size !== d.size) throw NsxError.invalid(`${label}: layer blob ${d.digest} is ${size < d.size ? 'truncated' : 'too long'} (${size} bytes, descriptor says ${d.size})`)
    return {blob: {file, label: `${label} layer ${i + 1} (${d.digest.slice(0, 19)})`}, digest: d.digest, diffId: config.diffIds[i]}
  })
  return {label, format: 'oci-layout', names: refName ? [nameFor(dir, refName)] : [], configBytes, id, config, layers}
}

/** ref.name is a bare tag ("latest", what umoci writes) or a full reference ("busybox:1.36"). */
function nameFor(dir: string, refName: string): string {
  if (refName.includes(':') || refName.includes('/')) return refName.includes(':') ? refName : `${refName}:latest`
  return `${basename(resolve(dir))}:${refName}`
}

interface Manifest {
  config?: unknown
  layers?: unknown
  manifests?: unknown
  mediaType?: string
}

function resolveManifest(dir: string, d: Descriptor, label: string, depth: number): Manifest {
  if (depth > 4) throw NsxError.invalid(`${label}: image indexes nested too deeply`)
  let m: Manifest
  try {
    m = JSON.parse(readBlob(dir, d, 'manifest', label).toString('utf8')) as Manifest
  } catch (err) {
    if (err instanceof NsxError) throw err
    throw NsxError.invalid(`${label}: manifest ${d.digest} is not valid JSON`)
  }
  if (typeof m !== 'object' || m === null) throw NsxError.invalid(`${label}: manifest ${d.digest} is not a JSON object`)
  const isIndex = INDEX_TYPES.has(d.mediaType ?? '') || INDEX_TYPES.has(m.mediaType ?? '') || (m.manifests !== undefined && m.layers === undefined)
  if (!isIndex) return m
  const arch = goArch()
  const list = descriptors(m.manifests, 'image index', label)
  const match = list.find((x) => (x.platform?.os ?? 'linux') === 'linux' && (x.platform?.architecture ?? arch) === arch)
  if (!match) {
    const have = list.map((x) => `${x.platform?.os ?? '?'}/${x.platform?.architecture ?? '?'}`).join(', ')
    throw NsxError.notFound(`${label}: no linux/${arch} image in the index (it has ${have || 'none'})`)
  }
  return resolveManifest(dir, match, label, depth + 1)
}
