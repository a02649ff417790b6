import {NsxError} from '../cli/errors.js'

/**
 * Docker's image reference grammar (distribution/reference):
 *
 *   [DOMAIN[:PORT]/]PATH[:TAG][@sha256:HEX]
 *
 * The first path component is a registry domain when it contains a dot or a colon, or is
 * "localhost"; otherwise the registry is docker.io, and a one-component name there is an
 * official image under library/ (busybox -> docker.io/library/busybox). The tag defaults to
 * "latest" unless a digest is given.
 */

export const DEFAULT_REGISTRY = 'docker.io'
/** Where docker.io's registry API is actually served. */
export const DOCKER_HUB_API = 'registry-1.docker.io'

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^sha256:[0-9a-f]{64}$/

export interface Reference {
  /** Registry host[:port], docker.io for Docker Hub. */
  registry: string
  /** Repository path within it (library/busybox). */
  repository: string
  tag?: string
  digest?: string
}

export function parseReference(input: string): Reference {
  const bad = (why: string) => NsxError.invalid(`invalid reference '${input}': ${why}`)
  if (input === '' || input.length > 4096) throw bad('empty or too long')
  let rest = input
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest)) throw bad('the digest must be sha256: and 64 lowercase hex digits')
  }
  let tag: string | undefined
  const slash = rest.lastIndexOf('/')
  const colon = rest.lastIndexOf(':')
  if (colon > slash) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag)) throw bad('a tag is up to 128 letters, digits, _, . and -, not starting with . or -')
  }
  let registry = DEFAULT_REGISTRY
  let path = rest
  const first = rest.indexOf('/')
  if (first >= 0) {
    const head = rest.slice(0, first)
    if (head.includes('.') || head.includes(':') || head === 'localhost' || head !== head.toLowerCase()) {
      if (!DOMAIN.test(head)) throw bad(`'${head}' is not a registry host[:port]`)
      registry = head
      path = rest.slice(first + 1)
    }
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DEFAULT_REGISTRY
  const parts = path.split('/')
  for (const p of parts) if (!COMPONENT.test(p)) throw bad(`'${p}' is not a valid repository name component (lowercase letters, digits, and . _ __ - between them)`)
  if (registry === DEFAULT_REGISTRY && parts.length === 1) path = `library/${path}`
  if (path.length > 255) throw bad('the repository name is longer than 255 characters')
  if (tag === undefined && digest === undefined) tag = 'latest'
  return {registry, repository: path, tag, digest}
}

/** The fully qualified form: docker.io/library/busybox:latest. */
export function canonical(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`
}

/** Docker's short form, used for names in the store: busybox:latest, localhost:5000/app:1. */
export function familiarName(ref: Reference): string {
  let name = `${ref.registry}/${ref.repository}`
  if (ref.registry === DEFAULT_REGISTRY) name = ref.repository.startsWith('library/') && ref.repository.split('/').length === 2 ? ref.repository.slice(8) : ref.repository
  return name
}

/** familiar name with its tag (or digest): what nsx images lists. */
export function familiarRef(ref: Reference): string {
  return `${familiarName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.tag === undefined && ref.digest ? `@${ref.digest}` : ''}`
}

/** The host to connect to for a registry name. */
export function apiHost(registry: string): string {
  return registry === DEFAULT_REGISTRY ? DOCKER_HUB_API : registry
}

/** Loopback registries may speak plain HTTP, as podman and docker allow. */
export function isLoopback(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:[0-9]+$/, '')
  return host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1'
}

/** The key credentials are stored under in auth files (docker uses its v1 URL for Docker Hub). */
export function authKey(registry: string): string {
  return registry === DEFAULT_REGISTRY ? 'https://index.docker.io/v1/' : registry
}
