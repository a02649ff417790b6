import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync} from 'node:fs'
import {join} from 'node:path'
import {type BuildCacheEntry, recordCacheMade, recordCacheUse} from '../store/build-cache.js'
import {readLayerMeta} from '../store/layers.js'
import {removeTree, shortId, Store} from '../store/store.js'
import {mountPointFilter, storeDirAsLayer} from '../store/commit-layer.js'
import type {History, StageState} from './stage.js'

/**
 * The build cache: a step that may make a layer (RUN, COPY, ADD, WORKDIR) is cached under a key
 * of everything it depends on (the layers below it, the config it runs with, the instruction
 * expanded, and what else the step names, such as the copied files' digest); a step that only
 * changes the config (ENV, LABEL, ARG, CMD, ...) under the state before it and the config after
 * it, so an unchanged rebuild says "Using cache" for every step after FROM, as docker's classic
 * builder does. With --cache-from (the Engine API's cachefrom) the local cache is not used:
 * only the images named are cache sources (moby's ImageCache): a step is cached when one of
 * them was built by the same steps so far and has this step next.
 */

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** What a layer step needs of the build: its scratch directory, the cache, where lines go. */
export interface LayerStepContext {
  scratch: string
  cacheDir: string
  noCache: boolean
  log: (l: string) => void
  /** --cache-from's images, when any was given: the only cache sources. */
  cacheFrom?: CacheImage[]
}

/** An image named by --cache-from: its layers and its history, one entry per step. */
export interface CacheImage {
  layers: string[]
  history: History[]
}

/** The roots of a stage's layers in the store, lowest first. */
export function storeRoots(store: Store, st: StageState): string[] {
  return st.layers.map((l) => store.layerRoot(l))
}

/** A step that may make a layer: from the cache when its key is there, else made by fill(). */
export async function layerStep(
  store: Store,
  st: StageState,
  c: LayerStepContext,
  createdBy: string,
  extra: Record<string, unknown>,
  fill: (layer: string, work: string) => Promise<void>,
): Promise<{cached: boolean; layer?: string}> {
  const key = sha256(JSON.stringify({v: 1, layers: st.layers, env: st.config.Env, user: st.config.User, shell: st.config.Shell, createdBy, ...extra}))
  const cacheFile = join(c.cacheDir, `${key}.json`)
  if (!c.noCache && c.cacheFrom) {
    const src = fromCacheImages(store, st, createdBy, c.cacheFrom)
    if (src) {
      c.log(`--> Using cache ${src.layer ? shortId(src.layer) : key.slice(0, 12)}`)
      return {cached: true, layer: src.layer}
    }
  }
  const hit = c.noCache || c.cacheFrom ? undefined : store.readJson<BuildCacheEntry>(cacheFile)
  if (hit && (hit.diffId === null || readLayerMeta(store, hit.diffId))) {
    c.log(`--> Using cache ${key.slice(0, 12)}`)
    recordCacheUse(store, cacheFile, hit)
    apply(st, hit, createdBy)
    return {cached: true, layer: hit.diffId ?? undefined}
  }
  const step = mkdtempSync(join(c.scratch, 'step-'))
  const layer = join(step, 'layer')
  const work = join(step, 'work')
  mkdirSync(layer, {mode: 0o755})
  mkdirSync(work, {mode: 0o700})
  try {
    await fill(layer, work)
    const stored = await storeDirAsLayer(store, layer, step, createdBy.slice(0, 60), mountPointFilter(layer, storeRoots(store, st)), true)
    const entry = recordCacheMade(store, cacheFile, stored?.diffId ?? null, createdBy)
    apply(st, entry, createdBy)
    c.log(`--> ${stored ? shortId(stored.diffId) : 'no change'}`)
    return {cached: false, layer: stored?.diffId}
  } finally {
    removeTree(step)
  }
}

function apply(st: StageState, e: BuildCacheEntry, createdBy: string): void {
  if (e.created > st.created) st.created = e.created
  if (e.diffId) st.layers.push(e.diffId)
  st.history.push({created: e.created, created_by: createdBy, ...(e.diffId ? {} : {empty_layer: true}), comment: 'nsx build'})
}

/**
 * A step that only changes the config (its change already applied to st.config): its history
 * entry, and whether it was cached: the same step on the same state before (a marker in the
 * cache), or, with --cache-from, next in one of those images.
 */
export function configStep(store: Store, st: StageState, c: LayerStepContext, createdBy: string): {cached: boolean} {
  if (!c.noCache && c.cacheFrom) {
    const before = st.history.length
    if (fromCacheImages(store, st, createdBy, c.cacheFrom, true)) {
      c.log(`--> Using cache ${sha256(JSON.stringify(st.history.slice(0, before + 1))).slice(0, 12)}`)
      return {cached: true}
    }
  }
  const key = sha256(JSON.stringify({v: 1, step: 'config', layers: st.layers, history: st.history, config: st.config, createdBy}))
  const file = join(c.cacheDir, `${key}.json`)
  const hit = !c.noCache && !c.cacheFrom ? store.readJson<BuildCacheEntry>(file) : undefined
  const cached = hit !== undefined
  if (hit) {
    c.log(`--> Using cache ${key.slice(0, 12)}`)
    recordCacheUse(store, file, hit)
  } else recordCacheMade(store, file, null, createdBy)
  st.history.push({created: st.created, created_by: createdBy, empty_layer: true})
  return {cached}
}

const sameEntry = (a: History, b: History) =>
  (a.created ?? '') === (b.created ?? '') && (a.created_by ?? '') === (b.created_by ?? '') && !!a.empty_layer === !!b.empty_layer && (a.comment ?? '') === (b.comment ?? '') && (a.author ?? '') === (b.author ?? '')

/**
 * moby's ImageCache.GetCache over --cache-from's images: one whose history and layers start
 * with the stage's so far and whose next history entry is this step (its created_by, which
 * names what the step depends on) gives the step: its history entry and, for a step that made
 * one, its next layer. As moby, the first match narrows the sources to that image.
 */
function fromCacheImages(store: Store, st: StageState, createdBy: string, sources: CacheImage[], configOnly = false): {layer?: string} | undefined {
  const n = st.history.length
  for (const src of sources) {
    if (src.history.length <= n || src.layers.length < st.layers.length) continue
    if (!st.history.every((h, i) => sameEntry(h, src.history[i])) || !st.layers.every((l, i) => l === src.layers[i])) continue
    const h = src.history[n]
    if (h.created_by !== createdBy || (configOnly && !h.empty_layer)) continue
    const layer = h.empty_layer ? undefined : src.layers[st.layers.length]
    if (!h.empty_layer && (layer === undefined || !readLayerMeta(store, layer))) continue
    if (layer) st.layers.push(layer)
    st.history.push({...h})
    if (h.created && h.created > st.created) st.created = h.created
    sources.splice(0, sources.length, src)
    return {layer}
  }
  return undefined
}
