/**
 * The type of each command's --json output, named, for man/schemas.ts (which turns each into
 * a JSON Schema in docs/schemas/). Most are the domain's own types; a shape a command builds
 * inline is restated here, and test/integration/json-schemas.test.ts checks real output
 * against the result, so a restated shape cannot drift unnoticed.
 */
import type {CgroupJson} from '../src/cgroup/report.js'
import type {BuildResult} from '../src/build/build.js'
import type {ContainerEntry} from '../src/container/listing.js'
import type {StopResult} from '../src/lifecycle/stop.js'
import type {PauseResult} from '../src/container/pause.js'
import type {UpdateResult} from '../src/container/update.js'
import type {Change} from '../src/container/changes.js'
import type {DiskUsage} from '../src/lifecycle/disk-usage.js'
import type {PruneReport} from '../src/lifecycle/prune.js'
import type {GroupView} from '../src/group/groups.js'
import type {RunSpec} from '../src/container/spec.js'
import type {InspectReport} from '../src/inspect/report.js'
import type {AuditEvent, AuditReport} from '../src/audit/types.js'
import type {AuditMergeReport} from '../src/audit/merge.js'
import type {DiffReport} from '../src/diff/diff.js'
import type {UidmapReport} from '../src/inspect/uidmap.js'
import type {NetworkGcReport} from '../src/network/attach.js'
import type {NamespaceFields} from '../src/ns/json-output.js'
import type {ProcessTree} from '../src/pidns/tree.js'
import type {StepDescription} from '../src/plan/describe.js'
import type {PullResult} from '../src/registry/pull.js'
import type {PushResult} from '../src/registry/push.js'
import type {TagResult} from '../src/registry/tag.js'
import type {CommitResult} from '../src/build/commit.js'
import type {Freed} from '../src/store/gc.js'
import type {HistoryRow} from '../src/store/history.js'
import type {LoadResult, ResolvedLayer} from '../src/store/import.js'
import type {ImportResult} from '../src/store/import-rootfs.js'
import type {ImageListing} from '../src/store/listing.js'
import type {SaveResult} from '../src/store/save.js'
import type {Volume} from '../src/volume/volumes.js'

/** nsx ls --json: every namespace, ascending by inode. */
export interface LsOutput {
  namespaces: NamespaceFields[]
}

/** nsx pstree --json. */
export type PstreeOutput = ProcessTree

/** nsx inspect --json. */
export type InspectOutput = InspectReport

/** nsx audit --format json: every workload, the findings and what could not be checked. */
export type AuditOutput = AuditReport

/** nsx audit --watch --format json: one finding per line. */
export type AuditEventOutput = AuditEvent

/** nsx audit merge --format json: many hosts' audits joined, each workload once. */
export type AuditMergeOutput = AuditMergeReport

/** nsx diff --json: how B's isolation differs from A's. */
export type DiffOutput = DiffReport

/** nsx uidmap --json. */
export type UidmapOutput = UidmapReport

/** nsx top --json: one object per line, one line per iteration. */
export interface TopOutput {
  iteration: number
  /** Wall-clock time of the reading, ISO 8601. */
  time: string
  /** Seconds since the previous reading. */
  intervalSeconds: number
  mode: 'v1' | 'v2' | 'hybrid'
  /** The hierarchy each figure is read from ("v2", or a v1 hierarchy by its controllers); absent when none has it. */
  sources: {cpu?: string; cpuLimit?: string; memory?: string; pids?: string; io?: string; pressure?: string}
  cgroups: CgroupJson[]
}

/** nsx ps --json: the running containers. */
export type PsOutput = ContainerEntry[]

/** nsx stop --json. */
export type StopOutput = StopResult[]

/** nsx pause --json and nsx unpause --json. */
export type PauseOutput = PauseResult[]
export type UpdateOutput = UpdateResult[]

/** nsx system df --json. */
export type SystemDfOutput = DiskUsage

/** nsx system prune --json: the Engine API's prune answers, together. */
export type SystemPruneOutput = PruneReport

/** nsx container diff --json, nsx diff CONTAINER --json: the Engine API's FilesystemChange list. */
export type ChangesOutput = Change[]
export type GroupLsOutput = GroupView[]

/** nsx images --json. */
export type ImagesOutput = ImageListing

/** nsx load --json. */
export interface LoadOutput {
  store: string
  image: LoadResult | null
  layers: ResolvedLayer[]
}

/** nsx import --json: the image made from a root filesystem tar. */
export type ImportOutput = ImportResult

/** nsx rmi --json: what was removed, and the bytes freed. */
export type RmiOutput = Freed

/** nsx gc --json. */
export type GcOutput = Freed & {containers: string[]; volumes: string[]; dryRun: boolean; networks?: NetworkGcReport}

/** nsx volume ls --json: the Engine API's Volume objects. */
export type VolumeLsOutput = Volume[]

/** nsx history --json. */
export interface HistoryOutput {
  id: string
  history: HistoryRow[]
}

/** nsx tag --json. */
export type TagOutput = TagResult

/** nsx commit --json. */
export type CommitOutput = CommitResult

/** nsx pull --json (an array with --all-tags). */
export type PullOutput = PullResult | PullResult[]

/** nsx push --json. */
export type PushOutput = PushResult

/** nsx save --json. */
export type SaveOutput = SaveResult

/** nsx build --json. */
export type BuildOutput = BuildResult

/** nsx enter, unshare, run and exec with --dry-run --json: the plan the native executor would run. */
export interface PlanOutput {
  /** "nsx enter", "nsx unshare", "nsx run", "nsx exec", "nsx debug". */
  command: string
  /** The executor that would run it. */
  executor: string
  steps: StepDescription[]
  /** nsx run: the container it would make. */
  spec?: RunSpec
  /** nsx exec: the container it would run in. */
  container?: {name: string; id: string; pid: number}
  /** nsx debug: the process whose namespaces it would enter ("container web", "process 1234"). */
  target?: {pid: number; label: string}
}
