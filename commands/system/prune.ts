import {Flags} from '@oclif/core'
import {createInterface} from 'node:readline'
import {NsxCommand} from '../../src/cli/command.js'
import {NsxError} from '../../src/cli/errors.js'
import {type PruneReport, renderPrune, systemPrune} from '../../src/lifecycle/prune.js'
import {type FilterArgs, filterArgsOfWords} from '../../src/store/prune-filter.js'
import {Store} from '../../src/store/store.js'

export default class SystemPrune extends NsxCommand {
  static override summary = 'Remove stopped containers, unused networks, dangling images and the build cache (docker system prune)'
  static override description = `docker system prune: every container that is not running, every network no container uses (not the default one), the dangling images (with -a every image no container uses) and the layers only they held, nsx build's cache, and with --volumes every volume no container uses. --filter until=TIME (created at or before TIME: a duration before now such as 24h, an RFC 3339 time or Unix seconds; refused with --volumes, as docker refuses it), label=KEY[=VALUE] and label!=KEY[=VALUE] go to each area as the docker CLI passes them (for the build cache until is a duration of disuse). Asks first, as docker does, unless -f is given (an answer other than y or yes leaves everything). Prints what it removed in docker's sections and the total space reclaimed. nsx gc is the other sweep: what crashed containers and interrupted imports left. The Engine API's prune endpoints (containers, images, networks, volumes, build) call the same functions.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -f', description: 'Remove stopped containers, unused networks, dangling images and the build cache.'},
    {command: '<%= config.bin %> <%= command.id %> -a --volumes -f', description: 'And every unused image and volume.'},
    {command: '<%= config.bin %> <%= command.id %> -f --filter until=24h --filter label=stage=ci', description: 'Only what was made more than a day ago with the label stage=ci.'},
  ]

  static override flags = {
    all: Flags.boolean({char: 'a', description: 'Remove every image no container uses, not only dangling ones'}),
    volumes: Flags.boolean({description: 'Remove the volumes no container uses too'}),
    force: Flags.boolean({char: 'f', description: 'Do not ask for confirmation'}),
    filter: Flags.string({description: 'until=TIME, label=KEY[=VALUE] or label!=KEY[=VALUE] (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'FILTER'}),
  }

  async run(): Promise<PruneReport | undefined> {
    const {flags} = await this.parse(SystemPrune)
    const filters = filterArgsOfWords(flags.filter)
    if (flags.volumes && filters.has('until')) throw NsxError.invalid('ERROR: The "until" filter is not supported with "--volumes"')
    if (!flags.force && !(await confirm(flags.all, flags.volumes, filters))) return undefined
    const store = Store.open(undefined, {create: false})
    store.lock('exclusive')
    const r = await systemPrune(store, {all: flags.all, volumes: flags.volumes, filters})
    if (!this.jsonEnabled()) process.stdout.write(renderPrune(r))
    return r
  }
}

/** docker's warning (with the filters, as it lists them) and question; true for y or yes. */
async function confirm(all: boolean, volumes: boolean, filters: FilterArgs): Promise<boolean> {
  const what = ['all stopped containers', 'all networks not used by at least one container', ...(volumes ? ['all volumes not used by at least one container'] : []), all ? 'all images without at least one container associated to them' : 'all dangling images', all ? 'all build cache' : 'all dangling build cache']
  const shown = ['label', 'label!', 'until'].flatMap((k) => (filters.get(k) ?? []).map((v) => `${k}=${v}`)).sort()
  const filterLines = shown.length > 0 ? `\n  Items to be pruned will be filtered with:\n${shown.map((f) => `  - ${f}\n`).join('')}` : ''
  process.stdout.write(`WARNING! This will remove:\n${what.map((w) => `  - ${w}\n`).join('')}${filterLines}\nAre you sure you want to continue? [y/N] `)
  const rl = createInterface({input: process.stdin})
  const answer = await new Promise<string>((resolve) => {
    rl.once('line', (l) => resolve(l))
    rl.once('close', () => resolve(''))
  })
  rl.close()
  return /^(y|yes)$/i.test(answer.trim())
}
