import {Args} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {inspectContainer, ContainerInspect} from '../../src/lifecycle/inspect.js'
import {Store} from '../../src/store/store.js'

export default class ContainerInspectCommand extends NsxCommand {
  static override summary = "A container's configuration and state, as docker inspect prints them (JSON)"
  static override description = `docker's container inspect, as a JSON array with one object per container: Id, Name, Created, Path, Args, State (Status, Running, Paused, Restarting, OOMKilled, Pid, ExitCode, Error, StartedAt, FinishedAt), RestartCount, Config (Hostname, User, Tty, OpenStdin, Env, Cmd, Image, WorkingDir), HostConfig (limits: Memory, NanoCpus, CpuQuota, CpuPeriod, CpusetCpus, PidsLimit; Binds, NetworkMode, AutoRemove, Privileged, RestartPolicy), Mounts, GraphDriver (the overlay's directories), and Nsx (the supervisor's pid, the cgroups, the store directory, the capabilities). Running or not. nsx inspect NAME describes the isolation of a running container's init process instead.`

  static override strict = false

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web | jq ".[0].State"', description: "Container web's state."},
    {command: '<%= config.bin %> <%= command.id %> web db | jq -r ".[].State.ExitCode"', description: 'Exit codes of two.'},
  ]

  static override args = {
    container: Args.string({description: 'Container names or id prefixes', required: true}),
  }

  async run(): Promise<ContainerInspect[]> {
    const {argv} = await this.parse(ContainerInspectCommand)
    const store = Store.open(undefined, {create: false})
    const out: ContainerInspect[] = []
    for (const ref of argv as string[]) out.push(await inspectContainer(store, ref))
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
    return out
  }
}
