import {setTimeout as sleep} from 'node:timers/promises'
import {arrange} from './arrange.js'
import {SortKey} from './snapshot.js'
import {deriveAll} from './rates.js'
import {cgroupJson, renderBatch} from './report.js'
import {Collector} from './sample.js'
import {Snapshot} from './snapshot.js'
import {describeSources} from './sources.js'

export interface BatchOptions {
  /** undefined: until interrupted. */
  iterations?: number
  delaySeconds: number
  sort: SortKey
  flat: boolean
  json: boolean
  /** Resolves once the chunk is handed to the kernel (a pipe is written asynchronously). */
  write(chunk: string): Promise<void>
}

/**
 * `nsx top --batch`: a baseline sample, then one snapshot per delay, each printed with the
 * raw counters and the rates over the interval just ended (so even the first has CPU%).
 * JSON: one object per line per iteration.
 */
export async function runBatch(collector: Collector, opts: BatchOptions): Promise<void> {
  let prev: Snapshot = collector.sample()
  collector.watch()
  for (let i = 1; opts.iterations === undefined || i <= opts.iterations; i++) {
    await sleep(opts.delaySeconds * 1000)
    const cur = collector.sample()
    const rows = arrange(deriveAll(cur, prev), {sort: opts.sort, flat: opts.flat})
    const seconds = Number(((cur.at - prev.at) / 1000).toFixed(6))
    if (opts.json) {
      await opts.write(
        `${JSON.stringify({
          iteration: i,
          time: cur.time,
          intervalSeconds: seconds,
          mode: cur.mode,
          sources: describeSources(collector.sources),
          cgroups: rows.map((r) => cgroupJson(r.stats)),
        })}\n`,
      )
    } else {
      await opts.write(`${i > 1 ? '\n' : ''}${renderBatch(rows, `# iteration ${i} at ${cur.time}, interval ${seconds.toFixed(3)} s, cgroup ${cur.mode}; CPU% 100 = one core`)}`)
    }
    prev = cur
  }
}
