import {Args} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {removeNetwork} from '../../src/network/manage.js'
import {Store} from '../../src/store/store.js'

export default class NetworkRm extends NsxCommand {
  static override summary = 'Remove networks'
  static override description = `Each network's conflist, its address leases and its bridge go; a network a container is on is refused (stop or remove the container first), as are the pre-defined bridge, host and none.`

  static override aliases = ['network:remove']

  static override strict = false

  static override examples = [{command: '<%= config.bin %> <%= command.id %> appnet', description: 'Remove the network appnet.'}]

  static override args = {network: Args.string({description: 'Network names or ids', required: true})}

  async run(): Promise<void> {
    const {argv} = await this.parse(NetworkRm)
    const store = Store.open()
    for (const r of argv as string[]) process.stdout.write(`${removeNetwork(store, r)}\n`)
  }
}
