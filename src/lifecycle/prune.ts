import {NsxError} from '../cli/errors.js'
import type {NetworkGcReport} from '../network/attach.js'
import {removeBuildCacheEntry} from '../store/build-cache.js'
import {collectGarbage, type Freed, type ImageDeleted, imagesDeleted, pruneImages} from '../store/gc.js'
import {danglingOnly, type FilterArgs, goDuration, pruneSelector, validateFilters} from '../store/prune-filter.js'
import type {Store} from '../store/store.js'
import {buildCacheUsage, type DiskUsageCache, humanSize} from './disk-usage.js'

/**
 * The store's sweeps in one place: each area's prune as docker's daemon answers it (containers,
 * images, networks, volumes, the build cache), docker system prune over them, and nsx gc (what
 * dead containers and interrupted imports left). The CLI's prune verbs, the Engine API's prune
 * endpoints and nsx system prune call these, with docker's filters (src/store/prune-filter.ts).
 * The callers hold the store's exclusive lock (the CLI for the process, the service per request),
 * so no import runs between "layer stored" and "image recorded" while layers are swept.
 */

export type {ImageDeleted} from '../store/gc.js'

/** docker's prune answers, each area's fields. */
export interface PruneReport {
  ContainersDeleted: string[]
  NetworksDeleted: string[]
  VolumesDeleted: string[]
  ImagesDeleted: ImageDeleted[]
  CachesDeleted: string[]
  SpaceReclaimed: number
}

export interface SystemPruneOptions {
  /** -a: every image no container uses, not only the dangling ones; the whole build cache. */
  all?: boolean
  /** --volumes: the volumes no container uses too. */
  volumes?: boolean
  /** --filter: passed to each area, as the docker CLI passes them (until and label on all but volumes). */
  filters?: FilterArgs
}

/** docker container prune (`POST /containers/prune`): filters until, label, label!. */
export async function containersPrune(store: Store, filters: FilterArgs = new Map()): Promise<Pick<PruneReport, 'ContainersDeleted' | 'SpaceReclaimed'>> {
  const select = pruneSelector(filters, 'containers')
  const {pruneContainers} = await import('./remove.js')
  const r = await pruneContainers(store, select)
  return {ContainersDeleted: r.removed, SpaceReclaimed: r.reclaimed}
}

/** docker network prune (`POST /networks/prune`): filters until, label, label!. */
export async function networksPrune(store: Store, filters: FilterArgs = new Map()): Promise<Pick<PruneReport, 'NetworksDeleted'>> {
  const select = pruneSelector(filters, 'networks')
  const {pruneNetworks} = await import('../network/manage.js')
  return {NetworksDeleted: pruneNetworks(store, select)}
}

/** docker volume prune (`POST /volumes/prune`): filters label, label!. */
export async function volumesPrune(store: Store, filters: FilterArgs = new Map()): Promise<Pick<PruneReport, 'VolumesDeleted' | 'SpaceReclaimed'>> {
  const select = pruneSelector(filters, 'volumes')
  const {pruneVolumes} = await import('../volume/volumes.js')
  return pruneVolumes(store, select)
}

/** docker image prune (`POST /images/prune`): filters dangling (false: every unused image, -a), until, label, label!. */
export function imagesPrune(store: Store, filters: FilterArgs = new Map()): Pick<PruneReport, 'ImagesDeleted' | 'SpaceReclaimed'> {
  const select = pruneSelector(filters, 'images')
  const freed = pruneImages(store, {all: !danglingOnly(filters), select})
  return {ImagesDeleted: imagesDeleted(freed), SpaceReclaimed: freed.bytes}
}

export interface BuildCachePruneOptions {
  /** -a: shared entries too (those whose layer an image holds); else only the ones nothing else holds. */
  all?: boolean
  /** --keep-storage: bytes of cache to keep, least recently and least often used entries going first. */
  keepStorage?: number
  filters?: FilterArgs
}

/**
 * docker builder prune (`POST /build/prune`), as BuildKit prunes its records: without `all` only
 * the entries no image shares; `until` (or `unused-for`) a duration keeping what was used within it;
 * `keepStorage` stops once the cache no image shares is smaller than that; then the layers only
 * the pruned entries held go. The other filters of BuildKit's records: id (a substring), type,
 * description, inuse, shared, private; label and label! are taken and match nothing out, as in docker.
 */
export function buildCachePrune(store: Store, opts: BuildCachePruneOptions = {}): Pick<PruneReport, 'CachesDeleted' | 'SpaceReclaimed'> {
  const f = opts.filters ?? new Map()
  const keepMs = buildCacheKeep(f)
  const one = (k: string) => f.get(k)?.[0]
  const bool = (k: string) => (f.has(k) ? one(k) === '' || /^(1|true)$/i.test(one(k)!) : undefined)
  const entries = buildCacheUsage(store)
  const cutOff = Date.now() - (keepMs ?? 0)
  const candidates = entries.filter((e) => {
    if (!opts.all && e.shared) return false
    if (e.inUse) return false
    if (keepMs && e.lastUsedAt !== null && Date.parse(e.lastUsedAt) > cutOff) return false
    if (f.has('id') && !e.id.includes(one('id')!)) return false
    if (f.has('type') && one('type') !== 'regular') return false
    if (f.has('description') && e.description !== one('description')) return false
    if (bool('inuse') !== undefined && bool('inuse') !== e.inUse) return false
    if (bool('shared') !== undefined && bool('shared') !== e.shared) return false
    if (bool('private') !== undefined && bool('private') === e.shared) return false
    return f.has('parent') ? one('parent') === '' : true
  })
  let chosen = candidates
  if (opts.keepStorage) {
    let total = entries.filter((e) => !e.shared).reduce((n, e) => n + e.size, 0)
    chosen = []
    for (const e of leastUsedFirst(candidates)) {
      if (total < opts.keepStorage) break
      chosen.push(e)
      if (!e.shared) total -= e.size
    }
  }
  for (const e of chosen) removeBuildCacheEntry(store, e.id)
  const freed = chosen.length > 0 ? collectGarbage(store, {dryRun: false}) : undefined
  return {CachesDeleted: chosen.map((e) => e.id).sort(), SpaceReclaimed: freed?.bytes ?? 0}
}

/** The build prune's filters checked as docker's daemon checks them (its messages, under "failed to prune build cache: "); the until duration in ms. */
function buildCacheKeep(f: FilterArgs): number | undefined {
  const fail = (m: string) => NsxError.invalid(`failed to prune build cache: ${m}`)
  try {
    validateFilters(f, 'build')
  } catch (err) {
    throw fail((err as Error).message)
  }
  const until = f.get('until') ?? []
  const unusedFor = f.get('unused-for') ?? []
  if (until.length > 0 && unusedFor.length > 0) throw fail('conflicting filters: "until" and "unused-for"')
  const keys = [...until, ...unusedFor]
  if (keys.length > 1 || [...f].some(([k, vs]) => !['label', 'label!'].includes(k) && vs.length > 1)) throw fail('filters expect only one value')
  if (keys.length === 0) return undefined
  const ms = goDuration(keys[0])
  if (ms === undefined) throw fail(`"${unusedFor.length > 0 ? 'unused-for' : 'until'}" filter expects a duration (e.g., '24h'): time: invalid duration ${JSON.stringify(keys[0])}`)
  return ms
}

/** BuildKit's order for --keep-storage: the sum of each entry's rank by last use and by use count, least first. */
function leastUsedFirst(entries: DiskUsageCache[]): DiskUsageCache[] {
  const used = (e: DiskUsageCache) => (e.lastUsedAt === null ? 0 : Date.parse(e.lastUsedAt))
  const times = [...new Set(entries.map(used))].sort((a, b) => a - b)
  const counts = [...new Set(entries.map((e) => e.usageCount))].sort((a, b) => a - b)
  const score = (e: DiskUsageCache) => (times.indexOf(used(e)) + 1) / times.length + (counts.indexOf(e.usageCount) + 1) / counts.length
  return [...entries].sort((a, b) => score(a) - score(b) || used(a) - used(b) || a.id.localeCompare(b.id))
}

/**
 * docker system prune [-a] [--volumes] [--filter]: stopped containers, unused networks, (volumes,)
 * dangling or unused images, the build cache, in the docker CLI's order, each area given the
 * filters (and -a: dangling=false for images, all for the cache). until with --volumes is
 * refused before anything goes, as the docker CLI refuses it.
 */
export async function systemPrune(store: Store, opts: SystemPruneOptions = {}): Promise<PruneReport> {
  const filters = opts.filters ?? new Map()
  if (opts.volumes && filters.has('until')) throw NsxError.invalid('ERROR: The "until" filter is not supported with "--volumes"')
  const imageFilters: FilterArgs = new Map([...filters].filter(([k]) => k !== 'dangling'))
  imageFilters.set('dangling', [String(!opts.all)])
  // Every area's filters are checked before the first removes anything: a bad one removes nothing.
  pruneSelector(filters, 'containers')
  pruneSelector(imageFilters, 'images')
  if (opts.volumes) pruneSelector(filters, 'volumes')
  const containers = await containersPrune(store, filters)
  const networks = await networksPrune(store, filters)
  const volumes = opts.volumes ? await volumesPrune(store, filters) : {VolumesDeleted: [], SpaceReclaimed: 0}
  const images = imagesPrune(store, imageFilters)
  const cache = buildCachePrune(store, {all: opts.all, filters})
  return {
    ...containers, ...networks, ...volumes, ...images, ...cache,
    SpaceReclaimed: containers.SpaceReclaimed + volumes.SpaceReclaimed + images.SpaceReclaimed + cache.SpaceReclaimed,
  }
}

/**
 * What the docker CLI prints for a prune: each area's section when it has something ("Deleted
 * Containers:", the ids, a blank line), then the total reclaimed unless `total` is false (network
 * prune prints none).
 */
export function renderPrune(r: Partial<PruneReport>, opts: {total?: boolean} = {}): string {
  const section = (title: string, lines: string[] = []) => (lines.length > 0 ? `${title}:\n${lines.map((l) => `${l}\n`).join('')}\n` : '')
  return [
    section('Deleted Containers', r.ContainersDeleted),
    section('Deleted Networks', r.NetworksDeleted),
    section('Deleted Volumes', r.VolumesDeleted),
    section('Deleted Images', r.ImagesDeleted?.map((i) => ('Untagged' in i ? `untagged: ${i.Untagged}` : `deleted: ${i.Deleted}`))),
    section('Deleted build cache objects', r.CachesDeleted),
    opts.total === false ? '' : `Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`,
  ].join('')
}

/** What nsx gc did: the store's Freed, and the containers, network attachments and anonymous volumes swept. */
export interface GcReport extends Freed {
  containers: string[]
  volumes: string[]
  dryRun: boolean
  networks?: NetworkGcReport
}

/**
 * nsx gc, its four sweeps in order: what containers whose nsx was killed left (cgroups, upper
 * directories, pins); their network attachments (CNI DEL), leases nobody holds, a CHECK of the
 * live ones; the layers nothing uses and the leftovers of interrupted imports; the anonymous
 * volumes of --rm containers that died without their supervisor's cleanup. A dry run only reports
 * the layers and volumes.
 */
export async function collectSystemGarbage(store: Store, opts: {dryRun: boolean}): Promise<GcReport> {
  const [{sweepStale}, {gcNetworks}, {collectVolumes}] = await Promise.all([import('../container/sweep.js'), import('./container-network.js'), import('../volume/volumes.js')])
  const containers = opts.dryRun ? [] : sweepStale(store)
  const networks = opts.dryRun ? undefined : await gcNetworks(store)
  const freed = collectGarbage(store, opts)
  const vols = collectVolumes(store, opts)
  freed.bytes += vols.bytes
  return {...freed, containers, volumes: vols.volumes, dryRun: opts.dryRun, ...(networks ? {networks} : {})}
}
