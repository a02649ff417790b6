import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {Store} from '../../src/store/store.js'
import {createVolume, parseKeyValues, Volume} from '../../src/volume/volumes.js'

export default class VolumeCreate extends NsxCommand {
  static override summary = 'Create a named volume'
  static override description = `docker volume create: a directory of the store (volumes/NAME/_data) that containers mount with -v NAME:/PATH and that outlives them. Without a name one of 64 hex digits is generated. Creating a volume that exists is no error (docker's rule): its name is printed. The driver is local, with no options. Prints the name.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> data', description: 'A volume named data.'},
    {command: '<%= config.bin %> <%= command.id %> --label team=web cache', description: 'With a label.'},
  ]

  static override args = {
    name: Args.string({description: 'The volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)', required: false}),
  }

  static override flags = {
    driver: Flags.string({char: 'd', description: 'Volume driver (local only)', default: 'local'}),
    label: Flags.string({char: 'l', description: 'KEY=VALUE label (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'KEY=VALUE'}),
    opt: Flags.string({char: 'o', description: 'Driver option (the local driver takes none in nsx)', multiple: true, multipleNonGreedy: true, helpValue: 'KEY=VALUE'}),
  }

  async run(): Promise<Volume> {
    const {args, flags} = await this.parse(VolumeCreate)
    const {volume} = createVolume(Store.open(), {name: args.name, driver: flags.driver, labels: parseKeyValues(flags.label), options: parseKeyValues(flags.opt)})
    process.stdout.write(`${volume.Name}\n`)
    return volume
  }
}
