import {Args} from '@oclif/core'
import {eachRef} from '../src/cli/each-ref.js'
import {NsxCommand} from '../src/cli/command.js'
import {waitContainer} from '../src/lifecycle/wait.js'
import {Store} from '../src/store/store.js'

export default class Wait extends NsxCommand {
  static override summary = 'Block until containers stop, then print their exit codes'
  static override description = `Prints each container's exit code (128+N when its command died of signal N) once it is not running, one line per container, in the order given.`

  static override strict = false

  static override examples = [{command: 'code=$(<%= config.bin %> <%= command.id %> job)', description: "The job's exit code."}]

  static override args = {
    container: Args.string({description: 'Container names or id prefixes', required: true}),
  }

  async run(): Promise<void> {
    const {argv} = await this.parse(Wait)
    const store = Store.open(undefined, {create: false})
    await eachRef('nsx wait', argv as string[], (ref) => waitContainer(store, ref), (_ref, r) => process.stdout.write(`${r.exitCode}\n`))
  }
}
