import {Args} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {type Change, containerChanges, renderChanges} from '../../src/container/changes.js'
import {Store} from '../../src/store/store.js'

export default class ContainerDiff extends NsxCommand {
  static override summary = "The files a container added, changed or deleted in its root (docker diff)"
  static override description = `docker diff: one line per path, A added, C changed, D deleted, read from the container's overlay upper directory against its image's layers (running or stopped: the upper directory lives as long as the container). A whiteout or an opaque directory is a deletion; a path the image has is a change, a directory only copied up to hold a change below it is none; the parent of an addition or deletion is a change. The mount points nsx made for the container (/proc, /sys, /dev, /etc/hosts, /etc/hostname, /etc/resolv.conf when the image lacks them) are not listed, as docker keeps them out of the container's layer. nsx diff CONTAINER (one argument) is the same; nsx diff A B compares two processes' isolation. --json prints the Engine API's [{Path, Kind}] (Kind 0 changed, 1 added, 2 deleted). Exit status 1 when the container does not exist.`

  static override enableJsonFlag = true

  static override usage = ['container diff CONTAINER']

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web', description: 'What container web changed in its root.'},
    {command: '<%= config.bin %> diff web', description: 'The same: nsx diff with one argument is docker diff.'},
  ]

  static override args = {
    container: Args.string({description: 'Container name or unique id prefix (see nsx ps -a)', required: true}),
  }

  async run(): Promise<Change[]> {
    const {args} = await this.parse(ContainerDiff)
    const changes = containerChanges(Store.open(undefined, {create: false}), args.container)
    if (!this.jsonEnabled()) process.stdout.write(renderChanges(changes))
    return changes
  }
}
