import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {CONTAINER_ATTACH_EXIT_STATUS} from '../src/cli/exit-status.js'
import {attachContainer} from '../src/lifecycle/attach.js'
import {Store} from '../src/store/store.js'

export default class Attach extends NsxCommand {
  static exitStatus = CONTAINER_ATTACH_EXIT_STATUS
  static override summary = "Attach this terminal to a running detached container's (ctrl-p ctrl-q detaches)"
  static override description = `Joins a container started in the background (nsx run -d, nsx start): its output comes here (stdout and stderr apart) and, if it was started with -i, what you type goes to it; with -t this terminal is put in raw mode and its size follows yours. Typing the detach keys (ctrl-p ctrl-q, or --detach-keys) leaves the container running; otherwise nsx attach ends when the container does, with its exit code. The container's supervisor holds its terminal and serves up to 8 attached clients at once on a socket in the container's directory.`

  static override examples = [
    {command: '<%= config.bin %> run -it -d --name box busybox sh && <%= config.bin %> <%= command.id %> box', description: 'A shell to come back to.'},
    {command: '<%= config.bin %> <%= command.id %> --detach-keys ctrl-a,d box', description: 'Detach with ctrl-a d instead.'},
  ]

  static override args = {
    container: Args.string({description: 'Container name or id prefix', required: true}),
  }

  static override flags = {
    'detach-keys': Flags.string({description: 'The keys that detach, docker\'s form', default: 'ctrl-p,ctrl-q', helpValue: 'KEYS'}),
    'no-stdin': Flags.boolean({description: 'Do not send what is typed to the container'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Attach)
    const r = await attachContainer(Store.open(undefined, {create: false}), args.container, {
      detachKeys: flags['detach-keys'],
      noStdin: flags['no-stdin'],
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
    })
    if (r.detached) process.stderr.write('\r\nread escape sequence\r\n')
    else process.exitCode = r.exitCode
  }
}
