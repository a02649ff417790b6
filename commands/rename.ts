import {Args} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {renameContainer} from '../src/lifecycle/rename.js'
import {Store} from '../src/store/store.js'

export default class Rename extends NsxCommand {
  static override summary = 'Rename a container'
  static override description = `The new name is taken before the old one is released, so no other container can take either in between; its hostname stays what it was.`

  static override examples = [{command: '<%= config.bin %> <%= command.id %> bold_curie web', description: 'Give a generated name a real one.'}]

  static override args = {
    container: Args.string({description: 'Container name or id prefix', required: true}),
    newName: Args.string({description: 'The new name', required: true}),
  }

  async run(): Promise<void> {
    const {args} = await this.parse(Rename)
    await renameContainer(Store.open(undefined, {create: false}), args.container, args.newName)
  }
}
