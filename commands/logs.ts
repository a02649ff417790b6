import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {containerLogs, parseTail} from '../src/lifecycle/logs.js'
import {Store} from '../src/store/store.js'

export default class Logs extends NsxCommand {
  static override summary = "Print a container's output: its stdout here on stdout, its stderr on stderr"
  static override description = `The output of a container started in the background (nsx run -d, nsx start), which its supervisor keeps in docker's json-file format: one entry per line, stdout and stderr apart, each with the time it was written, in the container's directory (container.log, rotated to container.log.1 ... past --log-opt max-size, 10m by default, keeping --log-opt max-file files, 3 by default). A foreground container's output went to its terminal and is not logged.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web', description: 'Everything web printed.'},
    {command: '<%= config.bin %> <%= command.id %> -f --tail 10 -t web', description: 'The last 10 lines with their times, then follow.'},
    {command: '<%= config.bin %> <%= command.id %> --since 5m web 2>/dev/null', description: 'Its stdout of the last five minutes.'},
  ]

  static override args = {
    container: Args.string({description: 'Container name or id prefix', required: true}),
  }

  static override flags = {
    follow: Flags.boolean({char: 'f', description: 'Keep printing new output until the container stops'}),
    tail: Flags.string({char: 'n', description: 'Only the last N lines ("all": every one)', default: 'all', helpValue: 'N'}),
    timestamps: Flags.boolean({char: 't', description: 'Prefix each line with the time it was written (RFC 3339, nanoseconds)'}),
    since: Flags.string({description: 'Only lines since a time: RFC 3339, Unix seconds, or a duration ago (10m, 1h30m)', helpValue: 'TIME'}),
    until: Flags.string({description: 'Only lines until a time (same forms as --since)', helpValue: 'TIME'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Logs)
    const tail = parseTail(flags.tail)
    const store = Store.open(undefined, {create: false})
    const abort = new AbortController()
    process.once('SIGINT', () => abort.abort())
    for await (const e of containerLogs(store, args.container, {follow: flags.follow, tail, since: flags.since, until: flags.until, signal: abort.signal})) {
      const out = e.stream === 'stdout' ? process.stdout : process.stderr
      const line = flags.timestamps ? `${e.time} ${e.log}` : e.log
      if (!out.write(line)) await new Promise((r) => out.once('drain', r))
    }
  }
}
