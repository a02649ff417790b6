import {AccessLog, PROC_ROOT, readText} from '../proc/fs.js'
import {parseMountInfo} from '../cgroup/hierarchy.js'

/** One mount of the process's mount namespace, as /proc/PID/mountinfo shows it to the process. */
export interface MountEntry {
  /** Where it is mounted, relative to the process's root. */
  target: string
  fstype: string
  source: string
  /** The directory of the filesystem mounted there ("/" for a whole filesystem; a bind mount's source directory). */
  root: string
  /** Per-mount options: rw or ro, nosuid, nodev, noexec, relatime, ... */
  options: string[]
  /** The filesystem's own options (the superblock's). */
  superOptions: string[]
}

/** The process's mounts in mountinfo order (a later mount on the same target covers an earlier one); undefined when unreadable. */
export function readMounts(pid: number, log?: AccessLog, root = PROC_ROOT): MountEntry[] | undefined {
  const text = readText(`${root}/${pid}/mountinfo`, log, 'mount tables')
  if (text === undefined) return undefined
  return parseMountInfo(text).map((m) => ({
    target: m.mountpoint,
    fstype: m.fstype,
    source: m.source,
    root: m.root,
    options: m.options.split(','),
    superOptions: m.superOptions ? m.superOptions.split(',') : [],
  }))
}
