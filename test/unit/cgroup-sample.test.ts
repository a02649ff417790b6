import {test} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {layoutFromMountInfo, parseMountInfo} from '../../src/cgroup/hierarchy.js'
import {Collector} from '../../src/cgroup/sample.js'
import {CgroupSample} from '../../src/cgroup/snapshot.js'
import {CgroupStats, deriveAll, deriveStats, rederive} from '../../src/cgroup/rates.js'
import {cgroupJson} from '../../src/cgroup/report.js'

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')

function collectorFor(root: string, base = '/', inotify = true): Collector {
  const layout = layoutFromMountInfo(parseMountInfo(readFileSync(join(root, 'proc/self/mountinfo'), 'utf8')), join(root, 'sys'))
  return new Collector(layout, {base, inotify, procRoot: join(root, 'proc')})
}

/**
 * Charge `usec` of CPU time to a cgroup of a v2 fixture tree as the kernel does: to its
 * cpu.stat and to every ancestor's, whose counters include their descendants'.
 */
function useCpu(root: string, rel: string, usec: number): void {
  for (let p: string | undefined = rel; p !== undefined; p = p === '/' ? undefined : p.slice(0, p.lastIndexOf('/')) || '/') {
    const file = join(root, 'sys/fs/cgroup', p, 'cpu.stat')
    const now = Number(/usage_usec (\d+)/.exec(readFileSync(file, 'latin1'))![1])
    writeFileSync(file, `usage_usec ${now + usec}\n`)
  }
}

/** Let inotify events reach the collector (they arrive through the event loop). */
const settle = () => new Promise((r) => setTimeout(r, 50))

/** A writable copy of a fixture tree, removed when the test ends. */
function copyFixture(t: {after(fn: () => void): void}, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nsx-top-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  cpSync(join(FIXTURES, name), dir, {recursive: true})
  return dir
}

test('v2: every cgroup of the unified tree is read from its v2 files', (t) => {
  const c = collectorFor(join(FIXTURES, 'cgroup-v2'))
  t.after(() => c.close())
  assert.equal(c.layout.mode, 'v2')
  const snap = c.sample()
  assert.deepEqual([...snap.cgroups.keys()].sort(), ['/', '/system.slice', '/system.slice/cron.service', '/system.slice/nginx.service', '/user.slice'])
  const nginx = snap.cgroups.get('/system.slice/nginx.service')!
  assert.equal(nginx.cpuUsageUsec, 123456789)
  assert.equal(nginx.memoryBytes, 268435456)
  assert.equal(nginx.inactiveFileBytes, 67108864)
  assert.equal(nginx.memoryLimitBytes, 536870912)
  assert.equal(nginx.pidsCurrent, 5)
  assert.equal(nginx.pidsMax, 100)
  assert.equal(nginx.ioReadBytes, 4096 + 1000)
  assert.equal(nginx.ioWriteBytes, 8192 + 2000)
  assert.equal(nginx.cpuQuotaUsec, 150000)
  assert.equal(nginx.cpuPeriodUsec, 100000)
  assert.deepEqual(nginx.pressure, {cpu: 2.5, memory: 0.3, io: 0})
  assert.equal(nginx.procs, 3)
  const slice = snap.cgroups.get('/system.slice')!
  assert.equal(slice.memoryLimitBytes, null, 'memory.max "max" is no limit')
  assert.equal(slice.cpuQuotaUsec, null)
  assert.equal(slice.procs, 0)
  assert.equal(slice.tasks, 4, 'tasks count the processes of descendants')
  assert.equal(snap.cgroups.get('/')!.tasks, 7)
  // The cgroup2 root has no memory.current: the machine's use, MemTotal - MemAvailable, as systemd-cgtop shows it.
  assert.equal(snap.cgroups.get('/')!.memoryBytes, (8000000 - 6000000) * 1024)
  const stats = deriveStats(nginx, undefined)
  assert.equal(stats.workingSetBytes, 268435456 - 67108864)
  assert.equal(stats.cpuLimitPercent, 150)
  assert.equal(stats.cpuPercent, null, 'no rate without a previous sample')
})

test('v1: figures come from cpuacct (ns), memory (total_inactive_file), pids and blkio hierarchies', (t) => {
  const c = collectorFor(join(FIXTURES, 'cgroup-v1'))
  t.after(() => c.close())
  assert.equal(c.layout.mode, 'v1')
  assert.equal(c.sources.pressure, undefined, 'no PSI without cgroup2')
  const snap = c.sample()
  assert.deepEqual([...snap.cgroups.keys()].sort(), ['/', '/docker', '/docker/abc123', '/system.slice'])
  const ctr = snap.cgroups.get('/docker/abc123')!
  assert.equal(ctr.cpuUsageUsec, 250000123, 'cpuacct.usage nanoseconds become microseconds')
  assert.equal(ctr.cpuQuotaUsec, 50000)
  assert.equal(ctr.memoryBytes, 314572800)
  assert.equal(ctr.inactiveFileBytes, 10485760, 'total_inactive_file, not the local inactive_file')
  assert.equal(ctr.memoryLimitBytes, 536870912)
  assert.equal(ctr.pidsCurrent, 7)
  assert.equal(ctr.pidsMax, 512)
  assert.equal(ctr.ioReadBytes, 4096 + 100)
  assert.equal(ctr.ioWriteBytes, 12288)
  assert.equal(ctr.pressure, undefined)
  assert.equal(ctr.procsHierarchy, 'name=systemd')
  assert.equal(ctr.tasks, 4)
  const root = snap.cgroups.get('/')!
  assert.equal(root.memoryLimitBytes, null, "v1's 9223372036854771712 is no limit")
  assert.equal(root.pidsCurrent, undefined, 'the v1 root has no pids.current')
  assert.equal(root.tasks, 8)
  assert.deepEqual(cgroupJson(deriveStats(ctr, undefined)).memory, {
    usageBytes: 314572800,
    inactiveFileBytes: 10485760,
    workingSetBytes: 314572800 - 10485760,
    limitBytes: 536870912,
    events: {high: null, max: 5, oom: null, oomKill: 2},
  })
})

test('a subtree base shows only that cgroup and its descendants', (t) => {
  const c = collectorFor(join(FIXTURES, 'cgroup-v2'), '/system.slice')
  t.after(() => c.close())
  assert.deepEqual(c.baseExistsIn(), ['v2'])
  assert.deepEqual([...c.sample().cgroups.keys()].sort(), ['/system.slice', '/system.slice/cron.service', '/system.slice/nginx.service'])
  const missing = collectorFor(join(FIXTURES, 'cgroup-v2'), '/no/such')
  t.after(() => missing.close())
  assert.deepEqual(missing.baseExistsIn(), [])
})

test('CPU% is the counter delta over the measured interval between reads; 100 = one core', async (t) => {
  const root = copyFixture(t, 'cgroup-v2')
  const c = collectorFor(root)
  t.after(() => c.close())
  const first = c.sample()
  await new Promise((r) => setTimeout(r, 60))
  useCpu(root, '/system.slice/nginx.service', 150000)
  const second = c.sample()
  const a = first.cgroups.get('/system.slice/nginx.service')!
  const b = second.cgroups.get('/system.slice/nginx.service')!
  const seconds = (b.cpuReadAt! - a.cpuReadAt!) / 1000
  assert.ok(seconds >= 0.05, `interval measured: ${seconds}`)
  const rate = deriveAll(second, first).find((x) => x.path === '/system.slice/nginx.service')!
  // 150000 µs of CPU time over `seconds` of wall time.
  assert.ok(Math.abs(rate.cpuPercent! - 150000 / 1e4 / seconds) < 1e-9)
  assert.equal(rate.intervalSeconds, seconds)
  const idle = deriveAll(second, first).find((x) => x.path === '/system.slice/cron.service')!
  assert.equal(idle.cpuPercent, 0, 'an unchanged counter is 0%, not missing')
})

test('a counter that went backwards gives no figure rather than a bogus one', () => {
  const prev = {path: '/a', identity: '1:1', hierarchies: ['v2'], cpuReadAt: 1000, ioReadAt: 1000, cpuUsageUsec: 5_000_000, ioReadBytes: 100, ioWriteBytes: 100}
  const cur = {...prev, cpuReadAt: 2000, ioReadAt: 2000, cpuUsageUsec: 1_000, ioReadBytes: 50, ioWriteBytes: 300}
  const s = deriveStats(cur, prev)
  assert.equal(s.cpuPercent, null)
  assert.equal(s.ioReadBytesPerSec, null)
  assert.equal(s.ioWriteBytesPerSec, 200)
})

for (const inotify of [true, false]) {
  const how = inotify ? 'watching with inotify' : 'polling with stat'

  test(`a re-created cgroup (new directory inode) starts afresh: no rate across the two instances (${how})`, async (t) => {
    const root = copyFixture(t, 'cgroup-v2')
    const c = collectorFor(root, '/', inotify)
    t.after(() => c.close())
    const first = c.sample()
    c.watch()
    c.sample()
    const dir = join(root, 'sys/fs/cgroup/user.slice')
    const saved = mkdtempSync(join(tmpdir(), 'nsx-top-save-'))
    t.after(() => rmSync(saved, {recursive: true, force: true}))
    cpSync(dir, saved, {recursive: true})
    // The old directory still exists while the new one is made, so the inode cannot be reused.
    renameSync(dir, `${dir}.old`)
    cpSync(saved, dir, {recursive: true})
    rmSync(`${dir}.old`, {recursive: true})
    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 99999999999\n')
    await settle()
    const second = c.sample()
    const a = first.cgroups.get('/user.slice')!
    const b = second.cgroups.get('/user.slice')!
    assert.notEqual(a.identity, b.identity, 'the identity follows the directory inode')
    const rate = deriveAll(second, first).find((x) => x.path === '/user.slice')!
    assert.equal(rate.cpuPercent, null)
    assert.equal(b.cpuUsageUsec, 99999999999, 'the new instance is read from its new files')
  })

  test(`new cgroups appear and removed ones disappear between refreshes (${how})`, async (t) => {
    const root = copyFixture(t, 'cgroup-v2')
    const c = collectorFor(root, '/', inotify)
    assert.equal(c.polling, !inotify)
    t.after(() => c.close())
    assert.equal(c.sample().cgroups.size, 5)
    c.watch()
    c.sample()
    const added = join(root, 'sys/fs/cgroup/user.slice/user-1000.slice')
    mkdirSync(added)
    writeFileSync(join(added, 'cpu.stat'), 'usage_usec 42\n')
    writeFileSync(join(added, 'cgroup.procs'), '900\n')
    // A removal and a creation under the same parent leave its link count as it was.
    rmSync(join(root, 'sys/fs/cgroup/system.slice/cron.service'), {recursive: true})
    mkdirSync(join(root, 'sys/fs/cgroup/system.slice/atd.service'))
    await settle()
    const snap = c.sample()
    assert.ok(snap.cgroups.has('/system.slice/atd.service'), 'a sibling made as another was removed is found')
    assert.ok(snap.cgroups.has('/user.slice/user-1000.slice'))
    assert.equal(snap.cgroups.get('/user.slice/user-1000.slice')!.cpuUsageUsec, 42)
    assert.ok(!snap.cgroups.has('/system.slice/cron.service'))
    assert.equal(snap.cgroups.get('/user.slice')!.tasks, 3)
  })
}

test('dashboard view: rows off screen read only their sort key and keep their rates until a full refresh', async (t) => {
  const root = copyFixture(t, 'cgroup-v2')
  const c = collectorFor(root)
  t.after(() => c.close())
  const nginx = '/system.slice/nginx.service'
  const view = {detail: new Set(['/', '/system.slice']), sort: 'cpu' as const}
  const s0 = c.sample({...view, full: true})
  await new Promise((r) => setTimeout(r, 20))
  const dir = join(root, 'sys/fs/cgroup/system.slice/nginx.service')
  useCpu(root, nginx, 10000)
  writeFileSync(join(dir, 'memory.current'), '999\n')
  writeFileSync(join(dir, 'cgroup.procs'), '200\n')
  const s1 = c.sample(view)
  const off = s1.cgroups.get(nginx)!
  assert.equal(off.cpuUsageUsec, 123456789 + 10000, 'the sort key (CPU) is read off screen')
  assert.equal(off.memoryBytes, 268435456, 'other figures are carried over')
  assert.equal(off.procs, 3, 'process counts wait for a full refresh')
  const stats1 = deriveAll(s1, s0)
  assert.ok(stats1.find((x) => x.path === nginx)!.cpuPercent! > 0)
  const on = s1.cgroups.get('/system.slice')!
  assert.equal(on.tasks, 4, 'rows on screen keep their task counts between full refreshes')
  // The IO rate of an off-screen row is carried from the last stats, not shown as 0.
  const last = new Map<string, CgroupStats>(stats1.map((x) => [x.path, {...x, ioReadBytesPerSec: 4242}]))
  const s2 = c.sample(view)
  const carried = deriveAll(s2, s1, last).find((x) => x.path === nginx)!
  assert.equal(carried.ioReadBytesPerSec, 4242)
  // Reusing last refresh's objects gives the same figures, in those same objects.
  const objects = new Map([...last].map(([k, v]) => [k, {...v}]))
  const reused = deriveAll(s2, s1, objects, true)
  assert.deepEqual(reused, deriveAll(s2, s1, last))
  assert.equal(reused.find((x) => x.path === nginx), objects.get(nginx))
  const full = c.sample({...view, full: true})
  assert.equal(full.cgroups.get(nginx)!.memoryBytes, 999, 'a full refresh reads everything')
  assert.equal(full.cgroups.get(nginx)!.procs, 1)
})

test('a sample told the tree is fresh does not walk it again; the next refresh after watch() finds what was made meanwhile', async (t) => {
  const root = copyFixture(t, 'cgroup-v2')
  const c = collectorFor(root)
  t.after(() => c.close())
  assert.deepEqual(c.baseExistsIn(), ['v2'])
  const view = {detail: new Set<string>(), sort: 'cpu' as const, treeFresh: true}
  const first = c.sample(view)
  assert.ok(first.cgroups.has('/system.slice/nginx.service'), 'the scan done by baseExistsIn is used')
  mkdirSync(join(root, 'sys/fs/cgroup/system.slice/late.service'))
  assert.equal(c.sample(view).cgroups.has('/system.slice/late.service'), false)
  c.watch()
  await settle()
  assert.equal(c.sample({detail: new Set(), sort: 'cpu'}).cgroups.has('/system.slice/late.service'), true)
  // Without a scan before it, a fresh-tree sample still reads the tree once.
  const other = collectorFor(root)
  t.after(() => other.close())
  assert.ok(other.sample(view).cgroups.has('/system.slice/late.service'))
})

test('a recycling sample overwrites the objects of the snapshot before the last, with the same figures a fresh one reads', (t) => {
  const root = copyFixture(t, 'cgroup-v2')
  const nginx = '/system.slice/nginx.service'
  const cron = '/system.slice/cron.service'
  const fresh = collectorFor(root)
  const c = collectorFor(root)
  t.after(() => {
    c.close()
    fresh.close()
  })
  const view = {detail: new Set([nginx]), sort: 'cpu' as const, recycle: true}
  const a = c.sample(view)
  const b = c.sample(view)
  fresh.sample({...view, recycle: false})
  useCpu(root, nginx, 50000)
  writeFileSync(join(root, 'sys/fs/cgroup/system.slice/nginx.service/memory.current'), '777\n')
  const d = c.sample(view)
  const f = fresh.sample({...view, recycle: false})
  assert.equal(d.cgroups.get(nginx), a.cgroups.get(nginx), 'the object of two samples ago is reused')
  assert.notEqual(d.cgroups.get(nginx), b.cgroups.get(nginx), 'never the last one, which rates are taken against')
  const strip = (s: CgroupSample | undefined) => ({...s, cpuReadAt: undefined, ioReadAt: undefined})
  for (const p of [nginx, cron, '/']) assert.deepEqual(strip(d.cgroups.get(p)), strip(f.cgroups.get(p)), p)
  assert.equal(d.cgroups.get(nginx)!.memoryBytes, 777)
  assert.ok(deriveAll(d, b).find((x) => x.path === nginx)!.cpuPercent! > 0)
})

test('an idle parent spares reading its children: their CPU counters are known unchanged, and every figure is what a full read gives', async (t) => {
  const root = copyFixture(t, 'cgroup-v2')
  const nginx = '/system.slice/nginx.service'
  const cron = '/system.slice/cron.service'
  const c = collectorFor(root)
  const reference = collectorFor(root)
  t.after(() => {
    c.close()
    reference.close()
  })
  const view = {detail: new Set(['/']), sort: 'cpu' as const, recycle: true}
  const s0 = c.sample(view)
  reference.sample()
  assert.equal(c.cpuCountersInferred, 0, 'nothing is known before a first reading')
  await new Promise((r) => setTimeout(r, 20))
  // Nothing ran: system.slice's counter did not move, so nothing below it is read. (The
  // cgroup2 root's children are always read: see the next test.)
  const s1 = c.sample(view)
  assert.equal(c.cpuCountersInferred, 2, 'nginx and cron')
  const idle = deriveAll(s1, s0)
  for (const x of idle) assert.equal(x.cpuPercent, 0, `${x.path}: 0%, not missing`)
  assert.ok(s1.cgroups.get(nginx)!.cpuReadAt! > s0.cgroups.get(nginx)!.cpuReadAt!, 'known as of this refresh')
  // nginx ran: it, system.slice and the root are read, and so is cron (its parent moved).
  await new Promise((r) => setTimeout(r, 20))
  useCpu(root, nginx, 40000)
  const s2 = c.sample(view)
  assert.equal(c.cpuCountersInferred, 0)
  const busy = deriveAll(s2, s1)
  assert.ok(busy.find((x) => x.path === nginx)!.cpuPercent! > 0)
  assert.equal(busy.find((x) => x.path === cron)!.cpuPercent, 0)
  const ref = reference.sample()
  for (const p of [nginx, cron, '/system.slice', '/user.slice', '/']) assert.equal(s2.cgroups.get(p)!.cpuUsageUsec, ref.cgroups.get(p)!.cpuUsageUsec, p)
  // system.slice moved last time but not since: its children are spared again.
  await new Promise((r) => setTimeout(r, 20))
  useCpu(root, '/user.slice', 5)
  c.sample(view)
  assert.equal(c.cpuCountersInferred, 2, 'nginx and cron, below a parent that stood still')
})

test('the cgroup2 root vouches for no child: its usage_usec comes from system-wide CPU time in ticks, not from its children', async (t) => {
  const root = copyFixture(t, 'cgroup-v2')
  const c = collectorFor(root)
  t.after(() => c.close())
  const view = {detail: new Set(['/']), sort: 'cpu' as const}
  c.sample(view)
  await new Promise((r) => setTimeout(r, 20))
  // user.slice ran; the root's counter has not caught up (no tick landed on it yet).
  const file = join(root, 'sys/fs/cgroup/user.slice/cpu.stat')
  writeFileSync(file, `usage_usec ${7000000 + 3000}\n`)
  const s = c.sample(view)
  assert.equal(s.cgroups.get('/user.slice')!.cpuUsageUsec, 7003000)
  assert.equal(c.cpuCountersInferred, 2, 'below system.slice only')
})

test('a child last read before its parent\'s previous reading is read, not assumed unchanged', async (t) => {
  const root = copyFixture(t, 'cgroup-v2')
  const nginx = '/system.slice/nginx.service'
  const c = collectorFor(root)
  t.after(() => c.close())
  const cpuView = {detail: new Set<string>(), sort: 'cpu' as const}
  c.sample(cpuView)
  // Sorted by memory, off-screen rows carry their CPU counters (and their reading times).
  c.sample({detail: new Set(['/', '/system.slice']), sort: 'memory'})
  useCpu(root, nginx, 30000)
  // The parents are read after nginx ran: system.slice moved, so nothing is assumed below it.
  c.sample({detail: new Set(['/', '/system.slice']), sort: 'memory'})
  const s = c.sample(cpuView)
  assert.equal(s.cgroups.get(nginx)!.cpuUsageUsec, 123456789 + 30000)
})

test('countTasks counts processes without reading the other figures of rows off screen; readInFull reads them when they come into view', async (t) => {
  const root = copyFixture(t, 'cgroup-v2')
  const nginx = '/system.slice/nginx.service'
  const c = collectorFor(root)
  t.after(() => c.close())
  const view = {detail: new Set(['/']), sort: 'cpu' as const}
  const s0 = c.sample(view)
  assert.equal(s0.cgroups.get(nginx)!.memoryBytes, undefined, 'an off-screen row has only its sort key')
  const dir = join(root, 'sys/fs/cgroup/system.slice/nginx.service')
  writeFileSync(join(dir, 'cgroup.procs'), '200\n201\n')
  writeFileSync(join(dir, 'memory.current'), '4096\n')
  const s1 = c.sample({...view, countTasks: true})
  assert.equal(s1.cgroups.get(nginx)!.procs, 2)
  assert.equal(s1.cgroups.get('/system.slice')!.tasks, 3, 'nginx (now 2) and cron (1)')
  assert.equal(s1.cgroups.get(nginx)!.memoryBytes, undefined, 'counting is all a countTasks refresh adds')
  await new Promise((r) => setTimeout(r, 20))
  useCpu(root, nginx, 20000)
  writeFileSync(join(dir, 'io.stat'), '8:0 rbytes=1000000 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n')
  const s2 = c.sample(view)
  const stats = deriveAll(s2, s1)
  const row = stats.find((x) => x.path === nginx)!
  const cpuPercent = row.cpuPercent
  assert.ok(cpuPercent! > 0)
  const fresh = c.readInFull(s2, [nginx])
  assert.deepEqual([...fresh.keys()], [nginx])
  const now = fresh.get(nginx)!
  const kept = s2.cgroups.get(nginx)!
  assert.equal(kept.memoryBytes, 4096, 'memory, pids and limits are read into the snapshot')
  assert.equal(kept.pidsMax, 100)
  assert.equal(now.ioReadBytes, 1000000, 'IO is read into the copy')
  assert.equal(kept.ioReadBytes, undefined, 'the snapshot keeps its earlier IO reading (none), for the next refresh\'s rate')
  assert.equal(now.cpuReadAt, kept.cpuReadAt, 'CPU, read this refresh, is not read again')
  rederive(now, kept, row)
  assert.equal(row.cpuPercent, cpuPercent, 'the CPU% of this refresh stays')
  assert.equal(row.memoryBytes, 4096)
  assert.equal(row.ioReadBytesPerSec, null, 'no IO rate without an earlier IO reading')
  assert.equal(c.readInFull(s1, [nginx]).size, 0, 'only the last sample can be read further')
})

test('recycling samples after a cgroup went away never bring it back from an older snapshot', (t) => {
  const root = copyFixture(t, 'cgroup-v2')
  const cron = '/system.slice/cron.service'
  const c = collectorFor(root, '/', false)
  t.after(() => c.close())
  const view = {detail: new Set(['/']), sort: 'cpu' as const, recycle: true}
  c.sample(view)
  c.sample(view)
  rmSync(join(root, 'sys/fs/cgroup/system.slice/cron.service'), {recursive: true})
  for (let i = 0; i < 3; i++) {
    const s = c.sample(view)
    assert.equal(s.cgroups.has(cron), false, `refresh ${i + 1} after the removal`)
    assert.equal(s.cgroups.size, 4)
  }
  mkdirSync(join(root, 'sys/fs/cgroup/system.slice/cron.service'))
  for (let i = 0; i < 3; i++) assert.equal(c.sample(view).cgroups.size, 5, `refresh ${i + 1} after it came back`)
})
