import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {connectContainer, keyValues} from '../../src/lifecycle/network-connect.js'
import {Store} from '../../src/store/store.js'

export default class NetworkConnect extends NsxCommand {
  static override summary = 'Connect a container to a network'
  static override description = `docker network connect: a running container gets one more interface on the network at once (CNI ADD in its namespace, eth1, eth2, ...), and its /etc/hosts and its peers' are rewritten; a created or stopped container joins it at its next start. Refused for a container on --network host, none or container:NAME.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> appnet web', description: 'Put the container web on appnet too.'},
    {command: '<%= config.bin %> <%= command.id %> --alias db --ip 10.78.0.20 appnet pg', description: 'With an alias its peers reach it by, and an address of the network.'},
  ]

  static override args = {
    network: Args.string({description: 'Network name or id', required: true}),
    container: Args.string({description: 'Container name or id', required: true}),
  }

  static override flags = {
    alias: Flags.string({description: 'Network-scoped alias for the container (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'NAME'}),
    ip: Flags.string({description: 'IPv4 address on the network', helpValue: 'IP'}),
    ip6: Flags.string({description: 'IPv6 address on the network (one made with --ipv6; kept and shown on one without)', helpValue: 'IP'}),
    'link-local-ip': Flags.string({description: 'A link-local address more on its interface, e.g. 169.254.8.8 (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'IP'}),
    link: Flags.string({description: 'Link to another container: ALIAS names it on this network, by DNS, once it runs there (it need not exist yet; the alias is network-wide, see nsx-network(1)) (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'NAME[:ALIAS]'}),
    'driver-opt': Flags.string({description: 'An option of the endpoint, kept and shown by inspect (DriverOpts; the bridge reads none) (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'KEY=VALUE'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(NetworkConnect)
    await connectContainer(Store.open(), args.container, args.network, {aliases: flags.alias, ip: flags.ip, ip6: flags.ip6, linkLocalIps: flags['link-local-ip'], driverOpts: keyValues(flags['driver-opt'] ?? [], '--driver-opt'), links: flags.link})
  }
}
