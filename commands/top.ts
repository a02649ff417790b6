import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {SORT_KEYS, SortKey} from '../src/cgroup/snapshot.js'
import {executeTop} from '../src/tui/top.js'
import {containerInitPid} from '../src/enter/target.js'

export default class Top extends NsxCommand {
  static override summary = 'Live dashboard of cgroup usage: CPU, memory, pids, IO, pressure and containers\' network bytes per cgroup'
  static override description = `One row per cgroup (merged across v1 hierarchies and the cgroup2 tree on hybrid hosts; an nsx container is one row, called by its name, whatever the paths of its cgroups): tasks, CPU% (100 = one core), memory usage and working set (usage minus inactive file cache) against the limit, pids against pids.max, IO read and write bytes per second, a container's network bytes received and sent per second (from its host-side veth; nothing for one with no network of its own), and on cgroup2 the PSI "some avg10" for cpu, memory and io.

On a terminal, an interactive dashboard: arrows or j/k move, enter expands or collapses, s cycles the sort (cpu, memory, io, pids, name), / filters by path or container name, f switches tree and flat list, p pauses, ? shows help, q quits. The selected cgroup shows CPU and memory history, a memory gauge and its processes with their non-host namespaces.

With --batch (or when stdout or stdin is not a terminal), prints snapshots with the raw counters (microseconds, bytes) and the rates over each interval, like systemd-cgtop -b; with --json, one JSON object per line per iteration.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'The dashboard.'},
    {command: '<%= config.bin %> <%= command.id %> --batch --iterations 3 --delay 2', description: 'Three snapshots, two seconds apart.'},
    {command: '<%= config.bin %> <%= command.id %> --json --iterations 5 /system.slice', description: 'Five JSON lines for one subtree.'},
    {command: '<%= config.bin %> <%= command.id %> web', description: 'Container web alone (its name or id prefix).'},
  ]

  static override args = {
    cgroup: Args.string({description: 'Show only this cgroup and its descendants (a path such as /system.slice), or a running container (its name or id prefix)', required: false}),
  }

  static override flags = {
    batch: Flags.boolean({char: 'b', description: 'Print snapshots instead of the dashboard (the default when stdout or stdin is not a terminal).'}),
    iterations: Flags.integer({char: 'n', description: 'Number of snapshots; implies --batch (default: until interrupted; 1 with --json).', min: 1, helpValue: 'N'}),
    delay: Flags.string({char: 'd', description: 'Seconds between refreshes (fractions allowed, at least 0.1).', default: '1', helpValue: 'SECONDS'}),
    sort: Flags.option({char: 's', description: 'Sort key (siblings in the tree, all rows with --flat).', options: SORT_KEYS, default: 'cpu' as SortKey})(),
    flat: Flags.boolean({description: 'A flat list instead of the cgroup tree.'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(Top)
    // A word without a slash may be a running container (name or id prefix): its cgroups.
    const pid = args.cgroup === undefined || args.cgroup.includes('/') ? undefined : containerInitPid(args.cgroup)
    await executeTop({...flags, cgroup: args.cgroup, container: pid === undefined ? undefined : {pid}, json: this.jsonEnabled()})
    // JSON lines were streamed as they came; nothing left for oclif to print.
    return undefined
  }
}
