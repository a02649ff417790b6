import {Args} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {completionCommands, completionScript, SHELLS, Shell} from '../src/cli/completion.js'

export default class Completion extends NsxCommand {
  static override summary = 'Print a shell completion script for bash, zsh or fish'
  static override description = `Prints a completion script made from nsx's command definitions: command names, each command's flags, and the values of flags that take one of a fixed list (nsx top --sort, nsx ls --type). The script is static, so no nsx runs when you press TAB; print it again after upgrading nsx.

Exit status: 0, or 1 for an unknown shell.`

  static override args = {
    shell: Args.string({description: 'The shell: bash, zsh or fish', required: true, options: [...SHELLS]}),
  }

  static override examples = [
    {command: 'source <(<%= config.bin %> <%= command.id %> bash)', description: 'Completion in this bash session.'},
    {command: '<%= config.bin %> <%= command.id %> bash > /usr/share/bash-completion/completions/nsx', description: 'For every bash session (as root).'},
    {command: '<%= config.bin %> <%= command.id %> zsh > "${fpath[1]}/_nsx"', description: 'For zsh.'},
    {command: '<%= config.bin %> <%= command.id %> fish > ~/.config/fish/completions/nsx.fish', description: 'For fish.'},
  ]

  async run(): Promise<void> {
    const {args} = await this.parse(Completion)
    process.stdout.write(completionScript(args.shell as Shell, completionCommands(this.config.commands)))
  }
}
