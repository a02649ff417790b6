import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {formatBytes} from '../src/image/size.js'
import {renderTable} from '../src/render/table.js'
import {HistoryRow, imageHistory} from '../src/store/history.js'
import {shortId, Store} from '../src/store/store.js'

export default class History extends NsxCommand {
  static override summary = 'Show the history of a stored image: the steps that made it, newest first'
  static override description = `One row per entry of the image config's history (what nsx build, buildah and docker record): when, the step, the layer it made and that layer's size (0B for steps that only changed the config). Commands are shortened to the terminal unless --no-trunc.`

  static override enableJsonFlag = true

  static override examples = [{command: '<%= config.bin %> <%= command.id %> app:1.0', description: 'How app:1.0 was built.'}]

  static override args = {
    image: Args.string({description: 'The stored image: name[:tag] or id', required: true}),
  }

  static override flags = {
    'no-trunc': Flags.boolean({description: 'Do not shorten the steps'}),
    quiet: Flags.boolean({char: 'q', description: 'Print the layer ids only (<missing> for config-only steps)'}),
  }

  async run(): Promise<{id: string; history: HistoryRow[]}> {
    const {args, flags} = await this.parse(History)
    const store = Store.open(undefined, {create: false})
    const h = imageHistory(store, args.image)
    if (this.jsonEnabled()) return h
    const layerId = (r: HistoryRow) => (r.layer ? shortId(r.layer) : '<missing>')
    if (flags.quiet) {
      process.stdout.write(h.history.map((r) => `${layerId(r)}\n`).join(''))
      return h
    }
    const width = Math.max(20, (process.stdout.columns ?? 120) - 60)
    const printable = (s: string) => s.replace(/[\x00-\x1f\x7f-\x9f]/g, ' ')
    process.stdout.write(
      renderTable(
        [
          {header: 'LAYER', value: layerId},
          {header: 'CREATED', value: (r) => (r.created ?? '').replace('T', ' ').slice(0, 19) || '-'},
          {header: 'SIZE', align: 'right', value: (r) => formatBytes(r.size)},
          {header: 'CREATED BY', value: (r) => (flags['no-trunc'] || r.createdBy.length <= width ? printable(r.createdBy) : `${printable(r.createdBy).slice(0, width - 3)}...`)},
        ],
        h.history,
      ),
    )
    return h
  }
}
