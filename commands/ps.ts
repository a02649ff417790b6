import {NsxCommand} from '../src/cli/command.js'
import {ContainerEntry, formatUptime, runningContainers} from '../src/container/listing.js'
import {sweepStale} from '../src/container/state.js'
import {palette} from '../src/render/colour.js'
import {renderTable} from '../src/render/table.js'
import {Store} from '../src/store/store.js'

export default class Ps extends NsxCommand {
  static override summary = 'List the running containers started by nsx run'
  static override description = `One row per running container: its name, the host pid of its init (what nsx enter NAME enters, and what nsx inspect or nsx pstree take), how long it has been up, its image or layers, and its command. Containers whose nsx was killed are swept first (their cgroups, upper directories and state removed), as nsx run and nsx gc do.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Running containers.'},
    {command: '<%= config.bin %> <%= command.id %> --json | jq -r ".[].pid"', description: 'Host pids of their inits.'},
  ]

  async run(): Promise<ContainerEntry[]> {
    await this.parse(Ps)
    const store = Store.open(undefined, {create: false})
    if (store.exists && (process.geteuid?.() ?? 0) === 0) sweepStale(store)
    const entries = runningContainers(store)
    if (this.jsonEnabled()) return entries
    const p = palette()
    process.stdout.write(
      renderTable(
        [
          {header: 'NAME', value: (e: ContainerEntry) => p.bold(e.name)},
          {header: 'PID', align: 'right', value: (e) => String(e.pid)},
          {header: 'UP', align: 'right', value: (e) => formatUptime(e.uptime)},
          {header: 'IMAGE', value: (e) => e.image ?? p.dim(`${e.layers} layer${e.layers === 1 ? '' : 's'}`)},
          {header: 'COMMAND', value: (e) => e.command.join(' ')},
        ],
        entries,
      ),
    )
    return entries
  }
}
