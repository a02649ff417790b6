import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {BASE_LIMIT_FLAGS, limitFlagsFrom, RESOURCE_FLAGS} from '../../src/container/limit-flags.js'
import {createGroup} from '../../src/group/groups.js'
import {Group} from '../../src/container/group-record.js'
import {Store} from '../../src/store/store.js'

export default class GroupCreate extends NsxCommand {
  static override summary = 'Make a named group of containers with shared limits (cgroups below nsx\'s own)'
  static override description = `Makes the group's cgroup in every hierarchy (v1, v2 and hybrid hosts), below nsx's own cgroup or below --parent's, writes its limits there, and records it in the store. Containers run with nsx run --group NAME are placed inside it, so its limits hold for all of them together. --memory and --cpus also take a share of the host (50%: half of MemTotal; 30%: of the CPUs online), turned into absolute values now; nsx group inspect shows both. The limit flags and their meanings are nsx run's. Exit status 1 when the name is taken, the parent does not exist, or a limit is invalid or refused by the kernel (then nothing is left behind).`


  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> professors --memory 50% --cpu-shares 1024', description: 'The source material\'s university server: professors get half the memory...'},
    {command: '<%= config.bin %> <%= command.id %> students --memory 30% --cpu-shares 512', description: '...and students less, with half the CPU weight.'},
  ]

  static override args = {
    name: Args.string({description: 'The group\'s name', required: true}),
  }

  static override flags = {
    parent: Flags.string({description: 'Make it inside this group', helpValue: 'NAME'}),
    ...BASE_LIMIT_FLAGS,
    memory: Flags.string({char: 'm', description: 'Memory limit of the group: a size (b, k, m, g) or a share of the host\'s memory (50%)', helpValue: 'SIZE|N%'}),
    cpus: Flags.string({description: 'CPU limit of the group, in CPUs or as a share of the CPUs online (30%)', helpValue: 'N|N%'}),
    ...RESOURCE_FLAGS,
  }

  async run(): Promise<Group> {
    const {args, flags} = await this.parse(GroupCreate)
    const g = await createGroup(Store.open(), {name: args.name, parent: flags.parent, limits: limitFlagsFrom(flags as Record<string, unknown>)})
    if (!this.jsonEnabled()) process.stdout.write(`${g.name}\n`)
    return g
  }
}
