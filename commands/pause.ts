import {Args} from '@oclif/core'
import {eachRef} from '../src/cli/each-ref.js'
import {NsxCommand} from '../src/cli/command.js'
import {pauseContainer, PauseResult} from '../src/container/pause.js'
import {Store} from '../src/store/store.js'

export default class Pause extends NsxCommand {
  static override summary = 'Pause every process of running containers (the cgroup freezer)'
  static override description = 'Freezes every process of each container with the cgroup freezer (cgroup v1 freezer.state on v1 and hybrid hosts, cgroup v2 cgroup.freeze on v2): they stop where they are, without a signal they could see or catch, and use no CPU until nsx unpause. Returns once the kernel reports the whole cgroup frozen, and prints each name. nsx exec refuses a paused container, as docker does. Exit status 1 when a container does not exist, is not running or is already paused.'

  static override strict = false
  static override enableJsonFlag = true

  static override examples = [{command: '<%= config.bin %> <%= command.id %> web', description: 'Freeze container web.'}]

  static override args = {
    name: Args.string({description: 'Container names or unique id prefixes (see nsx ps)', required: true}),
  }

  async run(): Promise<PauseResult[]> {
    const {argv} = await this.parse(Pause)
    const store = Store.open(undefined, {create: false})
    return eachRef('nsx pause', argv as string[], (ref) => pauseContainer(store, ref), (ref) => {
      if (!this.jsonEnabled()) process.stdout.write(`${ref}\n`)
    })
  }
}
