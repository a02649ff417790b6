import {Args, Flags} from '@oclif/core'
import {eachRef} from '../src/cli/each-ref.js'
import {NsxCommand} from '../src/cli/command.js'
import {CONTAINER_ATTACH_EXIT_STATUS} from '../src/cli/exit-status.js'
import {NsxError} from '../src/cli/errors.js'
import {startAttached, startContainer, StartResult} from '../src/lifecycle/start.js'
import {Store} from '../src/store/store.js'

export default class Start extends NsxCommand {
  static override summary = 'Start stopped or created containers again, where they were left'
  static override description = `Runs the container's command again with the configuration it was created with, on its kept upper directory (what it wrote before is still there), in new namespaces and cgroups, in the background: its supervisor keeps its output (nsx logs), its terminal and its exit code. A running container is left alone. Prints each reference given.

With -a nsx attaches first and then starts it, as docker start -a: the container's output comes here (stdout and stderr apart), signals nsx gets are passed on to a container without a terminal, and nsx ends when the container does, with its exit code. With -i (which implies -a) what is typed goes to it too, if it was created with -i; the end of this input closes the container's (with a terminal: its EOF character). A container created with -t gets this terminal in raw mode, its size following. Typing the detach keys (ctrl-p ctrl-q, or --detach-keys) leaves it running, and nsx exits 0; nsx attach joins it again. -a on a running container attaches to it.`

  static override strict = false
  static override failureExitCode = 1
  static exitStatus = CONTAINER_ATTACH_EXIT_STATUS

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web', description: 'Start web in the background.'},
    {command: '<%= config.bin %> <%= command.id %> -ai shell', description: 'Start it attached, with this terminal (ctrl-p ctrl-q leaves it running).'},
    {command: 'echo hi | <%= config.bin %> <%= command.id %> -ai job', description: "A job created with -i reads this input, and its exit code is nsx's."},
  ]

  static override args = {
    container: Args.string({description: 'Container names or id prefixes (see nsx ps -a)', required: true}),
  }

  static override flags = {
    attach: Flags.boolean({char: 'a', description: "Attach: the container's output here, its exit code nsx's (one container only)"}),
    interactive: Flags.boolean({char: 'i', description: "Attach this stdin too (a container created with -i reads it); implies -a"}),
    'detach-keys': Flags.string({description: "The keys that detach (docker's form, with -a or -i)", default: 'ctrl-p,ctrl-q', helpValue: 'KEYS'}),
  }

  async run(): Promise<StartResult[] | void> {
    const {argv, flags} = await this.parse(Start)
    const refs = argv as string[]
    const store = Store.open(undefined, {create: false})
    if (!flags.attach && !flags.interactive) return eachRef('nsx start', refs, (ref) => startContainer(store, ref), (ref) => process.stdout.write(`${ref}\n`))
    if (refs.length > 1) throw new NsxError('you cannot start and attach multiple containers at once', 1)
    const r = await startAttached(store, refs[0], {interactive: flags.interactive, detachKeys: flags['detach-keys'], stdin: process.stdin, stdout: process.stdout, stderr: process.stderr})
    if (!r.detached) process.exitCode = r.exitCode
  }
}
