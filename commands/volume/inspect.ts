import {Args} from '@oclif/core'
import {eachRef} from '../../src/cli/each-ref.js'
import {NsxCommand} from '../../src/cli/command.js'
import {Store} from '../../src/store/store.js'
import {inspectVolume, Volume} from '../../src/volume/volumes.js'

export default class VolumeInspect extends NsxCommand {
  static override summary = 'Show volumes as docker volume inspect does'
  static override description = `A JSON array with one object per volume found: Name, Driver, Mountpoint (its data directory on the host), CreatedAt, Labels, Scope and Options, the Engine API's Volume. An unknown name is one line on stderr ("No such volume") and exit status 1; the others are still shown.`

  static override strict = false

  static override examples = [{command: '<%= config.bin %> <%= command.id %> data', description: 'One volume.'}]

  static override args = {
    volume: Args.string({description: 'Volume names', required: true}),
  }

  async run(): Promise<void> {
    const {argv} = await this.parse(VolumeInspect)
    const store = Store.open(undefined, {create: false})
    const found: Volume[] = await eachRef('nsx volume inspect', argv as string[], async (name) => inspectVolume(store, name), () => {})
    process.stdout.write(`${JSON.stringify(found, null, 4)}\n`)
  }
}
