import {Args} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {containerPorts} from '../src/lifecycle/container-network.js'
import {Store} from '../src/store/store.js'

export default class Port extends NsxCommand {
  static override summary = "List a container's published ports"
  static override description = `Each published port (-p, -P) of a running container as docker port prints it: CONTAINER_PORT/PROTO -> HOST_IP:HOST_PORT; given a container port, only the host addresses it is published on. The ports are forwarded by the kernel (the CNI portmap plugin's DNAT rules), from the host's addresses and from its loopback; see docs/networking.md.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web', description: 'Every published port of web.'},
    {command: '<%= config.bin %> <%= command.id %> web 80/tcp', description: 'Where its port 80 is published.'},
  ]

  static override args = {
    container: Args.string({description: 'Container name or id prefix', required: true}),
    privatePort: Args.string({description: 'A container port, PORT[/tcp|udp]', required: false}),
  }

  async run(): Promise<void> {
    const {args} = await this.parse(Port)
    const lines = await containerPorts(Store.open(undefined, {create: false}), args.container, args.privatePort)
    process.stdout.write(lines.map((l) => `${l}\n`).join(''))
  }
}
