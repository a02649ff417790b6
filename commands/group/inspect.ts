import {Args} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {GroupView, inspectGroup} from '../../src/group/groups.js'
import {Store} from '../../src/store/store.js'

export default class GroupInspect extends NsxCommand {
  static override summary = 'A group\'s limits (absolute, and as given in % of the host), cgroups and containers, as JSON'
  static override description = 'Prints the group as JSON: its limits in force (bytes, CPUs, microseconds), the shares of the host they were given as, its cgroup in each hierarchy, its running containers and child groups. Exit status 1 when it does not exist.'

  static override examples = [{command: '<%= config.bin %> <%= command.id %> professors', description: 'The professors\' group.'}]

  static override args = {
    name: Args.string({description: 'The group\'s name', required: true}),
  }

  async run(): Promise<GroupView> {
    const {args} = await this.parse(GroupInspect)
    const g = inspectGroup(Store.open(undefined, {create: false}), args.name)
    process.stdout.write(JSON.stringify(g, null, 2) + '\n')
    return g
  }
}
