import {NsxError} from '../cli/errors.js'
import {formatBytes} from '../image/size.js'
import {importLayer, loadImage, LoadResult, ResolvedLayer} from './import.js'
import {keepLayer} from './kept-layers.js'
import {shortId, Store} from './store.js'

/** nsx load: an image (OCI layout or docker archive) and single layer files into the store. */

export interface LoadOutput {
  store: string
  image: LoadResult | null
  layers: ResolvedLayer[]
}

export interface LoadOptions {
  /** The image PATH[:TAG], as an argument or as docker load's -i (not both). */
  image?: string
  input?: string
  /** Layer files (tar, tar.gz, tar.zst) or directories. */
  layers: readonly string[]
}

/** Loads under the store's shared lock; `say` gets each line of progress (a layer, the image). */
export async function loadIntoStore(o: LoadOptions, say: (line: string) => void = () => {}): Promise<LoadOutput> {
  if (o.image !== undefined && o.input !== undefined) throw new NsxError('give the image once: as an argument or with -i, not both')
  const image = o.image ?? o.input
  if (image === undefined && o.layers.length === 0) throw new NsxError('nothing to load: give an image PATH[:TAG] or --layer PATH')
  const store = Store.open()
  store.lock('shared')
  const out: LoadOutput = {store: store.root, image: null, layers: []}
  if (image !== undefined) {
    const r = await loadImage(store, image)
    out.image = r
    for (const l of r.layers) say(`layer ${shortId(l.diffId)}: ${l.reused ? 'already stored' : `extracted, ${formatBytes(l.size)}`}\n`)
    say(`Loaded image ${r.names.length > 0 ? r.names.join(', ') : '<untagged>'} (${r.id})\n`)
  }
  for (const p of o.layers) {
    const r = await importLayer(store, p)
    out.layers.push(r)
    if (r.kind === 'dir') say(`${p}: a directory, used in place (not copied into the store)\n`)
    else {
      // Kept until nsx rmi names it: a layer loaded on its own is not gc's to take.
      keepLayer(store, r.diffId)
      say(`Loaded layer ${r.diffId}${r.reused ? ' (already stored)' : ''}\n`)
    }
  }
  return out
}
