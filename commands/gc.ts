import {Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {collectGarbage, Freed} from '../src/store/gc.js'
import {renderFreed} from '../src/store/report.js'
import {Store} from '../src/store/store.js'
import type {NetworkGcReport} from '../src/network/attach.js'

export default class Gc extends NsxCommand {
  static override summary = 'Remove layers no image or running container uses, and leftovers of interrupted imports'
  static override description = `Mark and sweep over the layer store: every layer of a stored image and every layer pinned by a running container is kept; the others are deleted, as are names pointing to missing images, pins of containers that are gone, what dead containers left (cgroups, upper directories, state, the anonymous volumes of --rm ones; nsx killed by SIGKILL), and what interrupted imports left in the store's tmp directory; on the networks, the attachments of containers that no longer run (CNI DEL: veth, address lease, NAT and port rules, network namespace) and address leases no container holds go, and the running ones get a CNI CHECK. Waits for imports in progress to finish first. Reports what it removed and the disk space freed.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --dry-run', description: 'Show what would be removed.'},
    {command: '<%= config.bin %> <%= command.id %>', description: 'Remove it.'},
  ]

  static override flags = {
    'dry-run': Flags.boolean({char: 'n', description: 'Only report what would be removed'}),
  }

  async run(): Promise<Freed & {containers: string[]; volumes: string[]; dryRun: boolean; networks?: NetworkGcReport}> {
    const {flags} = await this.parse(Gc)
    const store = Store.open(undefined, {create: false})
    store.lock('exclusive')
    // Containers whose nsx was killed: their cgroups, upper directories and pins go first.
    const {sweepStale} = await import('../src/container/state.js')
    const containers = flags['dry-run'] ? [] : sweepStale(store)
    if (!this.jsonEnabled() && containers.length > 0) process.stdout.write(`Removed what ${containers.length} dead container(s) left: ${containers.join(', ')}\n`)
    // Their networks: attachments of dead containers released (CNI DEL), leases nobody holds dropped, live ones CHECKed.
    const {gcNetworks} = await import('../src/lifecycle/container-network.js')
    const networks = flags['dry-run'] ? undefined : await gcNetworks(store)
    if (!this.jsonEnabled() && networks) {
      if (networks.released.length > 0) process.stdout.write(`Released the network attachments of ${networks.released.length} container(s) that no longer run\n`)
      if (networks.leases.length > 0) process.stdout.write(`Removed ${networks.leases.length} address lease(s) no container holds\n`)
      for (const c of networks.checks) process.stderr.write(`nsx gc: network check failed: ${c}\n`)
    }
    const freed = collectGarbage(store, {dryRun: flags['dry-run']})
    // The anonymous volumes of --rm containers that died without their supervisor's cleanup.
    const {collectVolumes} = await import('../src/volume/volumes.js')
    const vols = collectVolumes(store, {dryRun: flags['dry-run']})
    freed.bytes += vols.bytes
    if (!this.jsonEnabled() && vols.volumes.length > 0) process.stdout.write(`${flags['dry-run'] ? 'Would remove' : 'Removed'} ${vols.volumes.length} anonymous volume(s) of removed --rm containers: ${vols.volumes.join(', ')}\n`)
    if (!this.jsonEnabled()) process.stdout.write(renderFreed(freed, flags['dry-run']))
    return {...freed, containers, volumes: vols.volumes, dryRun: flags['dry-run'], ...(networks ? {networks} : {})}
  }
}
