import {AT_FDCWD, O_CLOEXEC, O_DIRECTORY, O_PATH, errnoMessage} from '../ffi/libc.js'
import {NsxError} from '../cli/errors.js'
import {PROC_ROOT} from '../proc/fs.js'
import {ProcScan, readLinks} from './discover.js'
import type {NsLinks} from './links.js'
import {NS_TYPES} from './types.js'

/**
 * Many processes' namespace links, read as nsx ls's scan reads them (readlinkat relative to
 * an O_PATH fd on /proc/PID into one reused buffer: no path or string per link), for a caller
 * that walks /proc itself (nsx audit). Close it when done.
 */
export class LinkReader {
  private readonly scan = new ProcScan()
  private readonly rootFd: number
  private readonly inodes = new Array<number>(NS_TYPES.length).fill(-1)

  constructor(root = PROC_ROOT) {
    this.rootFd = this.scan.sys.openat(AT_FDCWD, root, O_PATH | O_DIRECTORY | O_CLOEXEC, 0)
    if (this.rootFd < 0) throw new NsxError(`cannot open ${root}: ${errnoMessage(this.scan.sys.errno())}`)
  }

  /** The process's namespace inodes; 'denied' without ptrace access; undefined when it is gone. */
  read(pid: number): NsLinks | 'denied' | undefined {
    const {sys} = this.scan
    const pfd = sys.openat(this.rootFd, String(pid), O_PATH | O_DIRECTORY | O_CLOEXEC, 0)
    if (pfd < 0) return undefined
    try {
      const got = readLinks(this.scan, pfd, NS_TYPES, this.inodes)
      if (got !== 'ok') return got === 'denied' ? 'denied' : undefined
      const links: NsLinks = {}
      for (let i = 0; i < NS_TYPES.length; i++) if (this.inodes[i] >= 0) links[NS_TYPES[i]] = this.inodes[i]
      return links
    } finally {
      sys.close(pfd)
    }
  }

  close(): void {
    this.scan.sys.close(this.rootFd)
  }
}
