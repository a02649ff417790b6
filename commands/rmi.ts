import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {NsxError} from '../src/cli/errors.js'
import {Freed, removeImages} from '../src/store/gc.js'
import {renderFreed} from '../src/store/report.js'
import {Store} from '../src/store/store.js'

export default class Rmi extends NsxCommand {
  static override summary = 'Remove images from the layer store, and the layers only they used'
  static override description = `Each IMAGE is a name (name:tag, the tag defaulting to latest) or an image id or unique id prefix. As with docker rmi, removing one of several names of an image only untags it; removing the last name, or the id, deletes the image and every layer no other image and no running container uses. An id of an image with several names needs --force. A layer loaded on its own (nsx load --layer), named by its digest or a unique prefix, is released and deleted unless an image or a running container uses it. Every reference is checked before anything is removed. Reports what was untagged and deleted, and the disk space freed.`

  static override enableJsonFlag = true
  static override strict = false

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> busybox:latest', description: 'Remove an image by name.'},
    {command: '<%= config.bin %> <%= command.id %> --force 3f57d9401f8d', description: 'Remove an image and all its names by id.'},
  ]

  static override args = {
    image: Args.string({description: 'Image name[:tag], id or id prefix; several may be given'}),
  }

  static override flags = {
    force: Flags.boolean({char: 'f', description: 'Remove an image given by id even when it has several names'}),
  }

  async run(): Promise<Freed> {
    const {argv, flags} = await this.parse(Rmi)
    const refs = argv as string[]
    if (refs.length === 0) throw new NsxError('no image given: name an image as name[:tag], id or id prefix (see nsx images)')
    const store = Store.open(undefined, {create: false})
    store.lock('exclusive')
    const freed = removeImages(store, refs, {force: flags.force})
    if (!this.jsonEnabled()) process.stdout.write(renderFreed(freed, false))
    return freed
  }
}
