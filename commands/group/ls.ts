import {NsxCommand} from '../../src/cli/command.js'
import {GroupView, listGroups} from '../../src/group/groups.js'
import {Store} from '../../src/store/store.js'

const mib = (b: number | undefined) => (b === undefined ? '-' : `${Math.round(b / 1024 / 1024)}MiB`)

export default class GroupLs extends NsxCommand {
  static override summary = 'List the named groups, their limits and their containers'
  static override description = 'One line per group: its name, parent, memory limit and CPU limit (with the share of the host they were given as), CPU shares, and its running containers. Exit status 0.'

  static override enableJsonFlag = true

  static override examples = [{command: '<%= config.bin %> <%= command.id %>', description: 'Every group.'}]

  async run(): Promise<GroupView[]> {
    await this.parse(GroupLs)
    const groups = listGroups(Store.open(undefined, {create: false}))
    if (!this.jsonEnabled()) {
      const rows = [['NAME', 'PARENT', 'MEMORY', 'CPUS', 'SHARES', 'CONTAINERS']]
      for (const g of groups) {
        const mem = `${mib(g.limits.memory)}${g.percent.memory ? ` (${g.percent.memory})` : ''}`
        const cpus = `${g.limits.cpus ?? '-'}${g.percent.cpus ? ` (${g.percent.cpus})` : ''}`
        rows.push([g.name, g.parent ?? '-', mem, cpus, String(g.limits.cpuShares ?? '-'), g.containers.join(',') || '-'])
      }
      const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
      process.stdout.write(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ')).join('\n') + '\n')
    }
    return groups
  }
}
