import {NsxError} from '../cli/errors.js'
import type {Reference} from '../image/reference.js'
import {RegistryClient, RegistryError} from './client.js'
import type {Credentials} from './credentials.js'
import {Attempt, pullFailure} from './pull-error.js'
import {loadRegistriesConf, PullSource, pullSources} from './registries-conf.js'

/**
 * Reading from a registry through its mirrors (registries.conf): each source in turn, the
 * registry itself last, as podman and docker do; the first that succeeds gives the answer, and
 * when none does the failure is told in docker's words (pull-error.ts). The reference keeps its
 * own name: only where it is fetched from changes.
 */

export interface SourceOptions {
  /** false: plain HTTP or unverified TLS allowed for every source. */
  tlsVerify?: boolean
  authFile?: string
  /** Given by the caller (the Engine API's X-Registry-Auth): sent to whichever source is asked, as docker does. */
  credentials?: Credentials
  signal?: AbortSignal
  /** Where registries.conf is looked for (CONTAINERS_REGISTRIES_CONF, HOME); default process.env. */
  env?: NodeJS.ProcessEnv
}

/** The reference as named at a source (a mirror's host and path). */
export function atSource(ref: Reference, s: PullSource): Reference {
  return {registry: s.registry, repository: s.repository, tag: ref.tag, digest: ref.digest}
}

/** After MANIFEST_UNKNOWN: is it the whole repository that is missing (no tag list, or an empty one)? */
async function repositoryMissing(client: RegistryClient, at: Reference): Promise<boolean> {
  try {
    const res = await client.request('GET', `/v2/${at.repository}/tags/list?n=1`, {scope: `repository:${at.repository}:pull`, accept: [404], what: 'tags'})
    const body = await new Promise<string>((resolve, reject) => {
      let s = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        s += c
        if (s.length > 1 << 16) res.destroy()
      })
      res.on('end', () => resolve(s))
      res.on('error', reject)
      res.on('close', () => resolve(s))
    })
    if (res.statusCode === 404) return true
    const tags = (JSON.parse(body) as {tags?: unknown}).tags
    return !Array.isArray(tags) || tags.length === 0
  } catch {
    return false
  }
}

export async function fromSources<T>(ref: Reference, opts: SourceOptions, attempt: (client: RegistryClient, at: Reference, source: PullSource) => Promise<T>): Promise<T> {
  const sources = pullSources(loadRegistriesConf(opts.env), ref)
  const attempts: Attempt[] = []
  for (const source of sources) {
    if (opts.signal?.aborted) break
    const client = new RegistryClient(source.registry, {tlsVerify: source.insecure ? false : opts.tlsVerify, authFile: opts.authFile, credentials: opts.credentials})
    const at = atSource(ref, source)
    try {
      return await attempt(client, at, source)
    } catch (err) {
      if (opts.signal?.aborted) throw err
      const a: Attempt = {source, err}
      if (err instanceof RegistryError && err.code === 'MANIFEST_UNKNOWN') a.repositoryMissing = await repositoryMissing(client, at)
      attempts.push(a)
    } finally {
      client.close()
    }
  }
  if (attempts.length === 0) throw NsxError.internal('cancelled')
  throw pullFailure(ref, attempts)
}
