// The collector's cost per cgroup per refresh, without the terminal: the same Collector
// nsx top uses, sampled REFRESHES times after a warm-up, both as batch mode reads
// (everything, every refresh) and as the dashboard reads (full figures for the VISIBLE
// rows on screen, the rest's sort key only, process counts every 10th refresh). Prints one JSON line.
// Usage: node bench/top-collector.mjs [REFRESHES] [BASE] [VISIBLE]
import {performance} from 'node:perf_hooks'
import {readCgroupLayout} from '../dist/src/cgroup/hierarchy.js'
import {Collector} from '../dist/src/cgroup/sample.js'
import {deriveAll} from '../dist/src/cgroup/rates.js'

const refreshes = Number(process.argv[2] ?? 200)
const base = process.argv[3] ?? '/'
const visible = Number(process.argv[4] ?? 40)

function measure(detailFor) {
  const collector = new Collector(readCgroupLayout(), {base})
  const t0 = performance.now()
  let prev = collector.sample()
  const firstMs = performance.now() - t0
  collector.watch()
  const detail = detailFor(prev)
  // As the dashboard does: rows on screen in full, the rest by their sort key (CPU, known
  // unchanged below an idle parent), process counts once every 10 refreshes.
  const view = (i) => (detail === undefined ? undefined : {detail, sort: 'cpu', countTasks: i % 10 === 0, recycle: true})
  for (let i = 0; i < 5; i++) prev = collector.sample(view(i))
  const cpu0 = process.cpuUsage()
  const start = performance.now()
  let rows = 0
  for (let i = 0; i < refreshes; i++) {
    const cur = collector.sample(view(i))
    rows = deriveAll(cur, prev).length
    prev = cur
  }
  const wallMs = performance.now() - start
  const cpu = process.cpuUsage(cpu0)
  const out = {
    cgroups: rows,
    hierarchies: collector.hierarchies.map((h) => h.id),
    openFiles: collector.openFiles,
    firstSampleMs: Number(firstMs.toFixed(2)),
    refreshMs: Number((wallMs / refreshes).toFixed(3)),
    usPerCgroupWall: Number(((wallMs * 1000) / refreshes / rows).toFixed(2)),
    usPerCgroupCpu: Number(((cpu.user + cpu.system) / refreshes / rows).toFixed(2)),
  }
  collector.close()
  return out
}

const batch = measure(() => undefined)
const dashboard = measure((snap) => new Set([...snap.cgroups.keys()].slice(0, visible)))
console.log(JSON.stringify({...batch, dashboard}))
