import {Args, Flags} from '@oclif/core'
import {eachRef} from '../../src/cli/each-ref.js'
import {NsxCommand} from '../../src/cli/command.js'
import {Store} from '../../src/store/store.js'
import {removeVolume} from '../../src/volume/volumes.js'

export default class VolumeRm extends NsxCommand {
  static override summary = 'Remove volumes and their data'
  static override description = `docker volume rm: each volume and everything in it. A volume a container uses (running or stopped) is refused ("volume is in use", with the containers' ids), as is an unknown one; the others given still go, and the exit status is 1. -f makes an unknown name no error (never one in use). Prints each name removed.`

  static override aliases = ['volume:remove']

  static override strict = false

  static override examples = [{command: '<%= config.bin %> <%= command.id %> data', description: 'Remove a volume no container uses.'}]

  static override args = {
    volume: Args.string({description: 'Volume names', required: true}),
  }

  static override flags = {
    force: Flags.boolean({char: 'f', description: 'No error for a volume that does not exist'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(VolumeRm)
    const store = Store.open(undefined, {create: false})
    await eachRef('nsx volume rm', argv as string[], async (name) => removeVolume(store, name, {force: flags.force}), (name) => process.stdout.write(`${name}\n`))
  }
}
