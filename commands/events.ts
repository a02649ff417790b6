import {Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {parseEventTime, parseFilterWords} from '../src/events/filter.js'
import {followEvents} from '../src/events/follow.js'
import {eventRenderer} from '../src/events/render.js'
import {Store} from '../src/store/store.js'

export default class Events extends NsxCommand {
  static override summary = 'Show what happens to containers, images, networks and volumes'
  static override description = `docker events over the store's events, whichever door made them (nsx's verbs, the Engine API of nsx system service, a container's supervisor): containers' create, start, die, destroy, kill, stop, restart, pause, unpause, rename; images' pull, push, tag, untag, delete, load, save, import; networks' create, connect, disconnect, destroy; volumes' create, mount, unmount, destroy. Without --since and --until it shows what comes until interrupted; --since replays the last 256 from that time first; --until ends it then (a time past gives a finite list). Times are Unix seconds, RFC 3339 dates or durations before now (10m, 1h30m). --filter takes docker's keys: type, event, container, image, label (KEY or KEY=VALUE), network, volume; the same key twice matches either, different keys both. --format is a Go template over docker's message ({{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}} {{.Time}}; {{json .}} for one JSON document a line).`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --filter type=container --filter event=die', description: 'Every container that ends, from now on.'},
    {command: '<%= config.bin %> <%= command.id %> --since 10m --until 0s --format "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}"', description: 'What happened in the last ten minutes, then end.'},
  ]

  static override flags = {
    since: Flags.string({description: 'Show events from this time on (replayed from the last 256)', helpValue: 'TIME'}),
    until: Flags.string({description: 'End at this time', helpValue: 'TIME'}),
    filter: Flags.string({char: 'f', description: 'KEY=VALUE: type, event, container, image, label, network, volume (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'KEY=VALUE'}),
    format: Flags.string({description: 'A Go template over each event ({{json .}}: JSON lines)', helpValue: 'TEMPLATE'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Events)
    const now = Date.now()
    const since = flags.since === undefined ? undefined : parseEventTime(flags.since, '--since', now)
    const until = flags.until === undefined ? undefined : parseEventTime(flags.until, '--until', now)
    const render = eventRenderer(flags.format)
    const filters = parseFilterWords(flags.filter ?? [])
    const abort = new AbortController()
    process.stdout.on('error', () => abort.abort())
    const store = Store.open()
    await followEvents(store, {since, until, filters, signal: abort.signal}, (e) => {
      if (!abort.signal.aborted) process.stdout.write(render(e.message))
    })
    const {closeEventHub} = await import('../src/events/follow.js')
    closeEventHub(store)
  }
}
