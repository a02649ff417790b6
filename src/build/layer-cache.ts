import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync} from 'node:fs'
import {join} from 'node:path'
import {readLayerMeta} from '../store/layers.js'
import {removeTree, shortId, Store} from '../store/store.js'
import {mountPointFilter, storeDirAsLayer} from '../store/commit-layer.js'
import type {StageState} from './stage.js'

/**
 * The build cache: a step that may make a layer (RUN, COPY, ADD, WORKDIR) is cached under a key
 * of everything it depends on (the layers below it, the config it runs with, the instruction
 * expanded, and what else the step names, such as the copied files' digest).
 */

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** What a layer step needs of the build: its scratch directory, the cache, where lines go. */
export interface LayerStepContext {
  scratch: string
  cacheDir: string
  noCache: boolean
  log: (l: string) => void
}

interface CacheEntry {
  diffId: string | null
  created: string
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
  const hit = c.noCache ? undefined : store.readJson<CacheEntry>(cacheFile)
  if (hit && (hit.diffId === null || readLayerMeta(store, hit.diffId))) {
    c.log(`--> Using cache ${key.slice(0, 12)}`)
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
    const entry: CacheEntry = {diffId: stored?.diffId ?? null, created: new Date().toISOString()}
    store.writeJsonAtomic(cacheFile, entry)
    apply(st, entry, createdBy)
    c.log(`--> ${stored ? shortId(stored.diffId) : 'no change'}`)
    return {cached: false, layer: stored?.diffId}
  } finally {
    removeTree(step)
  }
}

function apply(st: StageState, e: CacheEntry, createdBy: string): void {
  if (e.created > st.created) st.created = e.created
  if (e.diffId) st.layers.push(e.diffId)
  st.history.push({created: e.created, created_by: createdBy, ...(e.diffId ? {} : {empty_layer: true}), comment: 'nsx build'})
}
