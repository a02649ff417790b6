import {Args, Flags} from '@oclif/core'
import {eachRef} from '../src/cli/each-ref.js'
import {NsxCommand} from '../src/cli/command.js'
import {parseSignal} from '../src/lifecycle/kill.js'
import {stopContainer, StopResult} from '../src/lifecycle/stop.js'
import {Store} from '../src/store/store.js'

export default class Stop extends NsxCommand {
  static override summary = 'Stop running containers: SIGTERM, then SIGKILL after a grace period'
  static override description = `Sends SIGTERM to the container's command (through its supervisor and its init, which forward it), waits up to --time seconds for it to end, then kills the container's init, which takes every process of the container with it. Returns once the supervisor has recorded the exit code and removed the container's cgroups. The container is kept (nsx start runs it again, nsx rm removes it) unless it was run with --rm. Prints each reference given; one that is not running is not an error.`

  static override strict = false
  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web', description: 'Stop container web, waiting up to 10 s.'},
    {command: '<%= config.bin %> <%= command.id %> -t 0 web db', description: 'Kill two at once.'},
  ]

  static override args = {
    container: Args.string({description: 'Container names or id prefixes (see nsx ps -a)', required: true}),
  }

  static override flags = {
    time: Flags.integer({char: 't', description: 'Seconds to wait after SIGTERM before SIGKILL', default: 10, min: 0}),
    signal: Flags.string({char: 's', description: 'Signal to send first instead of SIGTERM', default: 'SIGTERM', helpValue: 'SIGNAL'}),
  }

  async run(): Promise<StopResult[]> {
    const {argv, flags} = await this.parse(Stop)
    const signal = parseSignal(flags.signal)
    const store = Store.open(undefined, {create: false})
    return eachRef('nsx stop', argv as string[], (ref) => stopContainer(store, ref, {time: flags.time, signal}), (ref) => {
      if (!this.jsonEnabled()) process.stdout.write(`${ref}\n`)
    })
  }
}
