import {AccessLog, PROC_ROOT, readLink} from '../proc/fs.js'
import {NS_TYPES, NsType, parseNsLink} from './types.js'

export type NsLinks = Partial<Record<NsType, number>>

/**
 * Inodes of /proc/PID/ns/* (or /proc/PID/task/TID/ns/*). A type the kernel does
 * not have (time before 5.6) is simply absent. Returns undefined when the process is gone.
 */
export function readNsLinks(dir: string, log?: AccessLog): NsLinks | undefined {
  const links: NsLinks = {}
  let any = false
  for (const t of NS_TYPES) {
    const link = readLink(`${dir}/ns/${t}`, log, 'namespace links')
    if (link === undefined) continue
    const parsed = parseNsLink(link)
    if (parsed) {
      links[t] = parsed.inode
      any = true
    }
  }
  return any ? links : undefined
}

export function processNsDir(pid: number, root = PROC_ROOT): string {
  return `${root}/${pid}`
}

export function threadNsDir(pid: number, tid: number, root = PROC_ROOT): string {
  return `${root}/${pid}/task/${tid}`
}
