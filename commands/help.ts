import {Args, loadHelpClass} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'

export default class HelpCommand extends NsxCommand {
  static override summary = 'Show the help of nsx or of one of its commands'
  static override description = 'nsx help COMMAND is nsx COMMAND --help; nsx help alone lists the commands.'
  static override strict = false

  static override examples = [{command: '<%= config.bin %> <%= command.id %> enter', description: 'The flags of nsx enter.'}]

  static override args = {
    command: Args.string({description: 'The command to explain', required: false}),
  }

  async run(): Promise<void> {
    const {argv} = await this.parse(HelpCommand)
    const words = argv as string[]
    // An unknown command: the help class says so, with the closest commands.
    const Help = await loadHelpClass(this.config)
    await new Help(this.config, this.config.pjson.oclif.helpOptions ?? {}).showHelp(words)
  }
}
