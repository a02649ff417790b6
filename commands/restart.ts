import {Args, Flags} from '@oclif/core'
import {eachRef} from '../src/cli/each-ref.js'
import {NsxCommand} from '../src/cli/command.js'
import {restartContainer} from '../src/lifecycle/stop.js'
import {Store} from '../src/store/store.js'

export default class Restart extends NsxCommand {
  static override summary = 'Stop containers (as nsx stop) and start them again in the background'
  static override description = `nsx stop (SIGTERM, SIGKILL after --time seconds) then nsx start, under the container's lock so no other verb comes between. A container that is not running is just started. Prints each reference given.`

  static override strict = false

  static override examples = [{command: '<%= config.bin %> <%= command.id %> -t 2 web', description: 'Restart web, giving it 2 s to stop.'}]

  static override args = {
    container: Args.string({description: 'Container names or id prefixes', required: true}),
  }

  static override flags = {
    time: Flags.integer({char: 't', description: 'Seconds to wait after SIGTERM before SIGKILL', default: 10, min: 0}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Restart)
    const store = Store.open(undefined, {create: false})
    await eachRef('nsx restart', argv as string[], (ref) => restartContainer(store, ref, {time: flags.time}), (ref) => process.stdout.write(`${ref}\n`))
  }
}
