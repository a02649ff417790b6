import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {NsxError} from '../src/cli/errors.js'
import {BASE_LIMIT_FLAGS, limitFlagsFrom, RESOURCE_FLAGS} from '../src/container/limit-flags.js'
import {updateContainers, UpdateResult} from '../src/container/update.js'
import {Store} from '../src/store/store.js'

export default class Update extends NsxCommand {
  static override summary = 'Change the limits and restart policy of containers (docker update)'
  static override description = `Writes the new limits to each running container's cgroups at once, with the checks and meanings of nsx run's flags, and saves them in its state (nsx update --json prints every limit in force after the change); a created or exited container's are saved for its next start. --restart changes the restart policy: a running container's supervisor takes the new one before its next restart, if it was started with one (a running container started without one is refused: stop it first; a --rm container takes none). --cpus and --cpu-period/--cpu-quota replace each other. A changed --memory keeps the container's swap setting (no swap unless it was given --memory-swap). On a hybrid host a container has a cpu, cpuset or blkio cgroup only when it started with a limit of that kind; updating one it lacks makes that cgroup where its start registered it (removed with the container) and moves all its processes into it. Prints each name given. Exit status 1 when a container does not exist, is starting, or a limit is invalid or refused by the kernel (the others are still updated). The Engine API's POST /containers/{id}/update calls the same function.`

  static override strict = false
  static override enableJsonFlag = true

  static override usage = ['update [OPTIONS] CONTAINER...']

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -m 256m --pids-limit 200 web', description: 'A new memory and task limit for container web.'},
    {command: '<%= config.bin %> <%= command.id %> --cpu-shares 512 web db', description: 'Half the default CPU weight for two containers.'},
  ]

  static override args = {
    container: Args.string({description: 'Container names or unique id prefixes (see nsx ps)', required: true}),
  }

  static override flags = {
    ...BASE_LIMIT_FLAGS,
    ...RESOURCE_FLAGS,
    restart: Flags.string({description: 'Restart policy: no, on-failure[:MAX-RETRIES], always or unless-stopped', helpValue: 'POLICY'}),
  }

  async run(): Promise<UpdateResult[]> {
    const {argv, flags} = await this.parse(Update)
    const store = Store.open(undefined, {create: false})
    const {updated, given, errors} = await updateContainers(store, argv as string[], limitFlagsFrom(flags as Record<string, unknown>), {restart: flags.restart})
    if (errors.length === 1 && updated.length === 0) throw new NsxError(errors[0], 1)
    if (!this.jsonEnabled()) for (const g of given) process.stdout.write(`${g}\n`)
    for (const e of errors) process.stderr.write(`nsx update: ${e}\n`)
    if (errors.length > 0) process.exitCode = 1
    return updated
  }
}
