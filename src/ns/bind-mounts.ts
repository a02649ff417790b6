import {parseNsLink} from './types.js'

/** An nsfs mount (what `ip netns add` and `unshare --net=FILE` make): a path that keeps a namespace alive. */
export interface NsfsMount {
  /** Mount point, as the mount namespace that holds it sees it. */
  path: string
  /** The namespace type as the kernel names it in the mount root ("net", "pid", ...). */
  type: string
  inode: number
}

/** mountinfo escapes space, tab, newline and backslash as octal (\040 ...). */
function unescapeMountPath(s: string): string {
  return s.indexOf('\\') < 0 ? s : s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
}

/**
 * The nsfs mounts in a /proc/PID/mountinfo text. Field 4 is the mount root, which for nsfs
 * is the namespace itself ("net:[4026532...]"); the filesystem type follows the " - " separator.
 */
export function parseNsfsMounts(mountinfo: string): NsfsMount[] {
  const out: NsfsMount[] = []
  let start = 0
  // Cheap pre-filter: most mount tables hold no nsfs mount at all.
  if (mountinfo.indexOf(' - nsfs ') < 0) return out
  while (start < mountinfo.length) {
    let end = mountinfo.indexOf('\n', start)
    if (end < 0) end = mountinfo.length
    const line = mountinfo.slice(start, end)
    start = end + 1
    const sep = line.indexOf(' - ')
    if (sep < 0 || !line.startsWith('nsfs ', sep + 3)) continue
    const fields = line.slice(0, sep).split(' ')
    if (fields.length < 5) continue
    const ns = parseNsLink(fields[3])
    if (!ns) continue
    out.push({path: unescapeMountPath(fields[4]), type: ns.type, inode: ns.inode})
  }
  return out
}
