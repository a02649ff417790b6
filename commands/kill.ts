import {Args, Flags} from '@oclif/core'
import {eachRef} from '../src/cli/each-ref.js'
import {NsxCommand} from '../src/cli/command.js'
import {killContainer} from '../src/lifecycle/kill.js'
import {Store} from '../src/store/store.js'

export default class Kill extends NsxCommand {
  static override summary = "Send a signal to running containers' commands (SIGKILL by default)"
  static override description = `SIGKILL goes to the container's init, and its whole pid namespace dies with it; SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH and SIGALRM reach the command through its supervisor and init; any other signal is sent to the command directly. Returns once the signal is sent (nsx wait waits for the end). A container that is not running is an error.`

  static override strict = false

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web', description: 'Kill web.'},
    {command: '<%= config.bin %> <%= command.id %> -s HUP web', description: 'Ask it to reload.'},
  ]

  static override args = {
    container: Args.string({description: 'Container names or id prefixes', required: true}),
  }

  static override flags = {
    signal: Flags.string({char: 's', description: 'Signal: a name (KILL, SIGHUP) or a number', default: 'KILL', helpValue: 'SIGNAL'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Kill)
    const store = Store.open(undefined, {create: false})
    await eachRef('nsx kill', argv as string[], (ref) => killContainer(store, ref, {signal: flags.signal}), (ref) => process.stdout.write(`${ref}\n`))
  }
}
