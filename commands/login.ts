import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {NsxError} from '../src/cli/errors.js'
import {login} from '../src/registry/login.js'
import {promptLine, readAllStdin} from '../src/registry/password.js'

export default class Login extends NsxCommand {
  static override summary = 'Log in to a registry: check the credentials and store them'
  static override description = `Checks USERNAME and the password against REGISTRY (docker.io when absent) with the registry's own challenge (basic or bearer token), then writes them to $XDG_RUNTIME_DIR/containers/auth.json (podman's file) and ~/.docker/config.json (docker's), mode 0600, or to --authfile (or $REGISTRY_AUTH_FILE) only. Give the password on stdin with --password-stdin; without it nsx asks on the terminal without echo. A password is never taken as an argument (it would show in the process list) and never printed.`

  static override examples = [
    {command: 'cat token.txt | <%= config.bin %> <%= command.id %> -u alice --password-stdin localhost:5000', description: 'Log in from a script.'},
    {command: '<%= config.bin %> <%= command.id %> registry.example.com', description: 'Asked for the username and password.'},
  ]

  static override args = {
    registry: Args.string({description: 'host[:port] of the registry (default docker.io)'}),
  }

  static override flags = {
    username: Flags.string({char: 'u', description: 'The username', helpValue: 'NAME'}),
    'password-stdin': Flags.boolean({description: 'Read the password from stdin'}),
    'tls-verify': Flags.boolean({description: 'Require HTTPS with a verified certificate', allowNo: true, default: true}),
    authfile: Flags.string({description: 'Store the credentials in this file only', helpValue: 'FILE'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Login)
    let username = flags.username
    let password: string
    if (flags['password-stdin']) {
      if (!username) throw new NsxError('--password-stdin needs --username')
      password = await readAllStdin()
    } else {
      username ??= await promptLine('Username: ', false)
      password = await promptLine('Password: ', true)
    }
    const r = await login({registry: args.registry, username, password, tlsVerify: flags['tls-verify'], authFile: flags.authfile})
    process.stdout.write(`Login succeeded: ${r.registry}\n`)
  }
}
