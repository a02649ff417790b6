import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {execService} from '../../src/api/service.js'
import {DEFAULT_ADDRESS} from '../../src/api/server.js'

export default class SystemService extends NsxCommand {
  static override summary = 'Serve the Docker Engine API on a unix socket, in the foreground'
  static override description = `The docker CLI, docker-py, docker-compose and other Engine API clients drive nsx through it (DOCKER_HOST=unix:///run/nsx/docker.sock). It serves API version 1.41 (docker 20.10) on the same engine as nsx's own verbs: nsx ps and docker ps list the same containers, and containers outlive the service (each is held by its own supervisor). The socket is root-equivalent: it is made mode 0660, owned by root and the group given (root's by default). Each request that changes state is logged on stderr with the caller's uid and pid. Under systemd socket activation (LISTEN_FDS, deploy/systemd/nsx.socket) it serves the socket systemd passes. A tcp:// address is refused unless --tls-cert and --tls-key are given. Stops on SIGINT or SIGTERM. docs/api.md lists what is served and what is not.`

  static override failureExitCode = 125

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Serve on /run/nsx/docker.sock; then DOCKER_HOST=unix:///run/nsx/docker.sock docker ps.'},
    {command: '<%= config.bin %> <%= command.id %> unix:///run/user/docker.sock --group docker', description: 'Serve on another socket, for the members of group docker.'},
  ]

  static override args = {
    address: Args.string({description: `Where to listen: unix:///PATH, or tcp://HOST:PORT with TLS (default ${DEFAULT_ADDRESS})`, required: false}),
  }

  static override flags = {
    group: Flags.string({description: "The socket's group, a name or gid (default: root's group)"}),
    'tls-cert': Flags.string({description: 'TLS certificate (PEM) for a tcp:// address'}),
    'tls-key': Flags.string({description: 'TLS private key (PEM) for a tcp:// address'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(SystemService)
    await execService({address: args.address, group: flags.group, tlsCert: flags['tls-cert'], tlsKey: flags['tls-key']})
  }
}
