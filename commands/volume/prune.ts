import {Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {type PruneReport, renderPrune, volumesPrune} from '../../src/lifecycle/prune.js'
import {filterArgsOfWords} from '../../src/store/prune-filter.js'
import {Store} from '../../src/store/store.js'

export default class VolumePrune extends NsxCommand {
  static override summary = 'Remove every volume no container uses'
  static override description = `docker volume prune (20.10's rule: named and anonymous volumes alike): each volume that no container, running or stopped, mounts is removed with its data. --filter label=KEY[=VALUE] or label!=KEY[=VALUE] narrows it (docker 20.10 takes no until for volumes). Prints the names removed and the space reclaimed.`

  static override examples = [{command: '<%= config.bin %> <%= command.id %> -f', description: 'Remove the unused volumes.'}]

  static override flags = {
    force: Flags.boolean({char: 'f', description: 'Do not ask for confirmation (nsx never asks: accepted for docker compatibility)'}),
    filter: Flags.string({description: 'label=KEY[=VALUE] or label!=KEY[=VALUE] (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'FILTER'}),
  }

  async run(): Promise<Pick<PruneReport, 'VolumesDeleted' | 'SpaceReclaimed'>> {
    const {flags} = await this.parse(VolumePrune)
    const filters = filterArgsOfWords(flags.filter)
    const r = await volumesPrune(Store.open(undefined, {create: false}), filters)
    process.stdout.write(renderPrune(r))
    return r
  }
}
