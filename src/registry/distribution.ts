import {NsxError} from '../cli/errors.js'
import {MAX_METADATA_BYTES, verifyBytes} from '../image/blob.js'
import {familiarRef, parseReference} from '../image/reference.js'
import {readBody} from './client.js'
import type {Credentials} from './credentials.js'
import {MEDIA, parseManifest, Platform} from './manifest.js'
import {fetchManifest} from './pull.js'
import {fromSources} from './sources.js'

/**
 * What a registry holds under a reference, without pulling it (`GET /distribution/{name}/json`,
 * docker's `docker manifest inspect`'s first question): the manifest's descriptor (media type,
 * digest, size) and the platforms it serves: an index's entries, or an image's own (from its
 * config). Asked through the mirrors of registries.conf like a pull.
 */

export interface DistributionOptions {
  reference: string
  tlsVerify?: boolean
  authFile?: string
  credentials?: Credentials
  env?: NodeJS.ProcessEnv
}

export interface DistributionPlatform extends Platform {
  'os.version'?: string
  'os.features'?: string[]
}

export interface DistributionInfo {
  descriptor: {mediaType: string; digest: string; size: number}
  platforms: DistributionPlatform[]
}

/** An OCI platform as moby writes it: architecture and os, the rest only when set. */
function platformOf(v: {architecture?: unknown; os?: unknown; variant?: unknown; 'os.version'?: unknown; 'os.features'?: unknown}): DistributionPlatform {
  const p: DistributionPlatform = {architecture: typeof v.architecture === 'string' ? v.architecture : '', os: typeof v.os === 'string' ? v.os : ''}
  if (typeof v['os.version'] === 'string' && v['os.version']) p['os.version'] = v['os.version']
  if (Array.isArray(v['os.features']) && v['os.features'].length > 0) p['os.features'] = v['os.features'].filter((f): f is string => typeof f === 'string')
  if (typeof v.variant === 'string' && v.variant) p.variant = v.variant
  return p
}

export async function inspectDistribution(opts: DistributionOptions): Promise<DistributionInfo> {
  const ref = parseReference(opts.reference)
  const what = `distribution ${familiarRef(ref)}`
  return fromSources(ref, opts, async (client, at) => {
    const m = await fetchManifest(client, at, at.digest ?? at.tag!, what)
    const parsed = parseManifest(m.bytes, m.contentType, what)
    const mediaType = (JSON.parse(m.bytes.toString('utf8')) as {mediaType?: string}).mediaType ?? m.contentType?.split(';')[0].trim() ?? (parsed.kind === 'index' ? MEDIA.ociIndex : MEDIA.ociManifest)
    const descriptor = {mediaType, digest: m.digest, size: m.bytes.length}
    if (parsed.kind === 'index') return {descriptor, platforms: parsed.manifests.filter((d) => d.platform).map((d) => platformOf(d.platform as object))}
    // One image: its platform is in its config (moby reads it there too).
    const res = await client.request('GET', `/v2/${at.repository}/blobs/${parsed.manifest.config.digest}`, {scope: `repository:${at.repository}:pull`, what: `${what}: config`})
    const bytes = await readBody(res, MAX_METADATA_BYTES, `${what}: config`)
    verifyBytes(bytes, parsed.manifest.config.digest, `${what}: config`)
    let cfg: object
    try {
      cfg = JSON.parse(bytes.toString('utf8')) as object
    } catch {
      throw NsxError.internal(`${what}: the image config is not valid JSON`)
    }
    const p = platformOf(cfg)
    return {descriptor, platforms: p.os || p.architecture ? [p] : []}
  })
}
