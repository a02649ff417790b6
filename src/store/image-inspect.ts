import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {familiarRef, parseReference} from '../image/reference.js'
import {findImage, namesOf, readImage, readRepositories} from './images.js'
import {readLayerMeta} from './layers.js'
import {Store} from './store.js'

/**
 * docker image inspect of a stored image: the Engine API's ImageInspect (the fields an OCI or
 * docker config gives), read from the stored config. One function for `GET /images/{name}/json`
 * and the listing of `GET /images/json`.
 */
export interface ImageInspect {
  Id: string
  RepoTags: string[]
  RepoDigests: string[]
  Parent: string
  Comment: string
  Created: string
  Container: string
  ContainerConfig: Record<string, unknown>
  DockerVersion: string
  Author: string
  Config: Record<string, unknown>
  Architecture: string
  Variant?: string
  Os: string
  Size: number
  VirtualSize: number
  GraphDriver: {Name: string; Data: Record<string, string>}
  RootFS: {Type: 'layers'; Layers: string[]}
  Metadata: {LastTagTime: string}
}

const ZERO_TIME = '0001-01-01T00:00:00Z'

/** A stored name as docker shows it: `busybox:latest` for `docker.io/library/busybox:latest`. */
export function familiarName(n: string): string {
  try {
    const r = parseReference(n)
    return r.digest || r.tag === undefined ? n : familiarRef(r)
  } catch {
    return n
  }
}

/** A repo digest as docker shows it: `busybox@sha256:...`, `localhost:5000/app@sha256:...`. */
function familiarDigest(d: string): string {
  const at = d.lastIndexOf('@')
  try {
    const ref = parseReference(d.slice(0, at))
    return `${familiarRef({...ref, tag: undefined, digest: undefined})}${d.slice(at)}`
  } catch {
    return d
  }
}

export function inspectImage(store: Store, ref: string): ImageInspect {
  const {id} = findImage(store, ref)
  const rec = readImage(store, id)!
  const cfg = JSON.parse(readFileSync(join(store.imageDir(id), 'config.json'), 'utf8')) as {
    created?: string
    author?: string
    architecture?: string
    variant?: string
    os?: string
    config?: Record<string, unknown>
    container_config?: Record<string, unknown>
    container?: string
    docker_version?: string
    comment?: string
    history?: {comment?: string}[]
  }
  const size = rec.layers.reduce((n, l) => n + (readLayerMeta(store, l)?.stats.bytes ?? 0), 0)
  const config = {Env: null, Cmd: null, Entrypoint: null, WorkingDir: '', User: '', Volumes: null, OnBuild: null, Labels: null, ...(cfg.config ?? {})}
  return {
    Id: id,
    RepoTags: [...new Set(namesOf(readRepositories(store), id).map(familiarName))],
    RepoDigests: [...new Set((rec.repoDigests ?? []).map(familiarDigest))],
    Parent: rec.parent ?? '',
    Comment: cfg.comment ?? cfg.history?.at(-1)?.comment ?? '',
    Created: cfg.created ?? rec.created ?? ZERO_TIME,
    Container: cfg.container ?? '',
    ContainerConfig: cfg.container_config ?? {},
    DockerVersion: cfg.docker_version ?? '',
    Author: cfg.author ?? '',
    Config: config,
    Architecture: cfg.architecture ?? rec.architecture,
    ...(cfg.variant ? {Variant: cfg.variant} : {}),
    Os: cfg.os ?? rec.os,
    Size: size,
    VirtualSize: size,
    GraphDriver: {Name: 'overlay2', Data: {LowerDir: rec.layers.map((l) => store.layerRoot(l)).reverse().join(':')}},
    RootFS: {Type: 'layers', Layers: rec.layers},
    Metadata: {LastTagTime: ZERO_TIME},
  }
}
