import {Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {type DiskUsage, diskUsageOf} from '../../src/lifecycle/disk-usage.js'
import {renderDiskUsage} from '../../src/lifecycle/disk-usage-render.js'
import {Store} from '../../src/store/store.js'

export default class SystemDf extends NsxCommand {
  static override summary = 'Show the disk space images, containers, volumes and the build cache take (docker system df)'
  static override description = `docker system df: one row per kind, TYPE TOTAL ACTIVE SIZE RECLAIMABLE, measured from the store. Images: every stored layer counted once however many images share it; active, the images some container (running or not) was made from; reclaimable, what the others take (computed as the docker CLI computes it from the Engine API's answer, so docker system df against nsx system service prints the same). Containers: their writable layers (upper directories) on disk; active, the running ones. Local Volumes: their data on disk; active, those some container mounts. Build Cache: nsx build's cached steps and the layers only they hold. -v lists each image (with its shared and unique size), container, volume and cache entry. Sizes in docker's decimal units. The Engine API's GET /system/df calls the same function.`

  static override enableJsonFlag = true

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'The summary.'},
    {command: '<%= config.bin %> <%= command.id %> -v', description: 'Each image, container, volume and cache entry.'},
  ]

  static override flags = {
    verbose: Flags.boolean({char: 'v', description: 'Show each image, container, volume and build cache entry'}),
  }

  async run(): Promise<DiskUsage> {
    const {flags} = await this.parse(SystemDf)
    const u = diskUsageOf(Store.open(undefined, {create: false}))
    if (!this.jsonEnabled()) process.stdout.write(renderDiskUsage(u, flags.verbose))
    return u
  }
}
