import {NsxError} from '../cli/errors.js'
import {findImage} from '../store/images.js'
import {Store} from '../store/store.js'
import type {PullOptions} from './pull.js'
import {parseReference} from '../image/reference.js'

/**
 * The image a container verb names, pulled first when the store does not have it (docker
 * run's "Unable to find image locally"). The caller holds the store lock (shared).
 */
export async function ensureImage(store: Store, ref: string, opts: Omit<PullOptions, 'reference'> = {}): Promise<{id: string; pulled: boolean}> {
  let notFound: unknown
  try {
    return {id: findImage(store, ref).id, pulled: false}
  } catch (err) {
    notFound = err
  }
  try {
    parseReference(ref)
  } catch {
    throw notFound // not a registry reference either: the store's "no such image" says it best
  }
  if (!(notFound instanceof NsxError) || notFound.kind !== 'not-found') throw notFound
  try {
    // Said once the registry has the image, so a failure stays one line.
    // Loaded only when a pull is needed: the HTTP client is most of a cached build's start-up.
    const {pullImage} = await import('./pull.js')
    const r = await pullImage(store, {...opts, reference: ref, announce: opts.quiet ? undefined : `nsx: unable to find image '${ref}' locally; pulling it\n`})
    return {id: r.id, pulled: true}
  } catch (err) {
    // Both halves matter: what the store has, and why the registry could not supply it.
    if (err instanceof NsxError) throw NsxError.from(notFound, `${notFound.message}; pulling it failed: ${err.message}`, err.exitCode)
    throw err
  }
}
