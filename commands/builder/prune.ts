import {Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {buildCachePrune, type PruneReport, renderPrune} from '../../src/lifecycle/prune.js'
import {filterArgsOfWords} from '../../src/store/prune-filter.js'
import {parseSize} from '../../src/security/spec.js'
import {Store} from '../../src/store/store.js'

export default class BuilderPrune extends NsxCommand {
  static override summary = "Remove nsx build's cache"
  static override description = `docker builder prune: nsx build's cached steps, as BuildKit prunes its records, then the layers only they held. Without -a only the steps whose layer no image holds (docker's "dangling" cache); with -a all of them. --filter until=DURATION (or unused-for=) keeps the steps used within it (each build that takes a step from the cache marks it used: nsx system df -v shows when and how often); --keep-storage SIZE stops once the cache no image shares is smaller than SIZE, the least recently and least often used steps going first. Prints the cache ids removed and the space reclaimed. The Engine API's POST /build/prune and nsx system prune call the same function.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -f', description: 'Remove the cached steps no image shares.'},
    {command: '<%= config.bin %> <%= command.id %> -a -f --filter until=24h', description: 'Remove every step not used for a day.'},
    {command: '<%= config.bin %> <%= command.id %> -f --keep-storage 1GB', description: 'Keep at most 1 GB of cache.'},
  ]

  static override flags = {
    all: Flags.boolean({char: 'a', description: 'Remove all unused build cache, not just dangling ones'}),
    force: Flags.boolean({char: 'f', description: 'Do not ask for confirmation (nsx never asks: accepted for docker compatibility)'}),
    filter: Flags.string({description: "until=DURATION (e.g. 24h), unused-for=DURATION, id=, description=, shared=, private= (repeatable)", multiple: true, multipleNonGreedy: true, helpValue: 'FILTER'}),
    'keep-storage': Flags.string({description: 'Amount of disk space to keep for cache (bytes, or 512m, 1GB: powers of 1024, as docker reads them)', helpValue: 'SIZE'}),
  }

  async run(): Promise<Pick<PruneReport, 'CachesDeleted' | 'SpaceReclaimed'>> {
    const {flags} = await this.parse(BuilderPrune)
    const filters = filterArgsOfWords(flags.filter)
    const keepStorage = flags['keep-storage'] !== undefined ? parseSize(flags['keep-storage'], '--keep-storage') : undefined
    const store = Store.open(undefined, {create: false})
    store.lock('exclusive')
    const r = buildCachePrune(store, {all: flags.all, keepStorage, filters})
    process.stdout.write(renderPrune(r))
    return r
  }
}
