import {NsxError, debugEnabled, describeError} from './errors.js'
import {GetoptError} from './getopt.js'

/**
 * The fast paths of the inspection commands (ls, pstree, inspect, uidmap): bin/nsx calls them
 * before loading oclif, which would cost more than the work itself. What they share: how a
 * failure becomes one line on stderr and exit 1, and how output is written.
 */
export type FastOutcome = {kind: 'help'} | {kind: 'oclif'} | {kind: 'done'; exitCode: number}

/** Thrown by a fast path's body for --help: oclif prints the help. */
export const HELP = Symbol('help')

/**
 * Thrown by a fast path's body for what only the oclif command can do (a container's name
 * where a pid goes: resolving it takes the container domain, which the inspection domains
 * stand below): bin/nsx hands the whole command line over to oclif.
 */
export const VIA_OCLIF = Symbol('via-oclif')

export async function runFast(command: string, body: () => Promise<void | number> | void | number): Promise<FastOutcome> {
  try {
    // A body may answer its own exit status (nsx audit --fail-on); otherwise success is 0.
    const status = await body()
    return {kind: 'done', exitCode: typeof status === 'number' ? status : 0}
  } catch (err) {
    if (err === HELP) return {kind: 'help'}
    if (err === VIA_OCLIF) return {kind: 'oclif'}
    // A usage error, not nsx's failure: one line, exit 1, as oclif's would be.
    const {line, exitCode} = describeError(err instanceof GetoptError ? new NsxError(err.message) : err, 1)
    process.stderr.write(`nsx ${command}: ${line}\n`)
    if (debugEnabled() && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`)
    return {kind: 'done', exitCode}
  }
}

/** Write all of it; a reader that went away (`nsx ls | head`) ends nsx quietly, as it ends lsns. */
export function writeOut(text: string): Promise<void> {
  return new Promise((resolve) => {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0)
      throw err
    })
    process.stdout.write(text, () => resolve())
  })
}
