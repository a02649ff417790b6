import {statSync} from 'node:fs'
import {NsxError} from '../cli/errors.js'
import type {BlobRange} from './blob.js'
import type {ImageConfig} from './config.js'

/** An image found in an OCI layout or a docker archive, before anything is stored. */
export interface ImageSource {
  /** What the user passed, for messages. */
  label: string
  format: 'oci-layout' | 'docker-archive'
  /** "name:tag" references to record for it (may be empty: an untagged image). */
  names: string[]
  configBytes: Buffer
  /** sha256 of the config: the image id, as docker computes it. */
  id: string
  config: ImageConfig
  layers: LayerSource[]
}

export interface LayerSource {
  blob: BlobRange
  /** Digest of the blob as stored, when the format records one (OCI); docker archives have only diff_ids. */
  digest?: string
  diffId: string
}

export interface ImageRef {
  path: string
  tag?: string
}

/**
 * PATH or PATH:TAG. The path wins when it exists as given (paths may hold colons);
 * otherwise the part after the last colon is the tag.
 */
export function parseImageRef(arg: string): ImageRef {
  if (pathExists(arg)) return {path: arg}
  const i = arg.lastIndexOf(':')
  if (i > 0 && !arg.slice(i + 1).includes('/') && pathExists(arg.slice(0, i))) return {path: arg.slice(0, i), tag: arg.slice(i + 1)}
  throw NsxError.notFound(`no such image: ${arg} (expected an OCI layout directory or a docker-archive tar, optionally followed by :TAG)`)
}

function pathExists(p: string): boolean {
  try {
    statSync(p)
    return true
  } catch {
    return false
  }
}

/** Split "name:tag" (the tag defaults to latest; a colon in a registry port is not a tag). */
export function splitName(ref: string): {name: string; tag: string} {
  const slash = ref.lastIndexOf('/')
  const colon = ref.lastIndexOf(':')
  if (colon > slash) return {name: ref.slice(0, colon), tag: ref.slice(colon + 1)}
  return {name: ref, tag: 'latest'}
}

/** Go's names for the architectures an image config records. */
export function goArch(arch: string = process.arch): string {
  const map: Record<string, string> = {x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64'}
  return map[arch] ?? arch
}
