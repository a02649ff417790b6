import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../../src/cli/command.js'
import {dockerInspect, ContainerInspect} from '../../src/lifecycle/inspect.js'
import {Store} from '../../src/store/store.js'

export default class ContainerInspectCommand extends NsxCommand {
  static override summary = "A container's configuration and state, as docker inspect prints them (JSON)"
  static override description = `docker's container inspect, as a JSON array with one object per container: Id, Name, Created, Path, Args, State (Status, Running, Paused, Restarting, OOMKilled, Pid, ExitCode, Error, StartedAt, FinishedAt), RestartCount, Config (Hostname, User, Tty, OpenStdin, Env, Cmd, Image, WorkingDir, ExposedPorts), HostConfig (limits: Memory, NanoCpus, CpuQuota, CpuPeriod, CpusetCpus, PidsLimit; Binds, NetworkMode, PortBindings, PublishAllPorts, AutoRemove, Privileged, RestartPolicy), Mounts, GraphDriver (the overlay's directories), NetworkSettings (while it runs: IPAddress, Gateway, MacAddress, Ports with the host ports picked and null for an exposed port none publishes, Networks with each network's address), and Nsx (the supervisor's pid, the cgroups, the store directory, the capabilities). Running or not. -f/--format applies docker's Go template to each ({{.State.Pid}}, {{json .State}}, {{index .Config.Labels "k"}}, {{range .Mounts}}...{{end}}, {{if}}/{{else}}, pipes to json, len, join, upper, lower), one line per container. nsx inspect NAME describes the isolation of a running container's init process instead (nsx inspect --type container NAME is this).`

  static override strict = false

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> web | jq ".[0].State"', description: "Container web's state."},
    {command: '<%= config.bin %> <%= command.id %> web db | jq -r ".[].State.ExitCode"', description: 'Exit codes of two.'},
    {command: '<%= config.bin %> <%= command.id %> -f "{{.State.Status}} {{.State.ExitCode}}" web', description: 'Its status and exit code, without jq.'},
  ]

  static override flags = {
    format: Flags.string({char: 'f', description: "docker's Go template, applied to each container's JSON", helpValue: 'TEMPLATE'}),
  }

  static override args = {
    container: Args.string({description: 'Container names or id prefixes', required: true}),
  }

  async run(): Promise<ContainerInspect[]> {
    const {argv, flags} = await this.parse(ContainerInspectCommand)
    const {objects, text} = await dockerInspect(Store.open(undefined, {create: false}), argv as string[], flags.format)
    process.stdout.write(text)
    return objects
  }
}
