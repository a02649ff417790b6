import {randomBytes} from 'node:crypto'
import {mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {listContainers} from '../container/state.js'
import {recordEvent} from '../store/events.js'
import {diskUsage, exists, Store} from '../store/store.js'
import {type PruneSelector, selects} from '../store/prune-filter.js'

/**
 * Named volumes (docker volume create/ls/inspect/rm/prune, `-v NAME:/path`), driver `local`
 * only: a directory `volumes/<name>/_data` of the store, its record `volumes/<name>/volume.json`
 * beside it. Made in tmp/ and renamed into place whole; removed by a rename out first. Which
 * containers use a volume is read from their configs (the spec's volumes name it), so nothing
 * is kept twice. Mutations hold the store lock: create shared (as nsx create does while it
 * resolves a container's volumes), rm and prune exclusive, so a volume is never removed
 * between a container's check and its creation.
 */

/** The Engine API's Volume object (the fields a local volume has). */
export interface Volume {
  Name: string
  Driver: 'local'
  Mountpoint: string
  CreatedAt: string
  Labels: Record<string, string>
  Scope: 'local'
  Options: Record<string, string>
}

/** What is stored in volume.json. */
interface VolumeRecord {
  name: string
  driver: 'local'
  createdAt: string
  labels: Record<string, string>
  options: Record<string, string>
  /** Made for `-v /path` (no name): rm -v and run --rm remove it with its container. */
  anonymous: boolean
  /** An anonymous volume's container, when that is a --rm one: gc removes the volume once the container is gone. */
  autoRemoveWith?: string
}

/** docker's rule for local volume names. */
export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/

export const volumesDir = (store: Store) => join(store.root, 'volumes')
export const volumeDir = (store: Store, name: string) => join(volumesDir(store), name)
export const volumeData = (store: Store, name: string) => join(volumeDir(store, name), '_data')

export function checkVolumeName(name: string): string {
  if (!VOLUME_NAME_RE.test(name))
    throw NsxError.invalid(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`, 1)
  return name
}

function readRecord(store: Store, name: string): VolumeRecord | undefined {
  if (!VOLUME_NAME_RE.test(name)) return undefined
  return store.readJson<VolumeRecord>(join(volumeDir(store, name), 'volume.json'))
}

function toVolume(store: Store, r: VolumeRecord): Volume {
  return {Name: r.name, Driver: 'local', Mountpoint: volumeData(store, r.name), CreatedAt: r.createdAt, Labels: r.labels, Scope: 'local', Options: r.options}
}

export interface CreateVolumeOptions {
  /** Absent: a generated name (64 hex digits), as docker gives. */
  name?: string
  driver?: string
  labels?: Record<string, string>
  /** Driver options: the local driver's mount options (type, device, o) are not supported. */
  options?: Record<string, string>
  anonymous?: boolean
  /** The --rm container an anonymous volume is made for. */
  autoRemoveWith?: string
}

/** `KEY=VALUE` words (--label, --opt) as a record; a word without `=` has an empty value, as docker. */
export function parseKeyValues(words: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {}
  for (const w of words) {
    const eq = w.indexOf('=')
    out[eq < 0 ? w : w.slice(0, eq)] = eq < 0 ? '' : w.slice(eq + 1)
  }
  return out
}

/**
 * docker volume create: a new empty volume, or the existing one of that name (docker's
 * create is idempotent). Returns the volume and whether it was made now.
 */
export function createVolume(store: Store, o: CreateVolumeOptions = {}): {volume: Volume; created: boolean} {
  const driver = o.driver ?? 'local'
  if (driver !== 'local') throw NsxError.notFound(`create ${o.name ?? ''}: volume driver "${driver}" not found: nsx has the local driver only`.replace('create :', 'create:'), 1)
  const options = o.options ?? {}
  if (Object.keys(options).length > 0) throw NsxError.invalid(`create ${o.name ?? ''}: the local driver's options (${Object.keys(options).join(', ')}) are not supported by nsx: a volume is a directory of the store`.replace('create :', 'create:'), 1)
  const name = checkVolumeName(o.name ?? randomBytes(32).toString('hex'))
  const existing = readRecord(store, name)
  if (existing) return {volume: toVolume(store, existing), created: false}
  store.ensureLayout()
  mkdirSync(volumesDir(store), {recursive: true, mode: 0o700})
  const work = mkdtempSync(join(store.tmpDir, 'volume-'))
  try {
    mkdirSync(join(work, '_data'), {mode: 0o755})
    const record: VolumeRecord = {name, driver: 'local', createdAt: new Date().toISOString(), labels: o.labels ?? {}, options, anonymous: o.anonymous ?? false, ...(o.autoRemoveWith ? {autoRemoveWith: o.autoRemoveWith} : {})}
    writeFileSync(join(work, 'volume.json'), JSON.stringify(record, null, 2) + '\n', {mode: 0o600})
    try {
      renameSync(work, volumeDir(store, name))
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      // Made by another at the same moment: theirs is the volume.
      if (code === 'EEXIST' || code === 'ENOTEMPTY') {
        const other = readRecord(store, name)
        if (other) return {volume: toVolume(store, other), created: false}
      }
      throw err
    }
    recordEvent(store.root, {Type: 'volume', Action: 'create', id: name, attributes: {driver: 'local'}})
    return {volume: toVolume(store, record), created: true}
  } finally {
    if (exists(work)) rmSync(work, {recursive: true, force: true})
  }
}

/** Names of the stored volumes (complete ones: with their record). */
function volumeNames(store: Store): string[] {
  try {
    return readdirSync(volumesDir(store))
      .filter((n) => VOLUME_NAME_RE.test(n) && exists(join(volumesDir(store), n, 'volume.json')))
      .sort()
  } catch {
    return []
  }
}

/** Container ids using each volume (any container, running or not, as docker counts them). */
export function volumeUsers(store: Store): Map<string, string[]> {
  const users = new Map<string, string[]>()
  for (const c of listContainers(store))
    for (const v of c.config.spec.volumes ?? [])
      if (v.volume !== undefined) users.set(v.volume, [...(users.get(v.volume) ?? []), c.config.id])
  return users
}

export const VOLUME_FILTER_KEYS = ['dangling', 'driver', 'label', 'name']

/**
 * docker volume ls's filters: `dangling=true|false`, `driver=local`, `label=KEY[=VALUE]`,
 * `name=SUBSTRING`; the same key twice matches either, different keys both.
 */
export function listVolumes(store: Store, filters: readonly string[] = []): Volume[] {
  const byKey = new Map<string, string[]>()
  for (const f of filters) {
    const eq = f.indexOf('=')
    const key = eq < 0 ? f : f.slice(0, eq)
    if (!VOLUME_FILTER_KEYS.includes(key)) throw NsxError.invalid(`invalid filter '${key}': expected one of ${VOLUME_FILTER_KEYS.join(', ')}`, 1)
    const value = eq < 0 ? '' : f.slice(eq + 1)
    if (key === 'dangling' && !['true', 'false', '1', '0'].includes(value.toLowerCase())) throw NsxError.invalid(`invalid filter 'dangling=${value}': expected true or false`, 1)
    byKey.set(key, [...(byKey.get(key) ?? []), value])
  }
  const users = byKey.has('dangling') ? volumeUsers(store) : new Map<string, string[]>()
  const out: Volume[] = []
  for (const name of volumeNames(store)) {
    const r = readRecord(store, name)
    if (!r) continue
    const v = toVolume(store, r)
    const ok = [...byKey].every(([key, values]) =>
      values.some((value) => {
        if (key === 'dangling') return ['true', '1'].includes(value.toLowerCase()) === !users.has(name)
        if (key === 'driver') return value === 'local'
        if (key === 'name') return name.includes(value)
        const eq = value.indexOf('=')
        return eq < 0 ? value in r.labels : r.labels[value.slice(0, eq)] === value.slice(eq + 1)
      }),
    )
    if (ok) out.push(v)
  }
  return out
}

/** docker volume inspect of one volume; an unknown name is "No such volume" (the API's 404). */
export function inspectVolume(store: Store, name: string): Volume {
  const r = readRecord(store, name)
  if (!r) throw NsxError.notFound(`No such volume: ${name}`, 1)
  return toVolume(store, r)
}

export function isAnonymous(store: Store, name: string): boolean {
  return readRecord(store, name)?.anonymous ?? false
}

/** The message of a volume in use, as docker's daemon words it (the API answers 409 for it). */
export function inUseError(name: string, ids: readonly string[]): NsxError {
  return NsxError.conflict(`remove ${name}: volume is in use - [${ids.join(', ')}]`, 1)
}

/**
 * docker volume rm: the volume and its data. One in use by a container (running or not) is
 * refused; --force removes one that does not exist without complaint, never one in use.
 * `except` names a container whose use does not count (rm -v removing that container's own).
 */
export function removeVolume(store: Store, name: string, opts: {force?: boolean; except?: string} = {}): {name: string; removed: boolean} {
  const mine = !store.locked
  store.lock('exclusive')
  try {
    if (!readRecord(store, name)) {
      if (opts.force) return {name, removed: false}
      throw NsxError.notFound(`No such volume: ${name}`, 1)
    }
    const ids = (volumeUsers(store).get(name) ?? []).filter((id) => id !== opts.except)
    if (ids.length > 0) throw inUseError(name, ids)
    store.retire(volumeDir(store, name))
    recordEvent(store.root, {Type: 'volume', Action: 'destroy', id: name, attributes: {driver: 'local'}})
    return {name, removed: true}
  } finally {
    if (mine) store.unlock()
  }
}

/**
 * docker volume prune: every volume no container uses (docker 20.10's rule: named ones too),
 * narrowed by the selector of its `label=`/`label!=` filters. Returns the names removed and the bytes freed.
 */
export function pruneVolumes(store: Store, select: PruneSelector = {labels: [], notLabels: []}): {VolumesDeleted: string[]; SpaceReclaimed: number} {
  if (!exists(volumesDir(store))) return {VolumesDeleted: [], SpaceReclaimed: 0}
  const mine = !store.locked
  store.lock('exclusive')
  try {
    const users = volumeUsers(store)
    const deleted: string[] = []
    let bytes = 0
    for (const name of volumeNames(store)) {
      const r = readRecord(store, name)
      if (!r || users.has(name) || !selects(select, {labels: r.labels})) continue
      bytes += diskUsage(volumeDir(store, name))
      store.retire(volumeDir(store, name))
      recordEvent(store.root, {Type: 'volume', Action: 'destroy', id: name, attributes: {driver: 'local'}})
      deleted.push(name)
    }
    return {VolumesDeleted: deleted, SpaceReclaimed: bytes}
  } finally {
    if (mine) store.unlock()
  }
}

/**
 * For nsx gc: the anonymous volumes of --rm containers that are gone without their supervisor's
 * cleanup (killed; the container itself is swept by sweepStale). Named volumes and the
 * anonymous volumes of kept containers stay, as docker keeps them until rm -v or prune.
 */
export function collectVolumes(store: Store, opts: {dryRun: boolean}): {volumes: string[]; bytes: number} {
  const live = new Set(listContainers(store).map((c) => c.config.id))
  const out = {volumes: [] as string[], bytes: 0}
  for (const name of volumeNames(store)) {
    const r = readRecord(store, name)
    if (!r?.autoRemoveWith || live.has(r.autoRemoveWith)) continue
    out.bytes += diskUsage(volumeDir(store, name))
    out.volumes.push(name)
    if (!opts.dryRun) store.retire(volumeDir(store, name))
  }
  return out
}
