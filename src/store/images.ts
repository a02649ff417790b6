import {closeSync, mkdirSync, mkdtempSync, openSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {flock, LOCK_EX} from '../ffi/libc.js'
import type {ImageDefaults} from '../image/config.js'
import {splitName} from '../image/source.js'
import {exists, hexOf, removeTree, shortId, Store} from './store.js'
import {familiarRef, parseReference} from '../image/reference.js'

/** A registry reference's store name (busybox:latest) and repo digest, when ref parses as one. */
function normalizedName(ref: string): {name?: string; full?: string; repoDigest?: string} | undefined {
  try {
    const r = parseReference(ref)
    return {
      name: r.tag !== undefined ? familiarRef({...r, digest: undefined}) : undefined,
      full: r.tag !== undefined ? `${r.registry}/${r.repository}:${r.tag}` : undefined,
      repoDigest: r.digest ? `${r.registry}/${r.repository}@${r.digest}` : undefined,
    }
  } catch {
    return undefined
  }
}

/** A stored image (images/sha256/<hex>/image.json); its id is the sha256 of its config. */
export interface ImageRecord {
  id: string
  /** Layer diff_ids, lowest first. */
  layers: string[]
  architecture: string
  os: string
  created?: string
  defaults: ImageDefaults
  /** Where it came from: a file format, a registry, a build, a commit or a root filesystem tar (nsx import). */
  format: 'oci-layout' | 'docker-archive' | 'registry' | 'build' | 'commit' | 'rootfs-tar'
  source: string
  loadedAt: string
  /** The image it was committed on (docker's local Parent). */
  parent?: string
  /** registry/repository@sha256:... of the manifests it was pulled from or pushed as. */
  repoDigests?: string[]
}

/** "name:tag" -> image id. */
export type Repositories = Record<string, string>

export function readImage(store: Store, id: string): ImageRecord | undefined {
  return store.readJson<ImageRecord>(join(store.imageDir(id), 'image.json'))
}

export function listImages(store: Store): ImageRecord[] {
  return store
    .listDigests('images')
    .map((id) => readImage(store, id))
    .filter((r): r is ImageRecord => r !== undefined)
}

export function readRepositories(store: Store): Repositories {
  return store.readJson<Repositories>(join(store.root, 'repositories.json')) ?? {}
}

/** Read-modify-write of repositories.json under its own short lock (imports run concurrently). */
export function updateRepositories<T>(store: Store, fn: (repos: Repositories) => T): T {
  const fd = openSync(join(store.root, 'repositories.lock'), 'a', 0o600)
  try {
    flock(fd, LOCK_EX)
    const repos = readRepositories(store)
    const out = fn(repos)
    store.writeJsonAtomic(join(store.root, 'repositories.json'), repos)
    return out
  } finally {
    closeSync(fd) // releases the flock
  }
}

export function namesOf(repos: Repositories, id: string): string[] {
  return Object.keys(repos)
    .filter((n) => repos[n] === id)
    .sort()
}

/** Publish an image record (config.json + image.json), atomically, unless it is already there. */
export function writeImage(store: Store, record: ImageRecord, configBytes: Buffer): void {
  const dest = store.imageDir(record.id)
  if (exists(join(dest, 'image.json'))) return
  const work = mkdtempSync(join(store.tmpDir, 'image-'))
  try {
    writeFileSync(join(work, 'config.json'), configBytes, {mode: 0o600})
    store.writeJsonAtomic(join(work, 'image.json'), record)
    if (exists(dest)) store.retire(dest)
    mkdirSync(join(store.root, 'images', 'sha256'), {recursive: true, mode: 0o700})
    try {
      renameSync(work, dest)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && exists(join(dest, 'image.json'))) return
      throw err
    }
  } finally {
    if (exists(work)) removeTree(work)
  }
}

/** A user's reference to a stored image: name[:tag] (tag defaults to latest), or an id or id prefix. */
export function findImage(store: Store, ref: string): {id: string; byName?: string} {
  const repos = readRepositories(store)
  const {name, tag} = splitName(ref)
  const full = `${name}:${tag}`
  if (repos[full] && readImage(store, repos[full])) return {id: repos[full], byName: full}
  // docker.io/library/busybox:latest, busybox@sha256:...: the same image under docker's normal forms.
  const norm = normalizedName(ref)
  if (norm?.name && repos[norm.name] && readImage(store, repos[norm.name])) return {id: repos[norm.name], byName: norm.name}
  // ... and busybox for docker.io/library/busybox:latest, as stored from an archive that named it so.
  if (norm?.full && repos[norm.full] && readImage(store, repos[norm.full])) return {id: repos[norm.full], byName: norm.full}
  if (norm?.repoDigest) {
    const hit = listImages(store).find((i) => (i.repoDigests ?? []).includes(norm.repoDigest!))
    if (hit) return {id: hit.id}
  }
  const hex = ref.startsWith('sha256:') ? ref.slice(7) : ref
  if (/^[0-9a-f]{4,64}$/.test(hex)) {
    const ids = store.listDigests('images').filter((id) => hexOf(id).startsWith(hex))
    if (ids.length === 1) return {id: ids[0]}
    if (ids.length > 1) throw NsxError.invalid(`image id prefix '${ref}' is ambiguous (${ids.map(shortId).join(', ')})`)
  }
  const known = [...Object.keys(repos).sort(), ...listImages(store).filter((i) => namesOf(repos, i.id).length === 0).map((i) => shortId(i.id))]
  throw NsxError.notFound(`no such image: ${ref} (stored: ${known.length > 0 ? known.join(', ') : 'none; load one with nsx load'})`)
}
