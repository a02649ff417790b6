import {Args, Flags} from '@oclif/core'
import {eachRef} from '../src/cli/each-ref.js'
import {NsxCommand} from '../src/cli/command.js'
import {CONTAINER_ATTACH_EXIT_STATUS} from '../src/cli/exit-status.js'
import {NsxError} from '../src/cli/errors.js'
import {startContainer, StartResult} from '../src/lifecycle/start.js'
import {Store} from '../src/store/store.js'

export default class Start extends NsxCommand {
  static override summary = 'Start stopped or created containers again, where they were left'
  static override description = `Runs the container's command again with the configuration it was created with, on its kept upper directory (what it wrote before is still there), in new namespaces and cgroups. In the background by default (its output goes to its log: nsx logs); with -a nsx stays attached as with a foreground nsx run: the output on this terminal, signals forwarded, the command's exit status nsx's. A running container is left alone. Prints each reference given.`

  static override strict = false
  static override failureExitCode = 1
  static exitStatus = CONTAINER_ATTACH_EXIT_STATUS

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web', description: 'Start web in the background.'},
    {command: '<%= config.bin %> <%= command.id %> -ai shell', description: 'Start it attached, with this terminal.'},
  ]

  static override args = {
    container: Args.string({description: 'Container names or id prefixes (see nsx ps -a)', required: true}),
  }

  static override flags = {
    attach: Flags.boolean({char: 'a', description: "Attach: the container's output here, its exit status nsx's (one container only)"}),
    interactive: Flags.boolean({char: 'i', description: "Attach this stdin too (the container's -i decides whether it reads it)"}),
  }

  async run(): Promise<StartResult[]> {
    const {argv, flags} = await this.parse(Start)
    const refs = argv as string[]
    const attach = flags.attach || flags.interactive
    if (attach && refs.length > 1) throw new NsxError('you cannot start and attach multiple containers at once', 1)
    const store = Store.open(undefined, {create: false})
    return eachRef('nsx start', refs, (ref) => startContainer(store, ref, {attach}), (ref) => process.stdout.write(`${ref}\n`))
  }
}
