import {NsxError} from '../cli/errors.js'
import {checkDigestSyntax} from '../image/blob.js'
import {goArch} from '../image/source.js'

/** The manifest formats of the OCI image spec and docker's schema 2, and platform choice in indexes. */

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const

export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ')

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  platform?: Platform
  annotations?: Record<string, string>
}

export interface Platform {
  os: string
  architecture: string
  variant?: string
}

export interface ImageManifest {
  mediaType: string
  config: Descriptor
  layers: Descriptor[]
}

export type ParsedManifest = {kind: 'index'; manifests: Descriptor[]} | {kind: 'image'; manifest: ImageManifest}

function descriptor(v: unknown, what: string): Descriptor {
  const d = v as Descriptor
  if (typeof d !== 'object' || d === null || typeof d.digest !== 'string' || typeof d.size !== 'number' || d.size < 0) throw NsxError.internal(`malformed descriptor in ${what}`)
  checkDigestSyntax(d.digest, what)
  return d
}

export function parseManifest(bytes: Buffer, contentType: string | undefined, what: string): ParsedManifest {
  let j: {mediaType?: string; schemaVersion?: number; manifests?: unknown; config?: unknown; layers?: unknown}
  try {
    j = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw NsxError.internal(`${what}: manifest is not valid JSON`)
  }
  if (typeof j !== 'object' || j === null) throw NsxError.internal(`${what}: manifest is not a JSON object`)
  const type = j.mediaType ?? contentType?.split(';')[0].trim() ?? ''
  if (j.schemaVersion === 1 || type.startsWith('application/vnd.docker.distribution.manifest.v1')) throw NsxError.invalid(`${what}: docker schema 1 manifests are not supported (deprecated; push the image again with a current tool)`)
  if (type === MEDIA.ociIndex || type === MEDIA.dockerList || (j.manifests !== undefined && j.layers === undefined)) {
    if (!Array.isArray(j.manifests)) throw NsxError.internal(`${what}: index without manifests`)
    return {kind: 'index', manifests: j.manifests.map((m) => descriptor(m, `${what} index`))}
  }
  if (!Array.isArray(j.layers) || j.config === undefined) throw NsxError.internal(`${what}: manifest has no config and layers (media type ${type || 'unknown'})`)
  return {kind: 'image', manifest: {mediaType: type || MEDIA.ociManifest, config: descriptor(j.config, `${what} config`), layers: j.layers.map((l) => descriptor(l, `${what} layers`))}}
}

/** os/arch[/variant], e.g. linux/arm64/v8. */
export function parsePlatform(s: string): Platform {
  const parts = s.split('/')
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) throw NsxError.invalid(`invalid platform '${s}' (expected OS/ARCH[/VARIANT], e.g. linux/amd64)`)
  return {os: parts[0], architecture: parts[1], variant: parts[2]}
}

export function hostPlatform(): Platform {
  const arch = goArch()
  return {os: 'linux', architecture: arch, variant: arch === 'arm64' ? 'v8' : arch === 'arm' ? 'v7' : undefined}
}

export const platformString = (p: Platform) => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`

/** An index's manifest for the platform: os and architecture exact; variant exact when asked, else the host's or any. */
export function choosePlatform(list: Descriptor[], want: Platform, explicit: boolean, what: string): Descriptor {
  const images = list.filter((d) => d.platform?.os === want.os && d.platform?.architecture === want.architecture)
  const normVariant = (p?: Platform) => p?.variant ?? (p?.architecture === 'arm64' ? 'v8' : undefined)
  let match = images.find((d) => normVariant(d.platform) === normVariant(want))
  if (!match && !(explicit && want.variant)) match = images[0]
  if (!match) {
    const have = list.filter((d) => d.platform).map((d) => platformString(d.platform!)).join(', ')
    throw NsxError.notFound(`${what}: no image for ${platformString(want)} in the index (it has ${have || 'none'})${explicit ? '' : '; choose one with --platform'}`)
  }
  return match
}
