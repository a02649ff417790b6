import {readdirSync, rmSync, writeFileSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import {hexOf, shortId, Store} from './store.js'

/**
 * Layers stored on their own (`nsx load --layer`) are kept until removed (`nsx rmi LAYER`):
 * a mark per layer, kept/<hex>, is a root of gc's mark and sweep like an image. A stored
 * layer is named by its digest (sha256:HEX) or a unique prefix of its hex, as images are.
 */

const keptDir = (store: Store) => join(store.root, 'kept')

export function keepLayer(store: Store, diffId: string): void {
  mkdirSync(keptDir(store), {recursive: true, mode: 0o700})
  writeFileSync(join(keptDir(store), hexOf(diffId)), `${diffId}\n`, {mode: 0o600})
}

export function releaseLayer(store: Store, diffId: string): void {
  rmSync(join(keptDir(store), hexOf(diffId)), {force: true})
}

export function keptLayers(store: Store): string[] {
  try {
    return readdirSync(keptDir(store))
      .filter((n) => /^[0-9a-f]{64}$/.test(n))
      .map((n) => `sha256:${n}`)
  } catch {
    return []
  }
}

/** Whether REF looks like a layer digest or digest prefix (not a path or a name). */
export const looksLikeDigest = (ref: string) => /^(sha256:)?[0-9a-f]{4,64}$/.test(ref)

/** The stored layer REF names (sha256:HEX or a unique hex prefix of at least 4), or undefined. */
export function findStoredLayer(store: Store, ref: string, among: string[] = store.listDigests('layers')): string | undefined {
  if (!looksLikeDigest(ref)) return undefined
  const hex = ref.startsWith('sha256:') ? ref.slice(7) : ref
  const hits = among.filter((d) => hexOf(d).startsWith(hex))
  if (hits.length > 1) throw NsxError.invalid(`layer id prefix '${ref}' is ambiguous (${hits.map(shortId).join(', ')})`)
  return hits[0]
}
