/**
 * What kind of failure an error is, the one fact the Engine API answers a status from (docker's
 * errdefs: NotFound, InvalidParameter, Conflict, Forbidden, Unauthorized, Unavailable,
 * NotImplemented, System). The CLI's exit code is chosen apart from it.
 */
export type ErrorKind = 'not-found' | 'invalid' | 'conflict' | 'forbidden' | 'unauthorized' | 'unavailable' | 'unsupported' | 'internal'

/** The Engine API's status for each kind, as dockerd's `httpstatus.FromError` answers for errdefs. */
export const STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  'not-found': 404,
  invalid: 400,
  conflict: 409,
  forbidden: 403,
  unauthorized: 401,
  unavailable: 503,
  unsupported: 501,
  internal: 500,
}

/**
 * Errors meant for the user: one line on stderr, a chosen exit code, no stack.
 * Anything else that escapes a command is a bug and is reported as an internal error.
 * Every error the Engine API can meet carries a kind (`NsxError.notFound(...)` and its siblings, or
 * the third argument); an error without one is answered 500, as dockerd answers an untyped error,
 * and test/unit/error-kinds.test.ts fails on a throw site the API reaches that gives none.
 */
export class NsxError extends Error {
  readonly exitCode: number
  readonly kind: ErrorKind | undefined

  constructor(message: string, exitCode = 1, kind?: ErrorKind) {
    super(message)
    this.name = 'NsxError'
    this.exitCode = exitCode
    this.kind = kind
  }

  /** No such container, image, network, volume, exec instance, path (404). */
  static notFound(message: string, exitCode = 1): NsxError {
    return new NsxError(message, exitCode, 'not-found')
  }

  /** A bad argument, option, name, reference or file given by the caller (400). */
  static invalid(message: string, exitCode = 1): NsxError {
    return new NsxError(message, exitCode, 'invalid')
  }

  /** The object's state forbids the verb, or the name is taken (409). */
  static conflict(message: string, exitCode = 1): NsxError {
    return new NsxError(message, exitCode, 'conflict')
  }

  /** Valid, but not allowed on this object (a pre-defined network) (403). */
  static forbidden(message: string, exitCode = 1): NsxError {
    return new NsxError(message, exitCode, 'forbidden')
  }

  /** A registry refused the credentials (401). */
  static unauthorized(message: string, exitCode = 1): NsxError {
    return new NsxError(message, exitCode, 'unauthorized')
  }

  /** Something needed is not reachable now: a registry, a socket (503). */
  static unavailable(message: string, exitCode = 1): NsxError {
    return new NsxError(message, exitCode, 'unavailable')
  }

  /** A feature nsx does not have (501). */
  static unsupported(message: string, exitCode = 1): NsxError {
    return new NsxError(message, exitCode, 'unsupported')
  }

  /** nsx itself failed: a system call, the executor, a corrupt store entry (500). */
  static internal(message: string, exitCode = 1): NsxError {
    return new NsxError(message, exitCode, 'internal')
  }

  /**
   * A new message for a caught error, of the same kind (an untyped error's is internal) and, unless
   * given, the same exit code: `throw NsxError.from(err, \`FROM ${base}: ${err.message}\`)`.
   */
  static from(cause: unknown, message: string, exitCode?: number): NsxError {
    const inner = cause instanceof NsxError ? cause : undefined
    return new NsxError(message, exitCode ?? inner?.exitCode ?? 1, inner?.kind ?? 'internal')
  }
}

/** The kind of any thrown value: an NsxError's own, else undefined (an untyped error). */
export function kindOf(err: unknown): ErrorKind | undefined {
  return err instanceof NsxError ? err.kind : undefined
}

/** Why a file could not be read or opened, in a few words ("no such file", "is a directory", "permission denied"), else the error's own message. */
export function fileErrorReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (e?.code === 'ENOENT') return 'no such file'
  if (e?.code === 'EISDIR') return 'is a directory'
  if (e?.code === 'EACCES') return 'permission denied'
  return e instanceof Error ? e.message : String(err)
}

/** Exit codes shared by enter/unshare/run, as nsenter and docker use them. */
export const EXIT = {
  ok: 0,
  failure: 1,
  nsxFailure: 125,
  cannotExecute: 126,
  notFound: 127,
} as const

export function debugEnabled(): boolean {
  const v = process.env.NSX_DEBUG
  return v !== undefined && v !== '' && v !== '0'
}

interface OclifLikeError {
  message?: string
  oclif?: {exit?: number}
  code?: string
}

/** Turn any thrown value into one line and an exit code. */
export function describeError(err: unknown, failureExitCode = 1): {line: string; exitCode: number} {
  if (err instanceof NsxError) return {line: err.message, exitCode: err.exitCode}
  const e = (err ?? {}) as OclifLikeError
  const message = typeof e.message === 'string' ? e.message : String(err)
  // oclif's parse errors are several lines ("... See more help with --help"); the first one says it.
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l.length > 0)
  // oclif's missing required flag: "The following error occurred:" then "Missing required flag output".
  if (/^The following errors? occurred:$/.test(lines[0] ?? '') && lines[1] !== undefined) lines.shift()
  let first = lines[0] ?? 'unknown error'
  first = first.replace(/^Missing required flag ([\w-]+)$/, 'Missing required flag --$1')
  // oclif's "Missing 2 required args:" names each argument on a line of its own ("a  description",
  // its description's continuation indented), then "See more help with --help".
  if (first.endsWith(':') && lines[1] !== undefined) {
    const names = message.split('\n').slice(message.split('\n').findIndex((l) => l.trim() === first) + 1).filter((l) => /^\S/.test(l) && !/^See more help/.test(l))
    first = `${first} ${(names.length > 0 ? names : [lines[1]]).map((l) => l.split(/\s{2,}/)[0]).join(', ')}`
  }
  const oclifExit = e.oclif?.exit
  // Usage errors from oclif (unknown flag, missing argument): the command's failure code.
  if (typeof oclifExit === 'number') return {line: first, exitCode: oclifExit === 0 ? 0 : failureExitCode}
  return {line: `internal error: ${first} (set NSX_DEBUG=1 for a stack trace)`, exitCode: failureExitCode}
}

/** Print one line for err and set the exit code; a stack only when debugging. */
export function reportError(err: unknown, prefix = 'nsx', failureExitCode = 1): number {
  const {line, exitCode} = describeError(err, failureExitCode)
  if (line) process.stderr.write(`${prefix}: ${line.replace(/^Error: /, '')}\n`)
  if (debugEnabled() && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`)
  return exitCode
}
