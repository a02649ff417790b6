import {Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {Store} from '../../src/store/store.js'
import {pruneVolumes} from '../../src/volume/volumes.js'

/** docker's size units (1 kB = 1000 B), as docker prints the space reclaimed. */
function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let i = 0
  let v = n
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return i === 0 ? `${v}B` : `${v.toFixed(3).replace(/\.?0+$/, '')}${units[i]}`
}

export default class VolumePrune extends NsxCommand {
  static override summary = 'Remove every volume no container uses'
  static override description = `docker volume prune (20.10's rule: named and anonymous volumes alike): each volume that no container, running or stopped, mounts is removed with its data. --filter label=KEY[=VALUE] or label!=KEY[=VALUE] narrows it. Prints the names removed and the space reclaimed.`

  static override examples = [{command: '<%= config.bin %> <%= command.id %> -f', description: 'Remove the unused volumes.'}]

  static override flags = {
    force: Flags.boolean({char: 'f', description: 'Do not ask for confirmation (nsx never asks: accepted for docker compatibility)'}),
    filter: Flags.string({description: 'label=KEY[=VALUE] or label!=KEY[=VALUE] (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'FILTER'}),
  }

  async run(): Promise<{VolumesDeleted: string[]; SpaceReclaimed: number}> {
    const {flags} = await this.parse(VolumePrune)
    const r = pruneVolumes(Store.open(undefined, {create: false}), flags.filter)
    process.stdout.write(`${r.VolumesDeleted.length > 0 ? `Deleted Volumes:\n${r.VolumesDeleted.map((n) => `${n}\n`).join('')}\n` : ''}Total reclaimed space: ${humanBytes(r.SpaceReclaimed)}\n`)
    return r
  }
}
