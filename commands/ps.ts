import {Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {NsxError} from '../src/cli/errors.js'
import {ContainerEntry, FILTER_KEYS, listEntries} from '../src/container/listing.js'
import {renderPsTable, renderPsFormat} from '../src/container/ps-render.js'
import {sweepStale} from '../src/container/sweep.js'
import {Store} from '../src/store/store.js'

export default class Ps extends NsxCommand {
  static override summary = 'List containers (running ones; -a for all)'
  static override description = `docker ps's columns: CONTAINER ID (12 hex digits; any unique prefix names it), IMAGE (or the number of layers), COMMAND (control characters escaped as \\xHH), CREATED, STATUS (Up ..., Exited (CODE) ... ago, Created), PORTS and NAMES. --json adds the host pid of each running container's init (what nsx enter, nsx inspect and nsx pstree take) and of its supervisor. What crashes left (an orphaned init, cgroups) is tidied first, as nsx run and nsx gc do; a container whose supervisor was killed reads as exited, never as running.

--filter takes docker's keys name=, id=, status=(created|running|exited), exited=CODE, ancestor=IMAGE, label=KEY[=VALUE] and health=(starting|healthy|unhealthy|none); the same key twice matches either, different keys both. --format takes a Go-template-like string with docker's fields {{.ID}} {{.Image}} {{.Command}} {{.CreatedAt}} {{.RunningFor}} {{.Status}} {{.State}} {{.Names}} {{.Ports}} {{.Pid}}, "table" before it for a table with headers, and \\t for a tab.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Running containers.'},
    {command: '<%= config.bin %> <%= command.id %> -a --filter status=exited -q', description: 'Ids of the stopped ones.'},
    {command: '<%= config.bin %> <%= command.id %> --format "{{.Names}}\\t{{.Status}}"', description: 'Names and status.'},
    {command: '<%= config.bin %> <%= command.id %> --json | jq -r ".[].pid"', description: 'Host pids of their inits.'},
  ]

  static override flags = {
    all: Flags.boolean({char: 'a', description: 'Show every container, not only running ones'}),
    quiet: Flags.boolean({char: 'q', description: 'Only the ids (12 hex digits)'}),
    filter: Flags.string({char: 'f', description: 'KEY=VALUE: name, id, status, exited, ancestor, label, health (repeatable)', multiple: true, helpValue: 'KEY=VALUE'}),
    format: Flags.string({description: 'A template of {{.Field}}s (see above), or "table TEMPLATE"', helpValue: 'TEMPLATE'}),
    'no-trunc': Flags.boolean({description: 'Do not shorten ids and commands'}),
  }

  async run(): Promise<ContainerEntry[]> {
    const {flags} = await this.parse(Ps)
    for (const f of flags.filter ?? []) {
      const key = f.split('=')[0]
      if (!FILTER_KEYS.includes(key)) throw new NsxError(`invalid filter '${key}': expected one of ${FILTER_KEYS.join(', ')}`)
    }
    const store = Store.open(undefined, {create: false})
    if (store.exists && (process.geteuid?.() ?? 0) === 0) sweepStale(store)
    const entries = listEntries(store, {all: flags.all, filters: flags.filter})
    if (this.jsonEnabled()) return entries
    if (flags.quiet) process.stdout.write(entries.map((e) => `${flags['no-trunc'] ? e.id : e.id.slice(0, 12)}\n`).join(''))
    else if (flags.format !== undefined) process.stdout.write(renderPsFormat(entries, flags.format, {noTrunc: flags['no-trunc']}))
    else process.stdout.write(renderPsTable(entries, {noTrunc: flags['no-trunc']}))
    return entries
  }
}
