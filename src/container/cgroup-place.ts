/**
 * Where a container's cgroup is in one hierarchy, and a write to one of its control files:
 * the data cgroups.ts (making the cgroups) and resource-writes.ts (docker's resource flags
 * as writes) share.
 */

export interface CgroupPlace {
  /** "memory", "cpu,cpuacct", "v2": the hierarchy, for messages. */
  hierarchy: string
  version: 1 | 2
  parentDir: string
  dir: string
}

export interface CgroupWrite {
  dir: string
  file: string
  /** The value, or `copy` to copy the parent's (v1 cpuset: a child starts empty). */
  value: string | {copy: true}
  /** Written only when the file exists (memsw needs swap accounting; swap.max swap). */
  optional?: boolean
  /** Why the kernel may lack the file, said when it does (a required write is never skipped). */
  why?: string
}
