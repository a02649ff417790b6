import {CommandHelp, Help} from '@oclif/core'
import {NsxError} from './errors.js'
import {exitStatusOf, ExitStatusEntry} from './exit-status.js'
import {unknownCommandMessage} from './suggest.js'

/**
 * oclif's help (package.json oclif.helpClass) with an EXIT STATUS section after the others,
 * from the command's `exitStatus` (src/cli/exit-status.ts), the same data the man page's
 * EXIT STATUS section is made from.
 */
class NsxCommandHelp extends CommandHelp {
  protected override sections(): ReturnType<CommandHelp['sections']> {
    return [
      ...super.sections(),
      {
        header: 'EXIT STATUS',
        generate: () => this.renderList(exitStatusOf(this.command as {exitStatus?: readonly ExitStatusEntry[]}).map((e) => [e.code, e.meaning]), {indentation: 2, spacer: '\n', stripAnsi: this.opts.stripAnsi}),
      },
    ]
  }
}

export default class NsxHelp extends Help {
  protected override CommandHelpClass = NsxCommandHelp

  /** `nsx stpo --help`, `nsx help stpo`: the same one line as `nsx stpo`, with the closest commands. */
  override async showHelp(argv: string[]): Promise<void> {
    const words = argv.filter((a) => !a.startsWith('-'))
    const typed = words[0]
    if (typed !== undefined && this.config.findCommand(words.join(':')) === undefined && this.config.findCommand(typed) === undefined && this.config.findTopic(typed) === undefined) {
      throw new NsxError(unknownCommandMessage(typed, this.config.commandIDs, this.config.bin))
    }
    await super.showHelp(argv)
  }

  /** `nsx --help`, `nsx help`: the command list, then what exit codes mean across commands (as nsx(1)). */
  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    this.log(this.section('EXIT STATUS', this.wrap(ROOT_EXIT_STATUS, 2)))
    this.log('')
  }
}

const ROOT_EXIT_STATUS =
  "Inspection commands exit 0 on success and 1 on failure. enter, unshare and run exit with the command's status, 125 when nsx itself fails, 126 when the command cannot be executed and 127 when it is not found. Each command's --help says which applies."
