import {Args} from '@oclif/core'
import {eachRef} from '../src/cli/each-ref.js'
import {NsxCommand} from '../src/cli/command.js'
import {unpauseContainer, PauseResult} from '../src/container/pause.js'
import {Store} from '../src/store/store.js'

export default class Unpause extends NsxCommand {
  static override summary = 'Resume every process of paused containers'
  static override description = 'Thaws the cgroup freezer of each container paused by nsx pause: its processes run again from where they stopped. Returns once the kernel reports the cgroup thawed, and prints each name. Exit status 1 when a container does not exist, is not running or is not paused.'

  static override strict = false
  static override enableJsonFlag = true

  static override examples = [{command: '<%= config.bin %> <%= command.id %> web', description: 'Resume container web.'}]

  static override args = {
    name: Args.string({description: 'Container names or unique id prefixes (see nsx ps)', required: true}),
  }

  async run(): Promise<PauseResult[]> {
    const {argv} = await this.parse(Unpause)
    const store = Store.open(undefined, {create: false})
    return eachRef('nsx unpause', argv as string[], (ref) => unpauseContainer(store, ref), (ref) => {
      if (!this.jsonEnabled()) process.stdout.write(`${ref}\n`)
    })
  }
}
