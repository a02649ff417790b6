import {Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {containersPrune, type PruneReport, renderPrune} from '../../src/lifecycle/prune.js'
import {filterArgsOfWords} from '../../src/store/prune-filter.js'
import {Store} from '../../src/store/store.js'

export default class ContainerPrune extends NsxCommand {
  static override summary = 'Remove every container that is not running'
  static override description = `docker container prune: created and exited containers are removed as nsx rm removes them; running ones stay. --filter until=TIME keeps those created after TIME (a duration before now such as 24h, an RFC 3339 time or Unix seconds); label=KEY[=VALUE] and label!=KEY[=VALUE] test the container's labels. Prints the ids removed and the space reclaimed (their writable layers). A filter docker does not take is refused ("Invalid filter 'KEY'", exit 1) before anything goes.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -f', description: 'Remove every stopped container.'},
    {command: '<%= config.bin %> <%= command.id %> -f --filter until=24h', description: 'Only those created more than a day ago.'},
  ]

  static override flags = {
    force: Flags.boolean({char: 'f', description: 'Do not ask for confirmation (nsx never asks: accepted for docker compatibility)'}),
    filter: Flags.string({description: 'until=TIME, label=KEY[=VALUE] or label!=KEY[=VALUE] (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'FILTER'}),
  }

  async run(): Promise<Pick<PruneReport, 'ContainersDeleted' | 'SpaceReclaimed'>> {
    const {flags} = await this.parse(ContainerPrune)
    const filters = filterArgsOfWords(flags.filter)
    const r = await containersPrune(Store.open(undefined, {create: false}), filters)
    process.stdout.write(renderPrune(r))
    return r
  }
}
