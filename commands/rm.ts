import {Args, Flags} from '@oclif/core'
import {eachRef} from '../src/cli/each-ref.js'
import {NsxCommand} from '../src/cli/command.js'
import {removeLink} from '../src/lifecycle/links.js'
import {removeContainerVerb} from '../src/lifecycle/remove.js'
import {Store} from '../src/store/store.js'

export default class Rm extends NsxCommand {
  static override summary = 'Remove containers: upper directory, log, cgroups, name and layer pins'
  static override description = `Removes everything a container has: its directory in the store (upper directory, configuration, log), its cgroups, its name and its pin on the image's layers (which nsx gc may then free). A running container is refused unless -f, which kills it first. Prints each reference given.`

  static override strict = false

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web', description: 'Remove a stopped container.'},
    {command: '<%= config.bin %> <%= command.id %> -f web', description: 'Kill and remove a running one.'},
  ]

  static override args = {
    container: Args.string({description: 'Container names or id prefixes', required: true}),
  }

  static override flags = {
    force: Flags.boolean({char: 'f', description: 'Kill a running container first (SIGKILL)'}),
    volumes: Flags.boolean({char: 'v', description: 'Remove the anonymous volumes (made for -v /PATH) of the container too'}),
    link: Flags.boolean({char: 'l', description: 'Remove the legacy link each argument names, PARENT/ALIAS (nsx run --link NAME:ALIAS made it), from PARENT: both containers stay'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Rm)
    const store = Store.open(undefined, {create: false})
    if (flags.link) await eachRef('nsx rm', argv as string[], (ref) => removeLink(store, ref), (ref) => process.stdout.write(`${ref}\n`))
    else await eachRef('nsx rm', argv as string[], (ref) => removeContainerVerb(store, ref, {force: flags.force, volumes: flags.volumes}), (ref) => process.stdout.write(`${ref}\n`))
  }
}
