import {Args} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {inspectNetwork} from '../../src/network/manage.js'
import {Store} from '../../src/store/store.js'

export default class NetworkInspect extends NsxCommand {
  static override summary = 'Show networks in detail'
  static override description = `A JSON array of docker's network objects (the Engine API's Network): subnet and gateway, the bridge's name, and the containers on it with their addresses.`

  static override strict = false

  static override examples = [{command: '<%= config.bin %> <%= command.id %> appnet', description: 'The network appnet and its containers.'}]

  static override args = {network: Args.string({description: 'Network names or ids', required: true})}

  async run(): Promise<void> {
    const {argv} = await this.parse(NetworkInspect)
    const store = Store.open()
    process.stdout.write(`${JSON.stringify((argv as string[]).map((r) => inspectNetwork(store, r)), null, 4)}\n`)
  }
}
