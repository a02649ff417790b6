// nsx top's network bytes, their cost: the same Collector nsx top uses, sampled with and
// without the traffic source (src/network/traffic.ts: one read of /proc/net/dev per refresh,
// the endpoint records re-read only when they change), in alternating rounds, and the earlier
// way (each container's /proc/PID/net/dev read per refresh) timed on the same containers.
// Run inside the network namespace the containers' host veths are in (bench/top-net.sh).
// Usage: node bench/top-net.mjs STORE REFRESHES PID:ID...   Prints one JSON line.
import {readFileSync} from 'node:fs'
import {readCgroupLayout} from '../dist/src/cgroup/hierarchy.js'
import {Collector} from '../dist/src/cgroup/sample.js'
import {deriveAll} from '../dist/src/cgroup/rates.js'
import {nsxUnit} from '../dist/src/cgroup/units.js'
import {ContainerTrafficReader} from '../dist/src/network/traffic.js'
import {Store} from '../dist/src/store/store.js'

const [store, refreshArg, ...ctrArgs] = process.argv.slice(2)
const refreshes = Number(refreshArg ?? 200)
const pids = ctrArgs.map((a) => Number(a.split(':')[0]))
const prefixes = ctrArgs.map((a) => a.split(':')[1].slice(0, 8))
const ROUNDS = 20
const per = Math.max(1, Math.round(refreshes / ROUNDS))

const layout = readCgroupLayout()
const reader = new ContainerTrafficReader(new Store(store))
const plain = new Collector(layout, {unitOf: nsxUnit})
const withNet = new Collector(layout, {unitOf: nsxUnit, traffic: reader})

function warm(c) {
  let prev = c.sample()
  c.watch()
  for (let i = 0; i < 5; i++) prev = c.sample()
  return prev
}
const state = new Map([[plain, warm(plain)], [withNet, warm(withNet)]])
let rows = 0
let shown = 0
// CPU time (user + system) rather than wall: on a loaded machine the wall clock counts others' work.
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
function round(c) {
  let prev = state.get(c)
  const t0 = cpuMs()
  for (let i = 0; i < per; i++) {
    const cur = c.sample()
    const stats = deriveAll(cur, prev)
    rows = stats.length
    if (c === withNet) shown = stats.filter((s) => s.netRxBytes !== undefined).length
    prev = cur
  }
  state.set(c, prev)
  return (cpuMs() - t0) / per
}
// The earlier way: every container's own /proc/PID/net/dev, each refresh.
function procNetDev() {
  const t0 = cpuMs()
  for (let i = 0; i < per; i++) for (const pid of pids) readFileSync(`/proc/${pid}/net/dev`, 'latin1')
  return (cpuMs() - t0) / per
}
function readerAlone() {
  const t0 = cpuMs()
  for (let i = 0; i < per; i++) {
    reader.refresh()
    for (const p of prefixes) reader.of(p)
  }
  return (cpuMs() - t0) / per
}
const without = []
const withTraffic = []
const earlier = []
const alone = []
for (let r = 0; r < ROUNDS; r++) {
  without.push(round(plain))
  withTraffic.push(round(withNet))
  earlier.push(procNetDev())
  alone.push(readerAlone())
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const n = pids.length
const ms = (v) => Number(v.toFixed(3))
const us = (v) => Number(v.toFixed(2))
const out = {
  containers: n,
  containersWithCounters: shown,
  cgroupRows: rows,
  // CPU ms per refresh, median of the rounds.
  refreshMsWithout: ms(median(without)),
  refreshMsWith: ms(median(withTraffic)),
  usPerContainer: us(((median(withTraffic) - median(without)) * 1000) / n),
  readerUsPerContainer: us((median(alone) * 1000) / n),
  procNetDevUsPerContainer: us((median(earlier) * 1000) / n),
}
plain.close()
withNet.close()
console.log(JSON.stringify(out))
