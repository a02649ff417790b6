import {Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {Store} from '../../src/store/store.js'
import {listVolumes, Volume} from '../../src/volume/volumes.js'

export default class VolumeLs extends NsxCommand {
  static override summary = 'List volumes'
  static override description = `docker volume ls's columns: DRIVER and VOLUME NAME. --filter takes docker's keys dangling=true|false (no container uses it), driver=local, label=KEY[=VALUE] and name=SUBSTRING; the same key twice matches either, different keys both.`

  static override aliases = ['volume:list']

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Every volume.'},
    {command: '<%= config.bin %> <%= command.id %> -q --filter dangling=true', description: 'Names of the volumes no container uses.'},
  ]

  static override flags = {
    quiet: Flags.boolean({char: 'q', description: 'Only the names'}),
    filter: Flags.string({char: 'f', description: 'KEY=VALUE: dangling, driver, label, name (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'KEY=VALUE'}),
  }

  async run(): Promise<Volume[]> {
    const {flags} = await this.parse(VolumeLs)
    const volumes = listVolumes(Store.open(undefined, {create: false}), flags.filter)
    if (this.jsonEnabled()) return volumes
    if (flags.quiet) process.stdout.write(volumes.map((v) => `${v.Name}\n`).join(''))
    else process.stdout.write(`DRIVER    VOLUME NAME\n${volumes.map((v) => `${v.Driver.padEnd(10)}${v.Name}\n`).join('')}`)
    return volumes
  }
}
