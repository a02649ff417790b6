import {Flags} from '@oclif/core'
import {createInterface} from 'node:readline'
import {NsxCommand} from '../../src/cli/command.js'
import {humanSize} from '../../src/lifecycle/disk-usage.js'
import {type PruneReport, pruneSystem, renderPrune} from '../../src/lifecycle/prune.js'
import {Store} from '../../src/store/store.js'

export default class SystemPrune extends NsxCommand {
  static override summary = 'Remove stopped containers, unused networks, dangling images and the build cache (docker system prune)'
  static override description = `docker system prune: every container that is not running, every network no container uses (not the default one), the dangling images (with -a every image no container uses) and the layers only they held, nsx build's cache, and with --volumes every volume no container uses. Asks first, as docker does, unless -f is given (an answer other than y or yes leaves everything). Prints what it removed in docker's sections and the total space reclaimed. nsx gc is the other sweep: what crashed containers and interrupted imports left. The Engine API's prune endpoints (containers, images, networks, volumes, build) call the same functions.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -f', description: 'Remove stopped containers, unused networks, dangling images and the build cache.'},
    {command: '<%= config.bin %> <%= command.id %> -a --volumes -f', description: 'And every unused image and volume.'},
  ]

  static override flags = {
    all: Flags.boolean({char: 'a', description: 'Remove every image no container uses, not only dangling ones'}),
    volumes: Flags.boolean({description: 'Remove the volumes no container uses too'}),
    force: Flags.boolean({char: 'f', description: 'Do not ask for confirmation'}),
  }

  async run(): Promise<PruneReport | undefined> {
    const {flags} = await this.parse(SystemPrune)
    if (!flags.force && !(await confirm(flags.all, flags.volumes))) return undefined
    const store = Store.open(undefined, {create: false})
    store.lock('exclusive')
    const r = await pruneSystem(store, {all: flags.all, volumes: flags.volumes})
    if (!this.jsonEnabled()) process.stdout.write(`${renderPrune(r)}Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`)
    return r
  }
}

/** docker's warning and question; true for y or yes. */
async function confirm(all: boolean, volumes: boolean): Promise<boolean> {
  const what = ['all stopped containers', 'all networks not used by at least one container', ...(volumes ? ['all volumes not used by at least one container'] : []), all ? 'all images without at least one container associated to them' : 'all dangling images', all ? 'all build cache' : 'all dangling build cache']
  process.stdout.write(`WARNING! This will remove:\n${what.map((w) => `  - ${w}\n`).join('')}\nAre you sure you want to continue? [y/N] `)
  const rl = createInterface({input: process.stdin})
  const answer = await new Promise<string>((resolve) => {
    rl.once('line', (l) => resolve(l))
    rl.once('close', () => resolve(''))
  })
  rl.close()
  return /^(y|yes)$/i.test(answer.trim())
}
