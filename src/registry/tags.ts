import {NsxError} from '../cli/errors.js'
import {familiarName, Reference} from '../image/reference.js'
import {readBody} from './client.js'
import {fromSources, SourceOptions} from './sources.js'

/**
 * The tags of a repository (`GET /v2/NAME/tags/list`, following the `Link: <...>; rel="next"`
 * pages), asked through the mirrors of registries.conf like a pull: what `nsx pull --all-tags`
 * and the Engine API's pull without a tag fetch.
 */

const MAX_PAGES = 100

export async function listTags(ref: Reference, opts: SourceOptions): Promise<string[]> {
  const what = `tags of ${familiarName(ref)}`
  return fromSources(ref, opts, async (client, at) => {
    const tags: string[] = []
    let path: string | undefined = `/v2/${at.repository}/tags/list`
    for (let page = 0; path !== undefined && page < MAX_PAGES; page++) {
      const res = await client.request('GET', path, {scope: `repository:${at.repository}:pull`, what})
      const link = res.headers.link
      const body = await readBody(res, 16 << 20, what)
      let list: unknown
      try {
        list = (JSON.parse(body.toString('utf8')) as {tags?: unknown}).tags
      } catch {
        throw NsxError.internal(`${what}: the registry's answer is not JSON`)
      }
      if (list !== null && list !== undefined && (!Array.isArray(list) || list.some((t) => typeof t !== 'string'))) throw NsxError.internal(`${what}: the registry's tag list is malformed`)
      tags.push(...((list as string[] | null) ?? []))
      const next = typeof link === 'string' ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1] : undefined
      path = next
    }
    return tags
  })
}
