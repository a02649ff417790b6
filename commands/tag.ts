import {Args} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {tagImage, TagResult} from '../src/registry/tag.js'
import {Store} from '../src/store/store.js'

export default class Tag extends NsxCommand {
  static override summary = 'Give a stored image another name'
  static override description = `TARGET is a reference ([REGISTRY/]REPOSITORY[:TAG], the tag defaulting to latest), recorded in docker's short form (docker.io/library/busybox:1 is busybox:1). A name that pointed to another image moves to this one. The image itself is not copied.`

  static override enableJsonFlag = true

  static override examples = [{command: '<%= config.bin %> <%= command.id %> app:latest localhost:5000/app:1.0', description: 'Name an image for a registry.'}]

  static override args = {
    source: Args.string({description: 'The stored image: name[:tag], id or id prefix', required: true}),
    target: Args.string({description: 'The new name', required: true}),
  }

  async run(): Promise<TagResult> {
    const {args} = await this.parse(Tag)
    const store = Store.open(undefined, {create: false})
    store.lock('shared')
    return tagImage(store, {source: args.source, target: args.target})
  }
}
