import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'
import {CONTAINER_RUN_EXIT_STATUS} from '../src/cli/exit-status.js'
import {runRun} from '../src/lifecycle/run.js'
import {RESOURCE_FLAGS} from '../src/container/limit-flags.js'

/**
 * `nsx run`. bin/nsx runs it on a fast path that never loads oclif (src/lifecycle/run.ts,
 * parsed by src/cli/getopt.ts with docker run's flags); this class gives it --help, its man
 * page and its place in the command list, and runs the same code.
 */
export default class Run extends NsxCommand {
  static override failureExitCode = 125
  static exitStatus = CONTAINER_RUN_EXIT_STATUS
  static override strict = false

  static override summary = 'Run a command in a new container built from image layers (overlayfs, all namespaces, docker-like defaults)'
  static override description = `Builds the container's root from read-only layers (--image, an OCI layout or docker archive, or a stored image, whose Entrypoint, Cmd, Env, WorkingDir and User are the defaults; and/or --layer directories or tar files, lowest first) with an overlayfs whose upper directory belongs to this container. The command runs in new mount, pid, uts, ipc, network (as root, nsx's bridge network by default, as docker's: an address, NAT and published ports, see docs/networking.md; lo only with --network none, an ordinary user's default; an ordinary user's -p/-P goes through a user-mode stack, pasta or slirp4netns, as rootless podman's; --network host keeps the host's) and cgroup namespaces, after pivot_root into that root with the old root detached, with a fresh /proc, a read-only /sys, a minimal /dev (null, zero, full, random, urandom, tty, devpts with ptmx, shm, mqueue), runc's masked paths (/proc/kcore, /proc/keys, /proc/timer_list, /sys/firmware, ...) and read-only paths (/proc/sys, /proc/sysrq-trigger, /proc/irq, /proc/bus, /proc/fs), docker's default capabilities (--cap-add, --cap-drop, --privileged), no_new_privs, an empty inheritable set, no inherited file descriptor but stdin, stdout and stderr, docker's default seccomp profile (EPERM for syscalls off its allow-list, ENOSYS for ones newer than it; --security-opt seccomp=unconfined|FILE.json, off with --privileged) loaded last before exec, and a devices cgroup allowing only null, zero, full, random, urandom, tty, console, ptmx and the ptys (plus each --device).

Limits (--memory, --memory-reservation, --memory-swap, --memory-swappiness, --oom-kill-disable, --cpus, --cpu-shares, --cpu-period, --cpu-quota, --cpuset-cpus, --cpuset-mems, --pids-limit, --blkio-weight, --blkio-weight-device, --device-read-bps, --device-write-bps, --device-read-iops, --device-write-iops; docker's flags and meanings) are written to the container's own cgroups, made below nsx's cgroup (or --cgroup-parent) on cgroup v1, v2 and hybrid hosts before its first process starts, and removed after its last one ends. A limit whose file the kernel lacks (blkio weights without the BFQ scheduler, memsw without swap accounting, swappiness on cgroup v2) is an error naming the file, and no cgroup is left behind.

nsx itself becomes the supervisor: the native executor (not Node) stays, forwards signals, waits, records the exit code and cleans up; the container's PID 1 is a small init that reaps zombies and forwards signals to the command. The exit status is the command's: 125 when nsx fails, 126 when the command cannot be executed, 127 when it is not in the image, and nsx dies of the command's signal (137 after an OOM kill). If nsx is killed, the container dies with it and reads as exited; the cgroups it left are removed by the next nsx run, nsx ps or nsx gc.

Run by an ordinary user, the container gets a user namespace mapping its root to that user's uid (rootless: no cgroups, so no limits).

With -d the container runs in the background and its id is printed; nsx ps lists running containers, nsx stop NAME stops one, nsx enter NAME runs a command inside it.

Without --rm the container is kept after it ends, as docker keeps it: its upper directory, configuration, exit code and log stay until nsx rm, and nsx start runs it again where it was left. Without --name it gets a generated name (an adjective and a scientist's or engineer's surname); its name or any unique prefix of its id names it in every verb. The container's life: docs/containers.md.`

  static override usage = ['run [OPTIONS] IMAGE [COMMAND [ARG...]]', 'run [OPTIONS] (--image PATH[:TAG]|NAME | --layer DIR|TAR...) [--] [COMMAND [ARG...]]']

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> --layer ./rootfs -- /bin/sh -c "echo hi"', description: 'A command in a container made of one directory.'},
    {command: '<%= config.bin %> <%= command.id %> --image ./busybox-oci:latest', description: "The image's own command (Entrypoint and Cmd), its Env, WorkingDir and User."},
    {command: '<%= config.bin %> <%= command.id %> --image busybox -m 64m --pids-limit 100 --cpus 0.5 -- sh', description: 'With limits.'},
    {command: '<%= config.bin %> <%= command.id %> -d --name web --image busybox -- httpd -f && <%= config.bin %> enter web sh', description: 'In the background; then a shell inside it.'},
    {command: '<%= config.bin %> <%= command.id %> --dry-run --image busybox -- true', description: 'Every operation of the plan, in order, with the privilege it needs.'},
  ]

  static override args = {
    image: Args.string({description: 'The image (a stored name or id, or PATH[:TAG]) when neither --image nor --layer is given; then the command and its arguments (default: the image\'s Entrypoint and Cmd)', required: false}),
  }

  static override flags = {
    image: Flags.string({description: 'An image: PATH[:TAG] of an OCI layout or docker archive (loaded into the store), or the name or id of a stored image', helpValue: 'PATH[:TAG]|NAME'}),
    layer: Flags.string({description: 'A layer: a directory (used in place) or a tar, tar.gz or tar.zst (stored); repeatable, lowest first, stacked above the image', multiple: true, helpValue: 'DIR|TAR'}),
    name: Flags.string({description: 'The container\'s name (default: a generated adjective_surname, e.g. brave_hopper); also its default hostname', helpValue: 'NAME'}),
    hostname: Flags.string({char: 'h', description: 'The container\'s hostname (default: the --name given, else the short id, as docker; the host\'s with --network host)', helpValue: 'NAME'}),
    env: Flags.string({char: 'e', description: 'Set a variable; NAME alone takes your value, and without one unsets NAME (the image\'s too) and is kept bare in Config.Env, as docker does (repeatable)', multiple: true, helpValue: 'NAME=VALUE'}),
    'env-file': Flags.string({description: 'Read variables from a file, one NAME=VALUE per line (repeatable)', multiple: true, helpValue: 'FILE'}),
    workdir: Flags.string({char: 'w', description: 'Working directory inside the container (created if missing)', helpValue: 'DIR'}),
    user: Flags.string({char: 'u', description: 'User to run as: name, uid, name:group or uid:gid, looked up in the image', helpValue: 'USER[:GROUP]'}),
    volume: Flags.string({char: 'v', description: 'Mount a named volume (NAME:CTR, made if missing; nsx volume), a new anonymous one (CTR alone) or a host path (HOST:CTR, absolute), read-only with :ro (repeatable)', multiple: true, helpValue: '[NAME|HOST:]CTR[:ro]'}),
    entrypoint: Flags.string({description: 'Replace the image\'s Entrypoint (and drop its Cmd)', helpValue: 'CMD'}),
    interactive: Flags.boolean({char: 'i', description: 'Keep stdin attached (otherwise it is /dev/null)'}),
    tty: Flags.boolean({char: 't', description: 'Give the command a pseudo-terminal of the container (job control, ^C, ^Z and window size work); with -i, relay stdin to it'}),
    detach: Flags.boolean({char: 'd', description: 'Run in the background and print the container\'s id'}),
    rm: Flags.boolean({description: 'Remove the container (upper directory, log, name) when it ends; otherwise it is kept for nsx start, logs, inspect and rm'}),
    restart: Flags.string({description: 'Restart policy of a detached container, kept by its supervisor with a back-off (100 ms doubling to 1 min): no, on-failure[:MAX], always, unless-stopped. nsx stop, kill and rm end it for good', helpValue: 'POLICY'}),
    'health-cmd': Flags.string({description: 'A healthcheck: this shell command, run in the container with its restrictions (as nsx exec) by its supervisor; exit 0 is healthy (nsx ps, nsx container inspect State.Health)', helpValue: 'COMMAND'}),
    'health-interval': Flags.string({description: 'Time between two probes, from the end of one to the start of the next, and before the first (default 30s)', helpValue: 'DURATION'}),
    'health-timeout': Flags.string({description: 'A probe running longer is killed and fails (default 30s)', helpValue: 'DURATION'}),
    'health-start-period': Flags.string({description: 'Failures in this time after a start, before a success, do not count (default 0s)', helpValue: 'DURATION'}),
    'health-start-interval': Flags.string({description: 'Time between probes during the start period while starting (default 5s)', helpValue: 'DURATION'}),
    'health-retries': Flags.string({description: 'Failures in a row that make it unhealthy (default 3)', helpValue: 'N'}),
    'no-healthcheck': Flags.boolean({description: 'No healthcheck, even the image\'s HEALTHCHECK'}),
    'log-opt': Flags.string({description: 'The json-file log of a detached container: max-size=SIZE (default 10m), max-file=N (default 3)', multiple: true, helpValue: 'KEY=VALUE'}),
    'log-driver': Flags.string({description: "json-file (the default) or local, both kept by the supervisor in docker's json-file format (nsx logs); none: no log is kept (nsx logs says the driver does not support reading; the output still goes to a foreground run's terminal and to attach). Another is docker's error", helpValue: 'DRIVER'}),
    isolation: Flags.string({description: "docker's --isolation: on Linux only default (kept, shown in inspect's HostConfig.Isolation)", helpValue: 'default'}),
    'volume-driver': Flags.string({description: "The driver of the volumes the container makes: local (nsx's only one); another is kept and shown, and refused when a named or anonymous volume would be made with it, as docker refuses it then", helpValue: 'DRIVER'}),
    memory: Flags.string({char: 'm', description: 'Memory limit (b, k, m, g; at least 6m); past it the command is OOM-killed (status 137)', helpValue: 'SIZE'}),
    cpus: Flags.string({description: 'CPU limit, in CPUs (0.5: half of one)', helpValue: 'N'}),
    'pids-limit': Flags.string({description: 'Maximum number of processes and threads (-1: none)', helpValue: 'N'}),
    'cpuset-cpus': Flags.string({description: 'CPUs the container may use, e.g. 0-1,3', helpValue: 'LIST'}),
    ...RESOURCE_FLAGS,
    group: Flags.string({description: 'Run inside a named group (nsx group create): its limits hold for it and the group\'s other containers together', helpValue: 'NAME'}),
    'cgroup-parent': Flags.string({description: 'Make the container\'s cgroups below this path (from each hierarchy\'s root) instead of below nsx\'s own', helpValue: 'PATH'}),
    'cap-add': Flags.string({description: 'Add a capability to docker\'s default set (ALL for all; repeatable)', multiple: true, helpValue: 'CAP'}),
    'cap-drop': Flags.string({description: 'Drop a capability from it (ALL for all; repeatable)', multiple: true, helpValue: 'CAP'}),
    privileged: Flags.boolean({description: 'All capabilities, no masked or read-only paths'}),
    network: Flags.string({description: 'bridge: an address on nsx\'s default bridge network, NAT and published ports (root\'s default, as docker\'s; for an ordinary user, a user-mode stack: pasta, else slirp4netns); NAME: a network of nsx network create, where containers reach each other by name; pasta, slirp4netns: an ordinary user\'s user-mode stack by name (outbound traffic, -p on the host, the host\'s loopback at the gateway address), as rootless podman\'s; none: a network namespace of its own with lo only (an ordinary user\'s default without -p/-P, and with --userns); host: the host\'s; container:NAME: another container\'s; NSX_NETWORK=MODE sets another default (see docs/networking.md)', helpValue: 'bridge|NAME|pasta|slirp4netns|none|host|container:NAME'}),
    publish: Flags.string({char: 'p', description: 'Publish a container port on the host, forwarded by the kernel (CNI portmap; for an ordinary user, a socket of pasta or slirp4netns), e.g. 8080:80, 127.0.0.1:5353:53/udp, or 80 (a free host port) (repeatable)', multiple: true, helpValue: '[IP:][HOST_PORT:]CTR_PORT[/tcp|udp]'}),
    'publish-all': Flags.boolean({char: 'P', description: 'Publish every port the image EXPOSEs on a free host port (nsx port shows which)'}),
    ip: Flags.string({description: 'The container\'s IPv4 address on its (first) network, from that network\'s subnet', helpValue: 'IP'}),
    ip6: Flags.string({description: 'The container\'s IPv6 address on its (first) network, one made with --ipv6', helpValue: 'IP'}),
    'mac-address': Flags.string({description: 'The MAC address of its interface (CNI tuning)', helpValue: 'MAC'}),
    'network-alias': Flags.string({description: 'Another name the containers of its network reach it by (repeatable)', multiple: true, helpValue: 'NAME'}),
    'link-local-ip': Flags.string({description: 'A link-local address more on its (first) network\'s interface, e.g. 169.254.8.8 (repeatable)', multiple: true, helpValue: 'IP'}),
    userns: Flags.string({description: 'Map container root to a host range, e.g. 0:100000:65536 (root only; the layers are idmapped to it). Run as an ordinary user, nsx run maps container root to your own uid', helpValue: 'CTR:HOST:COUNT'}),
    'security-opt': Flags.string({description: 'seccomp=unconfined (no filter), seccomp=FILE.json (a docker-format profile instead of the default), no-new-privileges (always on) (repeatable)', multiple: true, helpValue: 'OPT'}),
    'read-only': Flags.boolean({description: 'Mount the container\'s root read-only (/dev, /dev/shm, volumes and --tmpfs stay writable)'}),
    tmpfs: Flags.string({description: 'Mount a tmpfs, noexec,nosuid,nodev unless OPTIONS say otherwise (rw, ro, exec, suid, dev, size=, mode=, uid=, gid=) (repeatable)', multiple: true, helpValue: 'PATH[:OPTIONS]'}),
    device: Flags.string({description: 'Make a host device node in the container and allow it in its devices cgroup, with r, w and m (default rwm) (repeatable)', multiple: true, helpValue: 'HOST[:CTR][:rwm]'}),
    ulimit: Flags.string({description: 'A resource limit of the command, e.g. nofile=1024:2048 (-1: unlimited) (repeatable)', multiple: true, helpValue: 'NAME=SOFT[:HARD]'}),
    'oom-score-adj': Flags.string({description: 'The container\'s OOM score adjustment, -1000 to 1000', helpValue: 'N'}),
    'shm-size': Flags.string({description: 'Size of /dev/shm (default 64m)', helpValue: 'SIZE'}),
    label: Flags.string({char: 'l', description: 'Set metadata on the container, as docker\'s labels (nsx ps --filter label=KEY[=VALUE]) (repeatable)', multiple: true, helpValue: 'KEY=VALUE'}),
    'add-host': Flags.string({description: 'Add a line to the container\'s /etc/hosts (repeatable)', multiple: true, helpValue: 'NAME:IP'}),
    dns: Flags.string({description: 'A nameserver for the container\'s /etc/resolv.conf, instead of the host\'s (repeatable)', multiple: true, helpValue: 'IP'}),
    'dns-search': Flags.string({description: 'A search domain for /etc/resolv.conf, instead of the host\'s (repeatable; "." for none)', multiple: true, helpValue: 'DOMAIN'}),
    'dns-option': Flags.string({description: 'An options entry for /etc/resolv.conf, instead of the host\'s (repeatable)', multiple: true, helpValue: 'OPTION'}),
    pid: Flags.string({description: "The pid namespace: the host's (host) or another running container's (container:NAME), instead of one of its own; the command is then not PID 1 and what it leaves is killed through its cgroups when it ends", helpValue: 'host|container:NAME'}),
    uts: Flags.string({description: "host: the host's UTS namespace (its hostname, which the container cannot change for it) instead of one of its own", helpValue: 'host'}),
    ipc: Flags.string({description: "The IPC namespace (System V IPC, POSIX message queues): private or shareable (one of its own, the default), host (the host's) or container:NAME (another running container's); /dev/shm stays its own", helpValue: 'private|shareable|host|container:NAME'}),
    cgroupns: Flags.string({description: "The cgroup namespace: private (its own, rooted at its cgroup: the default) or host (the host's)", helpValue: 'private|host'}),
    init: Flags.boolean({description: "An init as PID 1 that forwards signals and reaps zombies: nsx's containers always have one (nsx-init); the flag is kept in inspect's HostConfig.Init"}),
    'group-add': Flags.string({description: "A supplementary group of the command: a gid, or a name in the image's /etc/group (repeatable)", multiple: true, helpValue: 'GROUP'}),
    'device-cgroup-rule': Flags.string({description: "A rule added to the devices cgroup's allow-list, e.g. 'c 1:3 mr' or 'c 7:* rwm' (TYPE a|b|c, * for any number; ACCESS of r, w, m) (repeatable)", multiple: true, helpValue: 'RULE'}),
    link: Flags.string({description: "Legacy link: the container NAME by ALIAS. On the default bridge NAME must run at start and is named in /etc/hosts, with ALIAS_NAME and ALIAS_ENV_* variables, as docker sets them; on a user-defined network ALIAS resolves by DNS once NAME runs there (it need not exist yet; network-wide) (repeatable)", multiple: true, helpValue: 'NAME[:ALIAS]'}),
    'volumes-from': Flags.string({description: "Mount another container's volumes and binds at the same paths, read-only with :ro, read-write with :rw (repeatable)", multiple: true, helpValue: 'NAME[:ro|rw]'}),
    sysctl: Flags.string({description: "A sysctl of the container's own namespaces, as docker takes them: net.* (not with --network host or container:NAME), fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm* (not with --ipc host or container:NAME) (repeatable)", multiple: true, helpValue: 'NAME=VALUE'}),
    'stop-timeout': Flags.string({description: 'Seconds from a SIGTERM to nsx run (timeout, systemd, a CI runner) until the container is killed, as nsx stop does (default 10)', helpValue: 'SECONDS'}),
    'dry-run': Flags.boolean({description: 'Print the plan, each operation in order and the privilege it needs, and do nothing'}),
    json: Flags.boolean({description: 'With --dry-run: print the plan and the container spec as JSON'}),
  }

  async run(): Promise<void> {
    const outcome = await runRun(this.argv)
    if (outcome.kind === 'help') {
      const {loadHelpClass} = await import('@oclif/core')
      const Help = await loadHelpClass(this.config)
      await new Help(this.config).showHelp(['run'])
      return
    }
    process.exitCode = outcome.exitCode
  }
}
