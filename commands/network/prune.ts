import {Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {networksPrune, renderPrune} from '../../src/lifecycle/prune.js'
import {filterArgsOfWords} from '../../src/store/prune-filter.js'
import {Store} from '../../src/store/store.js'

export default class NetworkPrune extends NsxCommand {
  static override summary = 'Remove every network no container uses'
  static override description = `docker network prune: each user-defined network that no running container is on goes, with its bridge, its rules and its address leases (bridge, host and none stay). --filter until=TIME keeps those created after TIME (a duration before now such as 24h, an RFC 3339 time or Unix seconds); label=KEY[=VALUE] and label!=KEY[=VALUE] test the network's labels. Prints the names removed.`

  static override examples = [{command: '<%= config.bin %> <%= command.id %> -f', description: 'Remove the unused networks.'}]

  static override flags = {
    force: Flags.boolean({char: 'f', description: 'Do not ask for confirmation (nsx never asks: accepted for docker compatibility)'}),
    filter: Flags.string({description: 'until=TIME, label=KEY[=VALUE] or label!=KEY[=VALUE] (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'FILTER'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(NetworkPrune)
    const filters = filterArgsOfWords(flags.filter)
    process.stdout.write(renderPrune(await networksPrune(Store.open(), filters), {total: false}))
  }
}
