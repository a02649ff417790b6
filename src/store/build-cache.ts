import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import {removeTree, type Store} from './store.js'

/**
 * nsx build's layer cache as the store keeps it: `build-cache/<key>.json`, one a cached step
 * (src/build/layer-cache.ts makes the key), with what docker system df -v shows of a BuildKit
 * record: when it was made, when it was last used and how often (a step made counts as its first
 * use; each build that takes it from the cache counts again), and what made it.
 */

export interface BuildCacheEntry {
  /** The layer the step made, or null for a step that made none. */
  diffId: string | null
  created: string
  /** Absent in entries of nsx before it kept them: read as `created` and 1. */
  lastUsed?: string
  usageCount?: number
  /** The step (`/bin/sh -c make`, `COPY file:... in /app`): BuildKit's Description. */
  description?: string
}

export const buildCacheDir = (store: Store) => join(store.root, 'build-cache')

/** Every entry, by key (its file name less `.json`), sorted. */
export function listBuildCache(store: Store): {id: string; entry: BuildCacheEntry}[] {
  let files: string[] = []
  try {
    files = readdirSync(buildCacheDir(store)).filter((f) => f.endsWith('.json')).sort()
  } catch {
    return []
  }
  const out: {id: string; entry: BuildCacheEntry}[] = []
  for (const f of files) {
    const entry = store.readJson<BuildCacheEntry>(join(buildCacheDir(store), f))
    if (entry) out.push({id: f.slice(0, -'.json'.length), entry})
  }
  return out
}

/** A step just made: its first use. */
export function recordCacheMade(store: Store, file: string, diffId: string | null, description: string): BuildCacheEntry {
  const now = new Date().toISOString()
  const entry: BuildCacheEntry = {diffId, created: now, lastUsed: now, usageCount: 1, description}
  store.writeJsonAtomic(file, entry)
  return entry
}

/**
 * A step taken from the cache: its last use now, its count one more (a rename of the whole
 * record; two builds taking the same step at the same instant may count it once).
 */
export function recordCacheUse(store: Store, file: string, entry: BuildCacheEntry): void {
  try {
    store.writeJsonAtomic(file, {...entry, lastUsed: new Date().toISOString(), usageCount: (entry.usageCount ?? 1) + 1})
  } catch {
    // a read-only store or one pruned meanwhile: the build goes on, the count does not matter to it
  }
}

export function removeBuildCacheEntry(store: Store, id: string): void {
  removeTree(join(buildCacheDir(store), `${id}.json`))
}
