import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {keyValues} from '../../src/lifecycle/network-connect.js'
import {createNetworkVerb} from '../../src/network/manage.js'
import {poolsByFamily} from '../../src/network/networks.js'
import {Store} from '../../src/store/store.js'

export default class NetworkCreate extends NsxCommand {
  static override summary = 'Create a bridge network'
  static override description = `A CNI conflist in the store (bridge with host-local addresses and portmap, with one NAT and forwarding rule set per network; see docs/networking.md), with a subnet of its own: the next free /24 of 10.78.0.0/16 unless --subnet gives one. Containers run with --network NAME get an address on it and reach each other by name (and --network-alias). Prints the network's id.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> appnet', description: 'A network for an application\'s containers.'},
    {command: '<%= config.bin %> <%= command.id %> --subnet 10.10.0.0/24 --gateway 10.10.0.254 lab', description: 'With a subnet and gateway of your choice.'},
    {command: '<%= config.bin %> <%= command.id %> --ipv6 --subnet 10.10.1.0/24 --subnet fd00:10::/64 lab6', description: 'Containers get an IPv6 address too.'},
    {command: '<%= config.bin %> <%= command.id %> --subnet 10.10.0.0/16 --ip-range 10.10.5.0/24 --aux-address router=10.10.5.2 -o com.docker.network.bridge.name=br-lab lab', description: 'Addresses from a part of the subnet, one kept back, on a bridge named br-lab.'},
  ]

  static override args = {name: Args.string({description: 'The network\'s name', required: true})}

  static override flags = {
    driver: Flags.string({char: 'd', description: 'Network driver (bridge, the only one)', default: 'bridge', helpValue: 'DRIVER'}),
    subnet: Flags.string({description: 'Subnet in CIDR form, one IPv4 and one IPv6 at most (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'CIDR'}),
    gateway: Flags.string({description: 'Gateway address in the subnet of its family (default: its first address) (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'IP'}),
    'ip-range': Flags.string({description: 'Hand out container addresses from this part of the subnet of its family only (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'CIDR'}),
    ipv6: Flags.boolean({description: 'Give containers an address of the IPv6 --subnet too (and a default route through its gateway; no NAT, as docker\'s)'}),
    'aux-address': Flags.string({description: 'An address of the subnet never handed out to a container (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'NAME=IP'}),
    opt: Flags.string({char: 'o', description: 'A driver option (repeatable): com.docker.network.bridge.name=NAME (the bridge\'s name), com.docker.network.bridge.enable_ip_masquerade=false (no outbound NAT), com.docker.network.driver.mtu=N; others are kept and shown by inspect', multiple: true, multipleNonGreedy: true, helpValue: 'KEY=VALUE'}),
    'ipam-driver': Flags.string({description: 'IP address management driver (default, the only one)', default: 'default', helpValue: 'DRIVER'}),
    internal: Flags.boolean({description: 'No outbound NAT nor default route: its containers reach only each other'}),
    attachable: Flags.boolean({description: 'Marked attachable (docker\'s flag for swarm overlays: kept and shown by inspect)'}),
    label: Flags.string({description: 'Metadata on the network (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'KEY=VALUE'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(NetworkCreate)
    const n = createNetworkVerb(Store.open(), {name: args.name, driver: flags.driver, ipamDriver: flags['ipam-driver'], ...poolsByFamily({subnets: flags.subnet, gateways: flags.gateway, ipRanges: flags['ip-range'], auxAddresses: keyValues(flags['aux-address'] ?? [], '--aux-address')}), enableIPv6: flags.ipv6, options: keyValues(flags.opt ?? [], '--opt'), internal: flags.internal, labels: flags.label, attachable: flags.attachable})
    process.stdout.write(`${n.Id}\n`)
  }
}
