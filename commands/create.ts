import {Args} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {CONTAINER_CREATE_EXIT_STATUS} from '../src/cli/exit-status.js'
import {runRun} from '../src/lifecycle/run.js'
import Run from './run.js'

/** `nsx create`: nsx run's flags and container, made and kept, not started (nsx start runs it). */
export default class Create extends NsxCommand {
  static override failureExitCode = 125
  static exitStatus = CONTAINER_CREATE_EXIT_STATUS
  static override strict = false

  static override summary = 'Create a container (as nsx run would) without starting it'
  static override description = `Prepares the image's layers, the container's directory (upper directory, configuration) and its name, and prints its id; nsx start runs it, as often as wanted, nsx rm removes it. Takes nsx run's options but -d.`

  static override usage = ['create [OPTIONS] IMAGE [COMMAND [ARG...]]', 'create [OPTIONS] (--image PATH[:TAG]|NAME | --layer DIR|TAR...) [--] [COMMAND [ARG...]]']

  static override examples = [{command: '<%= config.bin %> <%= command.id %> --name web busybox httpd -f && <%= config.bin %> start web', description: 'Create, then start.'}]

  static override args = {
    image: Args.string({description: 'The image (a stored name or id, or PATH[:TAG]); then the command and its arguments', required: false}),
  }

  static override flags = Run.flags

  async run(): Promise<void> {
    const outcome = await runRun(this.argv, 'create')
    if (outcome.kind === 'help') {
      const {loadHelpClass} = await import('@oclif/core')
      const Help = await loadHelpClass(this.config)
      await new Help(this.config).showHelp(['create'])
      return
    }
    process.exitCode = outcome.exitCode
  }
}
