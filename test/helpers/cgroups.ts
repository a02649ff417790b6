import {mkdirSync, rmdirSync} from 'node:fs'
import {readCgroupLayout} from '../../src/cgroup/hierarchy.js'
import {locateMemberships, readProcCgroup} from '../../src/cgroup/membership.js'

/**
 * A test cgroup made below this process's own cgroup in each hierarchy asked for
 * ("memory", "cpuacct", "v2", ...), so tests never touch cgroups they do not own.
 * Remove it (after killing its processes) with remove(), from t.after.
 */
export class TestCgroup {
  /** hierarchy key -> {dir, rel}; rel is the path below the hierarchy's mount point, as nsx top shows it. */
  readonly places = new Map<string, {dir: string; rel: string}>()

  constructor(name: string, controllers: string[]) {
    const layout = readCgroupLayout()
    const members = locateMemberships(readProcCgroup('self') ?? [], layout)
    try {
      for (const c of controllers) {
        const m = c === 'v2' ? members.find((x) => x.version === 2) : members.find((x) => x.version === 1 && x.controllers.includes(c))
        const mountpoint = c === 'v2' ? layout.v2 : layout.v1.find((h) => h.controllers.join(',') === m?.controllers.join(','))?.mountpoint
        if (!m?.directory || mountpoint === undefined) throw new Error(`no ${c} hierarchy is mounted`)
        const dir = `${m.directory}/${name}`
        // As nsx top names it: relative to the mount, which may show only a subtree of the
        // hierarchy (mountinfo root), not to the hierarchy's root as /proc/self/cgroup does.
        const rel = dir.slice(mountpoint.length)
        // Co-mounted controllers (cpu,cpuacct on Debian) share one hierarchy: one directory.
        if (![...this.places.values()].some((p) => p.dir === dir)) mkdirSync(dir)
        this.places.set(c, {dir, rel})
      }
    } catch (err) {
      // The caller has no object to remove() yet: undo what was made here.
      for (const dir of this.dirs()) rmdirSync(dir)
      this.places.clear()
      throw err
    }
  }

  dir(c: string): string {
    const p = this.places.get(c)
    if (!p) throw new Error(`test cgroup not made in ${c}`)
    return p.dir
  }

  rel(c: string): string {
    const p = this.places.get(c)
    if (!p) throw new Error(`test cgroup not made in ${c}`)
    return p.rel
  }

  /** A shell prefix that moves the shell into the cgroup in every hierarchy, before it execs. */
  joinScript(): string {
    return [...new Set([...this.places.values()].map((p) => p.dir))].map((d) => `echo $$ > '${d}/cgroup.procs' || exit 97;`).join(' ')
  }

  /** The distinct directories (one per hierarchy). */
  dirs(): string[] {
    return [...new Set([...this.places.values()].map((p) => p.dir))]
  }

  /** rmdir in every hierarchy; a cgroup whose last process just died may be busy for a moment. */
  async remove(): Promise<void> {
    for (const dir of this.dirs()) {
      for (let i = 0; ; i++) {
        try {
          rmdirSync(dir)
          break
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code
          if (code === 'ENOENT') break
          if (code !== 'EBUSY' || i > 100) throw err
          await new Promise((r) => setTimeout(r, 20))
        }
      }
    }
    this.places.clear()
  }
}
