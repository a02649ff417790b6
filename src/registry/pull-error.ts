import {NsxError} from '../cli/errors.js'
import {familiarName, familiarRef, Reference} from '../image/reference.js'
import {RegistryError, RegistryUnreachable} from './client.js'
import type {PullSource} from './registries-conf.js'

/**
 * Why a pull (or a distribution inspect) failed, in dockerd's words (moby's
 * distribution/errors.go, TranslatePullError), with its status:
 *
 * - the registry has no such repository: "pull access denied for NAME, repository does not
 *   exist or may require 'docker login': CODE: MESSAGE", 404. Docker Hub answers DENIED for a
 *   repository it does not have, and that is the sentence docker users (and clients such as
 *   docker-py, which raises ImageNotFound on it) know; a distribution registry answers
 *   NAME_UNKNOWN, or MANIFEST_UNKNOWN for both a missing repository and a missing tag, so nsx
 *   asks its tag list which it is (`repositoryMissing`).
 * - the repository is there but not the tag or digest: "manifest for NAME:TAG not found:
 *   manifest unknown: MESSAGE", 404.
 * - no answer: Go's "Get \"https://HOST/v2/\": dial tcp ...: connection refused", 500, as
 *   dockerd answers a dial error (errdefs.Unknown).
 *
 * With mirrors, each source is tried in turn and the registry itself last. Like docker and
 * podman, the registry's own answer is the one reported, and the mirrors' failures are
 * appended; one exception: when the registry could not be reached and a mirror said the image
 * does not exist, the mirror's answer is reported (with the registry's failure appended), since
 * it is the only answer any registry gave.
 */

export class PullError extends NsxError {
  constructor(
    message: string,
    /** The Engine API's status for it: 404 not found, 500 otherwise. */
    readonly status: 404 | 500,
  ) {
    super(message, 1, status === 404 ? 'not-found' : 'internal')
  }
}

export interface Attempt {
  source: PullSource
  err: unknown
  /** Asked after a MANIFEST_UNKNOWN: the registry has no tag at all under this name. */
  repositoryMissing?: boolean
}

type Kind = 'repository' | 'manifest' | 'unreachable' | 'other'

function kindOf(a: Attempt): Kind {
  const e = a.err
  if (e instanceof RegistryUnreachable) return 'unreachable'
  if (!(e instanceof RegistryError)) return 'other'
  if (e.code === 'DENIED' || e.code === 'NAME_UNKNOWN' || (e.code === 'MANIFEST_UNKNOWN' && a.repositoryMissing)) return 'repository'
  if (e.code === 'MANIFEST_UNKNOWN') return 'manifest'
  return 'other'
}

/** errcode.Error's own Error(): the code in lower case with spaces, then the registry's message. */
function cause(e: RegistryError): string {
  const code = (e.code ?? 'unknown').toLowerCase().replace(/_/g, ' ')
  return `${code}: ${e.registryMessage ?? code}`
}

function notFoundMessage(ref: Reference, a: Attempt, kind: 'repository' | 'manifest'): string {
  const e = a.err as RegistryError
  return kind === 'repository'
    ? `pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ${cause(e)}`
    : `manifest for ${familiarRef(ref)} not found: ${cause(e)}`
}

const where = (a: Attempt) => `${a.source.mirror ? 'mirror ' : ''}${a.source.registry}`
const short = (a: Attempt) => (a.err instanceof Error ? a.err.message : String(a.err))

/** The one error of a failed pull from every source tried (the registry's own attempt last). */
export function pullFailure(ref: Reference, attempts: Attempt[]): Error {
  const primary = attempts[attempts.length - 1]
  const mirrors = attempts.slice(0, -1)
  const pk = kindOf(primary)
  if (pk === 'repository' || pk === 'manifest') return new PullError(notFoundMessage(ref, primary, pk), 404)
  if (pk === 'unreachable') {
    const answered = mirrors.find((m) => kindOf(m) === 'repository') ?? mirrors.find((m) => kindOf(m) === 'manifest')
    if (answered) {
      const k = kindOf(answered) as 'repository' | 'manifest'
      return new PullError(`${notFoundMessage(ref, answered, k)} (at ${where(answered)}; ${primary.source.registry} not reached: ${short(primary)})`, 404)
    }
  }
  const also = mirrors.length > 0 ? ` (mirrors also failed: ${mirrors.map((m) => `${where(m)}: ${short(m)}`).join('; ')})` : ''
  if (pk === 'unreachable') return new PullError(`${short(primary)}${also}`, 500)
  if (also === '') return primary.err instanceof Error ? primary.err : NsxError.internal(String(primary.err))
  const e = primary.err
  return e instanceof NsxError ? new NsxError(`${e.message}${also}`, e.exitCode, e.kind ?? 'internal') : NsxError.internal(`${short(primary)}${also}`)
}
