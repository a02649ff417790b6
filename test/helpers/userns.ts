import {readlinkSync, writeFileSync} from 'node:fs'
import {run} from './env.js'
import {TestProcesses, waitForComm} from './processes.js'

/**
 * Nested user namespaces whose maps are written from outside, as a container runtime does:
 * level 0 by root on the host, each deeper level from inside its parent namespace (the only
 * place the kernel accepts it from). Each level holds a `sleep` the test can inspect; all of
 * them are started through `procs`, so procs.killAll() ends them.
 */
export interface UsernsLevelSpec {
  /** Map text as written, e.g. "0 100000 65536" (relative to the parent level). */
  uidMap: string
  gidMap: string
  /** Written before gid_map when given. */
  setgroups?: 'allow' | 'deny'
}

export interface UsernsLevel {
  /** A process living in this level (a sleep). */
  pid: number
  inode: number
}

/** Inode of /proc/PID/ns/<type>, from its link text. */
export function nsInode(pid: number, type: string): number {
  return Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${type}`))?.[1])
}

/** Write /proc/PID/<file>, from the host for level 0, else from inside the parent level. */
function writeIdFile(pid: number, file: string, text: string, parentPid: number | undefined): void {
  if (parentPid === undefined) {
    writeFileSync(`/proc/${pid}/${file}`, `${text}\n`)
    return
  }
  // Not --preserve-credentials: nsenter becomes root of the parent level, which owns the child
  // namespace and so may write its maps.
  const r = run('nsenter', [`--user=/proc/${parentPid}/ns/user`, '--', 'sh', '-c', 'printf "%s\\n" "$1" > "$2"', 'sh', text, `/proc/${pid}/${file}`])
  if (r.status !== 0) throw new Error(`writing ${file} of ${pid} from inside its parent user namespace: ${r.stderr.trim()}`)
}

/**
 * Make levels.length nested user namespaces, outermost first. `outerFlags` adds namespaces
 * to level 0's unshare (e.g. ['-u', '-n']).
 */
export async function nestedUserNamespaces(procs: TestProcesses, levels: UsernsLevelSpec[], outerFlags: string[] = []): Promise<UsernsLevel[]> {
  const out: UsernsLevel[] = []
  for (let i = 0; i < levels.length; i++) {
    const parent = out[i - 1]
    // A nested namespace must be created by a process whose ids its parent maps: root of the
    // parent level, which nsenter becomes.
    const argv =
      parent === undefined
        ? ['unshare', '-U', ...outerFlags, '--', 'sleep', '1000']
        : ['nsenter', `--user=/proc/${parent.pid}/ns/user`, '--', 'unshare', '-U', '--', 'sleep', '1000']
    const child = procs.spawn(argv[0], argv.slice(1), {stdio: ['ignore', 'ignore', 'pipe']})
    const pid = child.pid
    if (pid === undefined) throw new Error(`could not start ${argv.join(' ')}`)
    await waitForComm(pid, 'sleep')
    const spec = levels[i]
    if (spec.setgroups) writeIdFile(pid, 'setgroups', spec.setgroups, parent?.pid)
    writeIdFile(pid, 'uid_map', spec.uidMap, parent?.pid)
    writeIdFile(pid, 'gid_map', spec.gidMap, parent?.pid)
    out.push({pid, inode: nsInode(pid, 'user')})
  }
  return out
}
