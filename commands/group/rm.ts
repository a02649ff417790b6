import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {removeGroup} from '../../src/group/groups.js'
import {Store} from '../../src/store/store.js'

export default class GroupRm extends NsxCommand {
  static override summary = 'Remove named groups and their cgroups'
  static override description = 'Removes each group\'s cgroups and its record. Refused while a container runs inside it (unless -f, which stops those containers first, as nsx stop does) or while it has child groups. Exit status 1 when a group does not exist or cannot be removed.'

  static override strict = false

  static override examples = [{command: '<%= config.bin %> <%= command.id %> -f students', description: 'Stop the students\' containers and remove the group.'}]

  static override args = {
    name: Args.string({description: 'Group names', required: true}),
  }

  static override flags = {
    force: Flags.boolean({char: 'f', description: 'Stop the containers inside first'}),
  }

  async run(): Promise<{name: string; stopped: string[]}[]> {
    const {argv, flags} = await this.parse(GroupRm)
    const store = Store.open(undefined, {create: false})
    const out = []
    for (const name of argv as string[]) {
      out.push(await removeGroup(store, name, {force: flags.force}))
      if (!this.jsonEnabled()) process.stdout.write(`${name}\n`)
    }
    return out
  }
}
