import {Command} from '@oclif/core'
import {reportError} from './errors.js'

/**
 * Base of every nsx command: `--json` where the command sets enableJsonFlag,
 * and every failure reduced to one line on stderr with the right exit code.
 */
export abstract class NsxCommand extends Command {
  /** Exit code for nsx's own failures: 1 for inspection commands, 125 for enter/unshare/run. */
  static failureExitCode = 1

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    // oclif's --help/--version exits travel as errors with exit code 0.
    const oclif = (err as {oclif?: {exit?: number}}).oclif
    if (oclif?.exit === 0) throw err
    const failure = (this.constructor as typeof NsxCommand).failureExitCode
    process.exitCode = reportError(err, `nsx ${this.id ?? ''}`.trim(), failure)
    return undefined
  }
}
