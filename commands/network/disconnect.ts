import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {disconnectContainer} from '../../src/lifecycle/network-connect.js'
import {Store} from '../../src/store/store.js'

export default class NetworkDisconnect extends NsxCommand {
  static override summary = 'Disconnect a container from a network'
  static override description = `docker network disconnect: a running container loses its interface on the network at once (CNI DEL: its address, veth and lease released), and its /etc/hosts and its peers' are rewritten; a created or stopped container no longer joins it at its next start.`

  static override examples = [{command: '<%= config.bin %> <%= command.id %> appnet web', description: 'Take the container web off appnet.'}]

  static override args = {
    network: Args.string({description: 'Network name or id', required: true}),
    container: Args.string({description: 'Container name or id', required: true}),
  }

  static override flags = {
    force: Flags.boolean({char: 'f', description: 'Forget the attachment even when its CNI DEL fails or the network is gone'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(NetworkDisconnect)
    await disconnectContainer(Store.open(), args.container, args.network, {force: flags.force})
  }
}
