import {Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {collectSystemGarbage, type GcReport} from '../src/lifecycle/prune.js'
import {renderFreed} from '../src/store/report.js'
import {Store} from '../src/store/store.js'

export default class Gc extends NsxCommand {
  static override summary = 'Remove layers no image or running container uses, and leftovers of interrupted imports'
  static override description = `Mark and sweep over the layer store: every layer of a stored image and every layer pinned by a running container is kept; the others are deleted, as are names pointing to missing images, pins of containers that are gone, what dead containers left (cgroups, upper directories, state, the anonymous volumes of --rm ones; nsx killed by SIGKILL), and what interrupted imports left in the store's tmp directory; on the networks, the attachments of containers that no longer run (CNI DEL: veth, address lease, NAT and port rules, network namespace) and address leases no container holds go, and the running ones get a CNI CHECK. Waits for imports in progress to finish first. Reports what it removed and the disk space freed. (nsx system prune removes what docker's does: stopped containers, unused networks and images, the build cache.)`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --dry-run', description: 'Show what would be removed.'},
    {command: '<%= config.bin %> <%= command.id %>', description: 'Remove it.'},
  ]

  static override flags = {
    'dry-run': Flags.boolean({char: 'n', description: 'Only report what would be removed'}),
  }

  async run(): Promise<GcReport> {
    const {flags} = await this.parse(Gc)
    const dryRun = flags['dry-run']
    const store = Store.open(undefined, {create: false})
    store.lock('exclusive')
    const r = await collectSystemGarbage(store, {dryRun})
    if (!this.jsonEnabled()) {
      if (r.containers.length > 0) process.stdout.write(`Removed what ${r.containers.length} dead container(s) left: ${r.containers.join(', ')}\n`)
      if (r.networks) {
        if (r.networks.released.length > 0) process.stdout.write(`Released the network attachments of ${r.networks.released.length} container(s) that no longer run\n`)
        if (r.networks.leases.length > 0) process.stdout.write(`Removed ${r.networks.leases.length} address lease(s) no container holds\n`)
        for (const c of r.networks.checks) process.stderr.write(`nsx gc: network check failed: ${c}\n`)
      }
      if (r.volumes.length > 0) process.stdout.write(`${dryRun ? 'Would remove' : 'Removed'} ${r.volumes.length} anonymous volume(s) of removed --rm containers: ${r.volumes.join(', ')}\n`)
      process.stdout.write(renderFreed(r, dryRun))
    }
    return r
  }
}
