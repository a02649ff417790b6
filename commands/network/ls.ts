import {Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {listNetworkViews} from '../../src/network/manage.js'
import {Store} from '../../src/store/store.js'

export default class NetworkLs extends NsxCommand {
  static override summary = 'List networks'
  static override description = `docker network ls's columns: the default bridge network, host and none, then the networks of nsx network create.`

  static override aliases = ['network:list']

  static override examples = [{command: '<%= config.bin %> <%= command.id %>', description: 'Every network.'}]

  static override flags = {
    quiet: Flags.boolean({char: 'q', description: 'Only the ids'}),
    'no-trunc': Flags.boolean({description: 'Full ids'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(NetworkLs)
    const nets = listNetworkViews(Store.open())
    const id = (s: string) => (flags['no-trunc'] ? s : s.slice(0, 12))
    if (flags.quiet) {
      process.stdout.write(nets.map((n) => `${id(n.Id)}\n`).join(''))
      return
    }
    const rows = [['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], ...nets.map((n) => [id(n.Id), n.Name, n.Driver, n.Scope])]
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
    process.stdout.write(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('') + '\n').join(''))
  }
}
