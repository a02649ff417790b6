/**
 * The JSON Schemas of nsx's --json outputs (docs/schemas/), as data: which commands print
 * each, and the type (man/schema-types.ts) it is generated from. Read by man/schemas.ts
 * (which writes the files), by the nsx-json(5) man page, and by the test that validates
 * every command's real output.
 */
export interface SchemaEntry {
  /** File in docs/schemas/, versioned: nsx-NAME.vN.schema.json. */
  file: string
  /** The type in man/schema-types.ts. */
  type: string
  /** The commands (and flags) whose --json output it describes. */
  commands: string[]
  title: string
  description: string
}

export const SCHEMAS: readonly SchemaEntry[] = [
  {file: 'nsx-ls.v1.schema.json', type: 'LsOutput', commands: ['ls'], title: 'nsx ls --json', description: 'Every namespace on the host and what holds it, ascending by inode; every field whatever -o says, null where a value does not apply or is unknown.'},
  {file: 'nsx-pstree.v1.schema.json', type: 'PstreeOutput', commands: ['pstree'], title: 'nsx pstree --json', description: 'Pid namespaces, and process trees with each process\'s pid in every pid namespace.'},
  {file: 'nsx-inspect.v1.schema.json', type: 'InspectOutput', commands: ['inspect'], title: 'nsx inspect --json', description: 'One process\'s isolation: namespaces, pids, user-namespace maps, cgroups, capabilities, seccomp, and a verdict.'},
  {file: 'nsx-diff.v1.schema.json', type: 'DiffOutput', commands: ['diff'], title: 'nsx diff --json', description: 'How B\'s isolation differs from A\'s, area by area (namespaces, maps, cgroups and limits, capabilities, seccomp, mounts, ...), and what could not be compared.'},
  {file: 'nsx-changes.v1.schema.json', type: 'ChangesOutput', commands: ['container diff', 'diff CONTAINER'], title: 'nsx container diff --json, nsx diff CONTAINER --json', description: 'docker diff: the paths a container added (Kind 1), changed (0) or deleted (2) in its root, as the Engine API\'s FilesystemChange list.'},
  {file: 'nsx-uidmap.v1.schema.json', type: 'UidmapOutput', commands: ['uidmap'], title: 'nsx uidmap --json', description: 'A process\'s user-namespace chain with its maps, and ids translated through them.'},
  {file: 'nsx-top.v1.schema.json', type: 'TopOutput', commands: ['top'], title: 'nsx top --json', description: 'One object per line per iteration: every cgroup\'s counters and rates over the interval.'},
  {file: 'nsx-ps.v1.schema.json', type: 'PsOutput', commands: ['ps'], title: 'nsx ps --json', description: 'The containers: the running ones, or with -a all (created, running, restarting, exited), each with its state, status and exit code.'},
  {file: 'nsx-stop.v1.schema.json', type: 'StopOutput', commands: ['stop'], title: 'nsx stop --json', description: 'Each container stopped, and whether it outlived the grace period (or was not running).'},
  {file: 'nsx-pause.v1.schema.json', type: 'PauseOutput', commands: ['pause', 'unpause'], title: 'nsx pause --json, nsx unpause --json', description: 'Each container paused or resumed, and the freezer used.'},
  {file: 'nsx-update.v1.schema.json', type: 'UpdateOutput', commands: ['update'], title: 'nsx update --json', description: 'Each container updated, with every limit in force after the change.'},
  {file: 'nsx-group.v1.schema.json', type: 'GroupLsOutput', commands: ['group ls'], title: 'nsx group ls --json', description: 'The named groups: their limits (absolute, and the share of the host given), cgroups, running containers and child groups.'},
  {file: 'nsx-images.v1.schema.json', type: 'ImagesOutput', commands: ['images'], title: 'nsx images --json', description: 'The stored images and layers, and what uses each layer.'},
  {file: 'nsx-load.v1.schema.json', type: 'LoadOutput', commands: ['load'], title: 'nsx load --json', description: 'The image or layers loaded into the store.'},
  {file: 'nsx-import.v1.schema.json', type: 'ImportOutput', commands: ['import'], title: 'nsx import --json', description: 'The image made from a root filesystem tar, its name and its layer.'},
  {file: 'nsx-rmi.v1.schema.json', type: 'RmiOutput', commands: ['rmi'], title: 'nsx rmi --json', description: 'Names untagged, images and layers removed, and the bytes freed.'},
  {file: 'nsx-gc.v1.schema.json', type: 'GcOutput', commands: ['gc'], title: 'nsx gc --json', description: 'What was (or, with --dry-run, would be) removed, and the bytes freed.'},
  {file: 'nsx-system-df.v1.schema.json', type: 'SystemDfOutput', commands: ['system df'], title: 'nsx system df --json', description: 'docker system df: every image (size, shared size, containers), container (writable layer), volume (size, containers mounting it) and build cache entry, and the stored layers\' size counted once.'},
  {file: 'nsx-system-prune.v1.schema.json', type: 'SystemPruneOutput', commands: ['system prune'], title: 'nsx system prune --json', description: 'docker system prune: the containers, networks, volumes, images and build cache entries removed, and the space reclaimed (the Engine API\'s prune answers together).'},
  {file: 'nsx-volume.v1.schema.json', type: 'VolumeLsOutput', commands: ['volume ls'], title: 'nsx volume ls --json', description: 'The named and anonymous volumes: name, driver, mount point, creation time, labels (the Engine API\'s Volume).'},
  {file: 'nsx-history.v1.schema.json', type: 'HistoryOutput', commands: ['history'], title: 'nsx history --json', description: 'The steps that made a stored image, newest first.'},
  {file: 'nsx-tag.v1.schema.json', type: 'TagOutput', commands: ['tag'], title: 'nsx tag --json', description: 'The name given to an image.'},
  {file: 'nsx-commit.v1.schema.json', type: 'CommitOutput', commands: ['commit'], title: 'nsx commit --json', description: 'The image made from a container: its id, name and the layer of the container\'s changes.'},
  {file: 'nsx-pull.v1.schema.json', type: 'PullOutput', commands: ['pull'], title: 'nsx pull --json', description: 'The image pulled from a registry.'},
  {file: 'nsx-push.v1.schema.json', type: 'PushOutput', commands: ['push'], title: 'nsx push --json', description: 'The image pushed to a registry.'},
  {file: 'nsx-save.v1.schema.json', type: 'SaveOutput', commands: ['save'], title: 'nsx save --json', description: 'The archive written.'},
  {file: 'nsx-build.v1.schema.json', type: 'BuildOutput', commands: ['build'], title: 'nsx build --json', description: 'The image built.'},
  {file: 'nsx-audit.v1.schema.json', type: 'AuditOutput', commands: ['audit --format json'], title: 'nsx audit --format json', description: 'The host\'s workloads (containers of any runtime, systemd units, hand-made namespaces, the host), the findings of the audit rules on them with evidence and CIS/PSS references, and what could not be checked.'},
  {file: 'nsx-audit-event.v1.schema.json', type: 'AuditEventOutput', commands: ['audit --watch --format json'], title: 'nsx audit --watch --format json', description: 'One object per line: a finding and its workload, as workloads start.'},
  {file: 'nsx-audit-merge.v1.schema.json', type: 'AuditMergeOutput', commands: ['audit merge --format json'], title: 'nsx audit merge --format json', description: 'Many hosts\' audit reports and --watch findings joined: each workload once (a container by its key whichever host saw it; the host, systemd units and hand-made namespaces per host), each finding naming the hosts it was seen on.'},
  {file: 'nsx-plan.v1.schema.json', type: 'PlanOutput', commands: ['enter --dry-run', 'unshare --dry-run', 'run --dry-run', 'create --dry-run', 'exec --dry-run', 'debug --dry-run'], title: 'nsx enter|unshare|run|create|exec|debug --dry-run --json', description: 'The plan the native executor would run, step by step, with the privilege each step needs.'},
]
