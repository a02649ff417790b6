import {Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {pruneNetworks} from '../../src/network/manage.js'
import {Store} from '../../src/store/store.js'

export default class NetworkPrune extends NsxCommand {
  static override summary = 'Remove every network no container uses'
  static override description = `docker network prune: each user-defined network that no running container is on goes, with its bridge, its rules and its address leases (bridge, host and none stay). --filter label=KEY[=VALUE] or label!=KEY[=VALUE] narrows it. Prints the names removed.`

  static override examples = [{command: '<%= config.bin %> <%= command.id %> -f', description: 'Remove the unused networks.'}]

  static override flags = {
    force: Flags.boolean({char: 'f', description: 'Do not ask for confirmation (nsx never asks: accepted for docker compatibility)'}),
    filter: Flags.string({description: 'label=KEY[=VALUE] or label!=KEY[=VALUE] (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'FILTER'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(NetworkPrune)
    const removed = pruneNetworks(Store.open(), flags.filter)
    if (removed.length > 0) process.stdout.write(`Deleted Networks:\n${removed.map((n) => `${n}\n`).join('')}`)
  }
}
