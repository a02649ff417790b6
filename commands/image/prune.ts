import {Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {imagesPrune, type PruneReport, renderPrune} from '../../src/lifecycle/prune.js'
import {addFilter, filterArgsOfWords} from '../../src/store/prune-filter.js'
import {Store} from '../../src/store/store.js'

export default class ImagePrune extends NsxCommand {
  static override summary = 'Remove dangling images, or with -a every image no container uses'
  static override description = `docker image prune: the images without a name (or with -a every image no container, running or stopped, was made from), then the layers only they held. --filter until=TIME keeps those created after TIME (the image's own created time: a duration before now such as 24h, an RFC 3339 time or Unix seconds); label=KEY[=VALUE] and label!=KEY[=VALUE] test the labels of the image's config. Prints docker's "untagged:" and "deleted:" lines and the space reclaimed. The Engine API's POST /images/prune and nsx system prune call the same function.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -f', description: 'Remove the dangling images.'},
    {command: '<%= config.bin %> <%= command.id %> -a -f --filter until=168h', description: 'Remove every unused image made more than a week ago.'},
  ]

  static override flags = {
    all: Flags.boolean({char: 'a', description: 'Remove every image no container uses, not only dangling ones'}),
    force: Flags.boolean({char: 'f', description: 'Do not ask for confirmation (nsx never asks: accepted for docker compatibility)'}),
    filter: Flags.string({description: 'until=TIME, label=KEY[=VALUE] or label!=KEY[=VALUE] (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'FILTER'}),
  }

  async run(): Promise<Pick<PruneReport, 'ImagesDeleted' | 'SpaceReclaimed'>> {
    const {flags} = await this.parse(ImagePrune)
    const filters = filterArgsOfWords(flags.filter)
    // As the docker CLI sends it: -a is dangling=false.
    addFilter(filters, 'dangling', String(!flags.all))
    const store = Store.open(undefined, {create: false})
    store.lock('exclusive')
    const r = imagesPrune(store, filters)
    process.stdout.write(renderPrune(r))
    return r
  }
}
