import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {NsxError} from '../src/cli/errors.js'
import {stopContainer} from '../src/container/stop.js'
import {Store} from '../src/store/store.js'

export default class Stop extends NsxCommand {
  static override summary = 'Stop running containers: SIGTERM, then SIGKILL after a grace period'
  static override description = `Sends SIGTERM to the container's command (through its supervisor and its init, which forward it), waits up to --time seconds for it to end, then kills the container's init, which takes every process of the container with it. Returns once the supervisor has removed the container's cgroups, upper directory and state. Prints each name stopped.`

  static override strict = false
  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web', description: 'Stop container web, waiting up to 10 s.'},
    {command: '<%= config.bin %> <%= command.id %> -t 0 web db', description: 'Kill two at once.'},
  ]

  static override args = {
    name: Args.string({description: 'Container names (see nsx ps)', required: true}),
  }

  static override flags = {
    time: Flags.integer({char: 't', description: 'Seconds to wait after SIGTERM before SIGKILL', default: 10, min: 0}),
    signal: Flags.string({char: 's', description: 'Signal to send first instead of SIGTERM', default: 'SIGTERM', helpValue: 'SIGNAL'}),
  }

  async run(): Promise<{name: string; result: 'stopped' | 'killed'}[]> {
    const {argv, flags} = await this.parse(Stop)
    const sig = flags.signal.toUpperCase().startsWith('SIG') ? flags.signal.toUpperCase() : `SIG${flags.signal.toUpperCase()}`
    const {constants} = await import('node:os')
    if (!(sig in constants.signals)) throw new NsxError(`unknown signal '${flags.signal}' (e.g. SIGTERM, INT, HUP)`)
    const store = Store.open(undefined, {create: false})
    const out: {name: string; result: 'stopped' | 'killed'}[] = []
    for (const name of argv as string[]) {
      const result = await stopContainer(store, name, flags.time, sig as NodeJS.Signals)
      out.push({name, result})
      if (!this.jsonEnabled()) process.stdout.write(`${name}\n`)
    }
    return out
  }
}
