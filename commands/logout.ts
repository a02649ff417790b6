import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {logout} from '../src/registry/login.js'

export default class Logout extends NsxCommand {
  static override summary = 'Remove a registry\'s stored credentials'
  static override description = `Removes REGISTRY's credentials (docker.io when absent) from every file nsx login writes ($XDG_RUNTIME_DIR/containers/auth.json and ~/.docker/config.json), or from --authfile only; --all removes every registry's. Fails when there were none.`

  static override examples = [{command: '<%= config.bin %> <%= command.id %> localhost:5000', description: 'Forget the credentials of a local registry.'}]

  static override args = {
    registry: Args.string({description: 'host[:port] of the registry (default docker.io)'}),
  }

  static override flags = {
    all: Flags.boolean({char: 'a', description: 'Remove the credentials of every registry'}),
    authfile: Flags.string({description: 'Change this file only', helpValue: 'FILE'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Logout)
    const r = logout({registry: args.registry, all: flags.all, authFile: flags.authfile})
    process.stdout.write(r.registry ? `Removed login credentials for ${r.registry}\n` : `Removed all login credentials\n`)
  }
}
