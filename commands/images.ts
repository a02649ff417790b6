import {Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {formatBytes} from '../src/image/size.js'
import {palette} from '../src/render/colour.js'
import {renderTable} from '../src/render/table.js'
import {ImageListing, imageRows, LayerEntry, listStore} from '../src/store/listing.js'
import {shortId, Store} from '../src/store/store.js'

export default class Images extends NsxCommand {
  static override summary = 'List the images and layers in the layer store, with their sizes'
  static override description = `One row per image name, as docker images shows them; an untagged image shows as <none>. SIZE is the file data of the image's layers (shared layers count in each image that uses them). With --layers, the stored layers follow: their size, how many entries and whiteouts they hold, and which images and running containers use them; a layer nothing uses is what nsx gc removes.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'Stored images.'},
    {command: '<%= config.bin %> <%= command.id %> --layers', description: 'Images, then every stored layer and its users.'},
    {command: '<%= config.bin %> <%= command.id %> --json | jq -r ".layers[] | select(.usedBy == []) | .diffId"', description: 'Layers no image uses.'},
  ]

  static override flags = {
    layers: Flags.boolean({char: 'l', description: 'Also list the stored layers'}),
    quiet: Flags.boolean({char: 'q', description: 'Print image ids only'}),
  }

  async run(): Promise<ImageListing> {
    const {flags} = await this.parse(Images)
    const store = Store.open(undefined, {create: false})
    const listing = listStore(store)
    if (this.jsonEnabled()) return listing
    if (flags.quiet) {
      process.stdout.write([...new Set(listing.images.map((i) => shortId(i.id)))].map((s) => `${s}\n`).join(''))
      return listing
    }
    const p = palette()
    process.stdout.write(
      renderTable(
        [
          {header: 'REPOSITORY', value: (r) => r.repository},
          {header: 'TAG', value: (r) => r.tag},
          {header: 'IMAGE ID', value: (r) => p.dim(shortId(r.image.id))},
          {header: 'CREATED', value: (r) => (r.image.created ?? '').slice(0, 10) || '-'},
          {header: 'LAYERS', align: 'right', value: (r) => String(r.image.layers.length)},
          {header: 'SIZE', align: 'right', value: (r) => formatBytes(r.image.size)},
        ],
        imageRows(listing),
      ),
    )
    if (flags.layers) {
      const used = (l: LayerEntry) => [...l.usedBy.map(shortId), ...l.pinnedBy.map((c) => `container ${c}`), ...(l.kept ? ['kept'] : [])].join(',') || p.yellow('unused')
      process.stdout.write('\n')
      process.stdout.write(
        renderTable(
          [
            {header: 'LAYER', value: (l: LayerEntry) => shortId(l.diffId)},
            {header: 'SIZE', align: 'right', value: (l) => formatBytes(l.size)},
            {header: 'ENTRIES', align: 'right', value: (l) => String(l.entries)},
            {header: 'WHITEOUTS', align: 'right', value: (l) => String(l.whiteouts)},
            {header: 'USED BY', value: used},
          ],
          listing.layers,
        ),
      )
    }
    return listing
  }
}
