import {Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {pruneContainers} from '../../src/lifecycle/remove.js'
import {Store} from '../../src/store/store.js'

export default class ContainerPrune extends NsxCommand {
  static override summary = 'Remove every container that is not running'
  static override description = `Created and exited containers are removed as nsx rm removes them; running ones stay. Prints the ids removed.`

  static override examples = [{command: '<%= config.bin %> <%= command.id %> -f', description: 'Remove every stopped container.'}]

  static override flags = {
    force: Flags.boolean({char: 'f', description: 'Do not ask for confirmation (nsx never asks: accepted for docker compatibility)'}),
  }

  async run(): Promise<{removed: string[]; reclaimed: number}> {
    await this.parse(ContainerPrune)
    const store = Store.open(undefined, {create: false})
    const r = await pruneContainers(store)
    process.stdout.write(r.removed.length > 0 ? `Deleted Containers:\n${r.removed.map((id) => `${id}\n`).join('')}\n` : '')
    return r
  }
}
