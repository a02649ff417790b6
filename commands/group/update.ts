import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {BASE_LIMIT_FLAGS, limitFlagsFrom, RESOURCE_FLAGS} from '../../src/container/limit-flags.js'
import {updateGroup} from '../../src/group/groups.js'
import {Group} from '../../src/container/group-record.js'
import {Store} from '../../src/store/store.js'

export default class GroupUpdate extends NsxCommand {
  static override summary = 'Change a group\'s limits at once, for every container inside it'
  static override description = 'Writes the new limits to the group\'s cgroups (as nsx update does for a container) and records them. --memory and --cpus take a share of the host (N%) as nsx group create does. Exit status 1 when the group does not exist or a limit is invalid or refused by the kernel.'


  static override examples = [{command: '<%= config.bin %> <%= command.id %> students --memory 20%', description: 'Less memory for the students, while their containers run.'}]

  static override args = {
    name: Args.string({description: 'The group\'s name', required: true}),
  }

  static override flags = {
    ...BASE_LIMIT_FLAGS,
    memory: Flags.string({char: 'm', description: 'Memory limit of the group: a size or a share of the host\'s memory (50%)', helpValue: 'SIZE|N%'}),
    cpus: Flags.string({description: 'CPU limit of the group, in CPUs or as a share of the CPUs online (30%)', helpValue: 'N|N%'}),
    ...RESOURCE_FLAGS,
  }

  async run(): Promise<Group> {
    const {args, flags} = await this.parse(GroupUpdate)
    const g = await updateGroup(Store.open(undefined, {create: false}), args.name, limitFlagsFrom(flags as Record<string, unknown>))
    if (!this.jsonEnabled()) process.stdout.write(`${g.name}\n`)
    return g
  }
}
