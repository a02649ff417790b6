import {readFileSync, writeFileSync} from 'node:fs'
import {NsxError} from '../cli/errors.js'

/**
 * A container's freezer: cgroup v1's freezer.state (FROZEN / FREEZING / THAWED) or cgroup
 * v2's cgroup.freeze (0/1, done when cgroup.events says "frozen 1"). Which one a container
 * has is decided from its cgroup directories: a v1 freezer hierarchy when it has a cgroup
 * there (hybrid and v1 hosts: run always makes one), else its v2 cgroup. Paths come in as
 * arguments so fixture trees test the logic; the tests also drive a real v2 cgroup.
 */
export interface Freezer {
  version: 1 | 2
  /** The cgroup directory. */
  dir: string
}

export type FreezerState = 'frozen' | 'freezing' | 'thawed'

/**
 * The freezer of a container whose cgroups are `dirs`. `v1Mounts`: mount points of the v1
 * hierarchies holding the freezer controller; `v2Mount`: the cgroup2 mount point.
 */
export function freezerOf(dirs: readonly string[], v1Mounts: readonly string[], v2Mount: string | undefined): Freezer | undefined {
  const under = (d: string, m: string) => d === m || d.startsWith(`${m}/`)
  for (const d of dirs) if (v1Mounts.some((m) => under(d, m))) return {version: 1, dir: d}
  if (v2Mount !== undefined) for (const d of dirs) if (under(d, v2Mount)) return {version: 2, dir: d}
  return undefined
}

/** This host's freezer for a container's cgroups. */
export async function hostFreezerOf(dirs: readonly string[]): Promise<Freezer | undefined> {
  const {readCgroupLayout} = await import('../cgroup/hierarchy.js')
  const layout = readCgroupLayout()
  const v1 = layout.v1.filter((h) => h.controllers.includes('freezer')).map((h) => h.mountpoint)
  return freezerOf(dirs, v1, layout.v2)
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** undefined when the cgroup is gone (the container ended). */
export function readFreezerState(f: Freezer): FreezerState | undefined {
  if (f.version === 1) {
    const s = readOr(`${f.dir}/freezer.state`)?.trim()
    if (s === undefined) return undefined
    return s === 'FROZEN' ? 'frozen' : s === 'FREEZING' ? 'freezing' : 'thawed'
  }
  const events = readOr(`${f.dir}/cgroup.events`)
  const wanted = readOr(`${f.dir}/cgroup.freeze`)?.trim()
  if (events === undefined || wanted === undefined) return undefined
  const frozen = /^frozen 1$/m.test(events)
  if (frozen) return 'frozen'
  return wanted === '1' ? 'freezing' : 'thawed'
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Freeze (or thaw) and wait until the kernel says it is done: every task stopped (v1
 * FROZEN, v2 "frozen 1"), or the request taken back. A freeze the kernel has not finished
 * within `timeoutMs` (a task in uninterruptible sleep) is undone and reported.
 */
export async function setFrozen(f: Freezer, frozen: boolean, timeoutMs = 10000): Promise<void> {
  const file = f.version === 1 ? `${f.dir}/freezer.state` : `${f.dir}/cgroup.freeze`
  const value = f.version === 1 ? (frozen ? 'FROZEN' : 'THAWED') : frozen ? '1' : '0'
  const write = (v: string) => {
    try {
      writeFileSync(file, v)
    } catch (err) {
      throw NsxError.internal(`cannot write ${v} to ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  }
  write(value)
  const want: FreezerState = frozen ? 'frozen' : 'thawed'
  const end = Date.now() + timeoutMs
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    const s = readFreezerState(f)
    if (s === undefined) throw NsxError.internal(`the cgroup ${f.dir} is gone: the container has ended`)
    if (s === want) return
    // v1 FREEZING: writing FROZEN again retries the tasks that were not frozen yet.
    if (f.version === 1 && frozen) write(value)
    if (Date.now() > end) {
      if (frozen) write(f.version === 1 ? 'THAWED' : '0')
      throw NsxError.internal(`the container's processes did not all freeze within ${timeoutMs / 1000}s (one in uninterruptible sleep?); thawed again`)
    }
    await sleep(delay)
  }
}

/** Paused: frozen, or on its way there. A cgroup that cannot be read (gone, or not mounted here) is not. */
export function isFrozenOrFreezing(s: FreezerState | undefined): boolean {
  return s === 'frozen' || s === 'freezing'
}
