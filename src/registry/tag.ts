import {findImage, updateRepositories} from '../store/images.js'
import {Store} from '../store/store.js'
import {familiarRef, parseReference} from '../image/reference.js'
import {NsxError} from '../cli/errors.js'
import {recordImageEvent} from '../store/events.js'

export interface TagOptions {
  /** A stored image: name[:tag], id or id prefix. */
  source: string
  /** The new name: a reference with a tag (default latest), no digest. */
  target: string
}

export interface TagResult {
  id: string
  name: string
  /** The image the name pointed to before, if another. */
  replaced?: string
}

/** nsx tag: one more name for a stored image (docker's short form, as pull records names). */
export function tagImage(store: Store, opts: TagOptions): TagResult {
  const {id} = findImage(store, opts.source)
  const ref = parseReference(opts.target)
  if (ref.digest) throw NsxError.invalid(`tag ${opts.target}: a tag cannot contain a digest`)
  const name = familiarRef(ref)
  const replaced = updateRepositories(store, (repos) => {
    const before = repos[name]
    repos[name] = id
    return before !== undefined && before !== id ? before : undefined
  })
  recordImageEvent(store, 'tag', id, {name, imageId: id})
  return {id, name, replaced}
}
