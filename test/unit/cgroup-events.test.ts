import {test} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {layoutFromMountInfo, parseMountInfo} from '../../src/cgroup/hierarchy.js'
import {Collector} from '../../src/cgroup/sample.js'
import {deriveAll, deriveStats} from '../../src/cgroup/rates.js'
import {arrange} from '../../src/cgroup/arrange.js'
import {cgroupJson} from '../../src/cgroup/report.js'
import {parseBlkioDevices, parseCpuThrottling, parseIoStatDevices} from '../../src/cgroup/counters.js'
import {nsxUnit} from '../../src/cgroup/units.js'
import {pressureLines} from '../../src/tui/process-list.js'
import {fittedName, UNICODE_MARKS} from '../../src/tui/rows.js'

/**
 * What a cgroup ran into: CPU throttling (cpu.stat), memory events (v2 memory.events; v1
 * memory.failcnt and memory.oom_control) and IO per device (v2 io.stat; v1
 * blkio.throttle.io_service_bytes), from the v1 and v2 fixture trees; and nsx's named groups
 * as one row each, the branch their containers hang from.
 */

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')

function collectorFor(root: string, opts: {unitOf?: typeof nsxUnit; limitsEvery?: number} = {}): Collector {
  const layout = layoutFromMountInfo(parseMountInfo(readFileSync(join(root, 'proc/self/mountinfo'), 'utf8')), join(root, 'sys'))
  return new Collector(layout, {inotify: false, procRoot: join(root, 'proc'), ...opts})
}

function copyFixture(t: {after(fn: () => void): void}, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nsx-top-ev-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  cpSync(join(FIXTURES, name), dir, {recursive: true})
  return dir
}

test('parsers: cpu.stat throttling (v1 ns, v2 µs), io.stat and blkio per device', () => {
  assert.deepEqual(parseCpuThrottling('nr_periods 10\nnr_throttled 4\nthrottled_time 2500000\nnr_bursts 0\n'), {periods: 10, throttled: 4, throttledUsec: 2500})
  assert.deepEqual(parseCpuThrottling('usage_usec 5\nnr_periods 10\nnr_throttled 4\nthrottled_usec 7\n'), {periods: 10, throttled: 4, throttledUsec: 7})
  assert.equal(parseCpuThrottling('usage_usec 5\nuser_usec 3\n'), undefined, 'v2 without the cpu controller: no figure, not zero')
  assert.deepEqual(parseIoStatDevices('8:0 rbytes=1 wbytes=2 rios=3 wios=4\n253:16 rbytes=10 wbytes=20 rios=1 wios=1 dbytes=0 dios=0\n'), [
    {device: '8:0', readBytes: 1, writeBytes: 2},
    {device: '253:16', readBytes: 10, writeBytes: 20},
  ])
  assert.deepEqual(parseBlkioDevices('8:0 Read 4096\n8:0 Write 12288\n8:0 Sync 0\n8:0 Total 16384\n7:3 Read 0\n7:3 Write 512\nTotal 16896\n'), [
    {device: '8:0', readBytes: 4096, writeBytes: 12288},
    {device: '7:3', readBytes: 0, writeBytes: 512},
  ])
  assert.deepEqual(parseBlkioDevices('Total 0\n'), [])
})

test('v2: nr_throttled and throttled_usec, memory.events and io.stat per device reach the JSON', async (t) => {
  const root = copyFixture(t, 'cgroup-v2')
  const c = collectorFor(root, {limitsEvery: 2})
  t.after(() => c.close())
  const s1 = c.sample()
  const dir = join(root, 'sys/fs/cgroup/system.slice/nginx.service')
  // 100 more periods, 25 of them throttled; 1 MiB more written to 8:0.
  writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 123556789\nnr_periods 600\nnr_throttled 67\nthrottled_usec 2234567\n')
  writeFileSync(join(dir, 'io.stat'), `8:0 rbytes=4096 wbytes=${8192 + 1048576} rios=10 wios=21 dbytes=0 dios=0\n253:0 rbytes=1000 wbytes=2000 rios=1 wios=2 dbytes=0 dios=0\n`)
  writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 3\nmax 9\noom 2\noom_kill 2\n')
  await new Promise((r) => setTimeout(r, 20))
  // Memory events are read with the limits (every 2nd refresh here): carried in between.
  const between = c.sample()
  assert.equal(between.cgroups.get('/system.slice/nginx.service')!.memoryOomKills, 1)
  assert.equal(between.cgroups.get('/system.slice/nginx.service')!.cpuThrottled, 67, 'throttling is read each time')
  const s2 = c.sample()
  const nginx = deriveAll(s2, s1).find((s) => s.path === '/system.slice/nginx.service')!
  const j = cgroupJson(nginx)
  // Over the two intervals together: 100 periods, 25 throttled.
  assert.equal(j.cpu.nrPeriods, 600)
  assert.equal(j.cpu.nrThrottled, 67)
  assert.equal(j.cpu.throttledUsec, 2234567)
  assert.equal(j.cpu.throttledPercent, 25, '25 of the 100 periods of the interval')
  assert.deepEqual(j.memory.events, {high: 3, max: 9, oom: 2, oomKill: 2})
  assert.equal(j.io.devices?.length, 2)
  const sda = j.io.devices!.find((d) => d.device === '8:0')!
  assert.equal(sda.writeBytes, 8192 + 1048576)
  assert.ok(sda.writeBytesPerSec !== null && sda.writeBytesPerSec > 0)
  assert.equal(j.io.devices!.find((d) => d.device === '253:0')!.writeBytesPerSec, 0)
  // The sums are the devices' sums.
  assert.equal(j.io.writeBytes, 8192 + 1048576 + 2000)
  // A cgroup without a quota of its own is never throttled: no throttling figures.
  const slice = cgroupJson(deriveAll(s2, s1).find((s) => s.path === '/system.slice')!)
  assert.equal(slice.cpu.quotaUsec, null)
  assert.equal(slice.cpu.nrThrottled, null)
  // The dashboard's lines for the selected cgroup.
  const lines = pressureLines(nginx, 80)
  assert.match(lines[0], /^cpu throttled 67\/600 periods \(25% now\), 2\.2s$/)
  assert.equal(lines[1], 'mem events high 3 max 9 oom_kill 2')
  assert.ok(lines.some((l) => /^io \S+ r 0B\/s w \d/.test(l)), lines.join('\n'))
})

test('v1: throttled_time (ns), memory.failcnt as the max events, oom_control\'s oom_kill, blkio per device', (t) => {
  const c = collectorFor(join(FIXTURES, 'cgroup-v1'))
  t.after(() => c.close())
  const s = c.sample()
  const j = cgroupJson(deriveStats(s.cgroups.get('/docker/abc123')!, undefined))
  assert.equal(j.cpu.nrPeriods, 800)
  assert.equal(j.cpu.nrThrottled, 120)
  assert.equal(j.cpu.throttledUsec, 3500000)
  assert.equal(j.cpu.throttledPercent, null, 'no interval yet')
  assert.deepEqual(j.memory.events, {high: null, max: 5, oom: null, oomKill: 2})
  assert.deepEqual(
    j.io.devices?.map((d) => [d.device, d.readBytes, d.writeBytes]),
    [
      ['8:0', 4096, 12288],
      ['8:16', 100, 0],
    ],
  )
})

test('the dashboard\'s off-screen rows are read for their sort key alone: no throttling, events or devices read for them', (t) => {
  const c = collectorFor(join(FIXTURES, 'cgroup-v2'))
  t.after(() => c.close())
  const s = c.sample({detail: new Set(), sort: 'io'})
  const nginx = s.cgroups.get('/system.slice/nginx.service')!
  assert.equal(nginx.ioWriteBytes, 8192 + 2000)
  assert.equal(nginx.ioDevices, undefined)
  assert.equal(nginx.cpuThrottled, undefined)
  assert.equal(nginx.memoryOomKills, undefined)
  // Once on screen, everything.
  const full = c.readInFull(s, ['/system.slice/nginx.service']).get('/system.slice/nginx.service')!
  assert.equal(full.ioDevices?.length, 2)
  assert.equal(s.cgroups.get('/system.slice/nginx.service')!.cpuThrottled, 42)
  assert.equal(s.cgroups.get('/system.slice/nginx.service')!.memoryOomKills, 1)
})

test('hybrid: a named group is one row across hierarchies (its memory cgroup elsewhere), with its limits, and its container below it', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nsx-top-grp-'))
  t.after(() => rmSync(root, {recursive: true, force: true}))
  const write = (rel: string, files: Record<string, string>) => {
    mkdirSync(join(root, rel), {recursive: true})
    for (const [name, text] of Object.entries(files)) writeFileSync(join(root, rel, name), text)
  }
  const cg = 'sys/fs/cgroup'
  write('proc/self', {
    mountinfo: [
      `25 23 0:22 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755`,
      `28 25 0:25 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu`,
      `29 25 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory`,
      `31 25 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw`,
      '',
    ].join('\n'),
  })
  write('proc', {meminfo: 'MemTotal: 8000000 kB\nMemAvailable: 6000000 kB\n'})
  const G = 'nsx-group-students'
  const C = 'nsx-stud1-0123abcd'
  const cpu = (quota: string) => ({'cgroup.procs': '', 'cpu.cfs_quota_us': quota, 'cpu.cfs_period_us': '100000\n', 'cpu.shares': '512\n', 'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n'})
  const mem = (limit: string) => ({'cgroup.procs': '', 'memory.usage_in_bytes': '1048576\n', 'memory.stat': 'total_inactive_file 0\n', 'memory.limit_in_bytes': limit, 'memory.failcnt': '0\n', 'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n'})
  write(`${cg}/cpu`, cpu('-1\n'))
  write(`${cg}/cpu/${G}`, cpu('50000\n'))
  write(`${cg}/memory`, mem('9223372036854771712\n'))
  write(`${cg}/memory/process_api/abc`, mem('9223372036854771712\n'))
  write(`${cg}/memory/process_api/abc/${G}`, mem(`${512 << 20}\n`))
  write(`${cg}/memory/process_api/abc/${G}/${C}`, {...mem('9223372036854771712\n'), 'cgroup.procs': '100\n', 'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n'})
  write(`${cg}/unified`, {'cgroup.controllers': '', 'cgroup.procs': '1\n', 'cpu.stat': 'usage_usec 9000000\n'})
  write(`${cg}/unified/${G}`, {'cgroup.procs': '', 'cpu.stat': 'usage_usec 500\n'})
  write(`${cg}/unified/${G}/${C}`, {'cgroup.procs': '100\n', 'cpu.stat': 'usage_usec 400\n'})
  const c = collectorFor(root, {unitOf: nsxUnit})
  t.after(() => c.close())
  const s = c.sample()
  const rows = arrange(deriveAll(s, undefined), {sort: 'name'})
  const groupRows = rows.filter((r) => r.stats.path.endsWith(G))
  assert.equal(groupRows.length, 1, `one row for the group: ${rows.map((r) => r.stats.path).join(' ')}`)
  const g = groupRows[0]
  assert.equal(g.stats.path, `/${G}`)
  assert.deepEqual(g.stats.unit, {kind: 'group', name: 'students', id: 'students'})
  assert.deepEqual(g.stats.hierarchies.sort(), ['cpu', 'memory', 'v2'])
  // Its limits beside its usage.
  const gj = cgroupJson(g.stats)
  assert.equal(gj.group, 'students')
  assert.equal(gj.container, null)
  assert.equal(gj.memory.limitBytes, 512 << 20)
  assert.equal(gj.cpu.limitPercent, 50)
  assert.equal(gj.cpu.nrThrottled, 0)
  // Its container, one row below it, named.
  const ctr = rows[rows.indexOf(g) + 1]
  assert.equal(ctr.stats.path, `/${G}/${C}`)
  assert.equal(ctr.depth, g.depth + 1)
  assert.deepEqual(cgroupJson(ctr.stats).container, {name: 'stud1', id: '0123abcd'})
  assert.equal(cgroupJson(ctr.stats).memory.events.oomKill, 1)
  assert.equal(fittedName(g, false, UNICODE_MARKS, 30).trim(), '▾ [students]')
  assert.equal(s.cgroups.has(`/process_api/abc/${G}`), false, 'its memory cgroup is not a row of its own')
})

test('nsxUnit: groups by their nsx-group- prefix first (a group name ending in 8 hex digits is no container)', () => {
  assert.deepEqual(nsxUnit('nsx-group-a-deadbeef'), {kind: 'group', name: 'a-deadbeef', id: 'a-deadbeef'})
  assert.deepEqual(nsxUnit('nsx-web-01234567'), {kind: 'container', name: 'web', id: '01234567'})
  assert.equal(nsxUnit('nsx-group-'), undefined)
  assert.equal(nsxUnit('system.slice'), undefined)
})
