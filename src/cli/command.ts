import {Command, Flags, Interfaces} from '@oclif/core'
import {reportError} from './errors.js'
import {packageVersion} from './version.js'

/** oclif's FlagOutput and ArgOutput, which its index does not export. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Output = {[name: string]: any}

/**
 * Base of every nsx command: `--json` where the command sets enableJsonFlag,
 * and every failure reduced to one line on stderr with the right exit code.
 */
export abstract class NsxCommand extends Command {
  /** Exit code for nsx's own failures: 1 for inspection commands, 125 for enter/unshare/run. */
  static failureExitCode = 1

  /** -V on every command, as util-linux's tools have it (the fast paths answer it before oclif loads). */
  static override baseFlags = {
    version: Flags.boolean({char: 'V', description: 'Print the version and exit', helpGroup: 'GLOBAL'}),
  }

  protected override async parse<F extends Output, B extends Output, A extends Output>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    // Before oclif's parse, which would first complain of a missing argument (`nsx stop -V`). A
    // command that passes other words on (strict = false) has it only as its first word.
    const words = argv ?? this.argv
    const end = words.indexOf('--')
    const strict = (this.constructor as typeof Command).strict !== false
    const isVersion = (w: string) => w === '-V' || w === '--version'
    if (strict ? words.slice(0, end < 0 ? words.length : end).some(isVersion) : isVersion(words[0] ?? '')) this.printVersion()
    const parsed = await super.parse(options, argv)
    if ((parsed.flags as {version?: boolean}).version) this.printVersion()
    return parsed
  }

  private printVersion(): never {
    process.stdout.write(`nsx ${this.id ?? ''} ${packageVersion()}\n`)
    return this.exit(0)
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    // oclif's --help/--version exits travel as errors with exit code 0.
    const oclif = (err as {oclif?: {exit?: number}}).oclif
    if (oclif?.exit === 0) throw err
    const failure = (this.constructor as typeof NsxCommand).failureExitCode
    process.exitCode = reportError(err, `nsx ${(this.id ?? '').replaceAll(':', ' ')}`.trim(), failure)
    return undefined
  }
}
