import {Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {collectGarbage, Freed} from '../src/store/gc.js'
import {renderFreed} from '../src/store/report.js'
import {Store} from '../src/store/store.js'

export default class Gc extends NsxCommand {
  static override summary = 'Remove layers no image or running container uses, and leftovers of interrupted imports'
  static override description = `Mark and sweep over the layer store: every layer of a stored image and every layer pinned by a running container is kept; the others are deleted, as are names pointing to missing images, pins of containers that are gone, and what interrupted imports left in the store's tmp directory. Waits for imports in progress to finish first. Reports what it removed and the disk space freed.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --dry-run', description: 'Show what would be removed.'},
    {command: '<%= config.bin %> <%= command.id %>', description: 'Remove it.'},
  ]

  static override flags = {
    'dry-run': Flags.boolean({char: 'n', description: 'Only report what would be removed'}),
  }

  async run(): Promise<Freed & {dryRun: boolean}> {
    const {flags} = await this.parse(Gc)
    const store = Store.open(undefined, {create: false})
    store.lock('exclusive')
    const freed = collectGarbage(store, {dryRun: flags['dry-run']})
    if (!this.jsonEnabled()) process.stdout.write(renderFreed(freed, flags['dry-run']))
    return {...freed, dryRun: flags['dry-run']}
  }
}
