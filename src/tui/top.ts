import {setFlagsFromString} from 'node:v8'
import {NsxError} from '../cli/errors.js'
import {SortKey} from '../cgroup/snapshot.js'
import {runBatch} from '../cgroup/batch.js'
import {readCgroupLayout} from '../cgroup/hierarchy.js'
import {normaliseCgroupPath, parseDelay} from '../cgroup/options.js'
import {Collector} from '../cgroup/sample.js'
import {containerBases, nsxUnit} from '../cgroup/units.js'
import {ContainerTrafficReader} from '../network/traffic.js'
import {defaultStoreRoot, Store} from '../store/store.js'

/** `nsx top` once its arguments are parsed, by oclif (commands/top.ts) or the fast path (main.ts). */
export interface TopOptions {
  cgroup?: string
  /**
   * `cgroup` named a running container (the commands layer resolved it): its init, whose
   * cgroups are the subtrees shown.
   */
  container?: {pid: number}
  batch: boolean
  iterations?: number
  /** As typed: seconds, fractions allowed. */
  delay: string
  sort: SortKey
  flat: boolean
  json: boolean
}

export async function executeTop(o: TopOptions): Promise<void> {
  const delaySeconds = parseDelay(o.delay)
  // Each refresh makes short-lived objects for every cgroup; left to itself V8 doubles its
  // young generation to 2 x 16 MB under that churn and keeps it. Not growing it costs a few
  // more (small) scavenges and saves ~20 MB of RSS with 1,000 cgroups. Read at each growth
  // decision, so setting it now works.
  setFlagsFromString('--semi-space-growth-factor=1')
  const layout = readCgroupLayout()
  if (layout.mode === 'none') throw new NsxError('no cgroup hierarchy is mounted (looked in /proc/self/mountinfo)')
  let container: Map<string, string> | undefined
  if (o.container !== undefined) {
    container = containerBases(o.container.pid, layout)
    if (container.size === 0) throw new NsxError(`container ${o.cgroup} has no cgroup of its own`)
  }
  const base = o.cgroup === undefined ? '/' : container === undefined ? normaliseCgroupPath(o.cgroup) : `container ${o.cgroup}`
  // Containers' network bytes: their host-side veths, named by the store's endpoint records.
  const traffic = new ContainerTrafficReader(new Store(defaultStoreRoot()))
  const collector = new Collector(layout, {base, bases: container, unitOf: nsxUnit, traffic})
  try {
    if (collector.baseExistsIn().length === 0) {
      // A word without a slash may have meant a container: say that none is running by that name.
      const what = o.cgroup !== undefined && !o.cgroup.includes('/') ? `no such cgroup or running container: ${o.cgroup}` : `no such cgroup: ${base}`
      throw new NsxError(`${what} (not in any of the hierarchies ${collector.hierarchies.map((h) => h.id).join(', ')})`)
    }
    const batch = o.batch || o.json || o.iterations !== undefined || !process.stdout.isTTY || !process.stdin.isTTY
    if (batch) {
      try {
        await runBatch(collector, {
          iterations: o.iterations ?? (o.json ? 1 : undefined),
          delaySeconds,
          sort: o.sort,
          flat: o.flat,
          json: o.json,
          write: writeStdout,
        })
      } catch (err) {
        // The reader went away (`nsx top -b | head`): stop quietly, as top does.
        if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err
      }
      return
    }
    // blessed only for the dashboard: batch mode never loads it.
    const {runDashboard} = await import('./dashboard.js')
    await runDashboard(collector, {delaySeconds, sort: o.sort, flat: o.flat})
  } finally {
    collector.close()
    traffic.close()
  }
}

/**
 * Write to stdout and wait until it is written: a pipe is written asynchronously, and the
 * fast path exits as soon as the command returns, which would cut the output short.
 */
function writeStdout(chunk: string): Promise<void> {
  // The stream also emits the failure as an 'error' event, after the callback: without a
  // listener that would be an uncaught exception. The callback's error is the one acted on.
  if (process.stdout.listenerCount('error') === 0) process.stdout.on('error', () => undefined)
  return new Promise((resolve, reject) => {
    process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()))
  })
}
