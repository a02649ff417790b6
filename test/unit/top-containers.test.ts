import {test} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {layoutFromMountInfo, parseMountInfo} from '../../src/cgroup/hierarchy.js'
import {Collector} from '../../src/cgroup/sample.js'
import {CgroupUnit, UnitTraffic} from '../../src/cgroup/snapshot.js'
import {deriveAll} from '../../src/cgroup/rates.js'
import {arrange} from '../../src/cgroup/arrange.js'
import {cgroupJson} from '../../src/cgroup/report.js'
import {containerUnit} from '../../src/cgroup/units.js'
import {fitColumns, fittedName, headerLine, rowLine, TUI_COLUMNS, UNICODE_MARKS} from '../../src/tui/rows.js'
import {HELP_TEXT, wrapHelp} from '../../src/tui/help.js'

/**
 * A container as `nsx run` makes it on a hybrid host like the test machines: its cgroup in
 * the cgroup2 tree below nsx's own (/), in the pids hierarchy below nsx's own there (/), and in
 * the memory hierarchy below nsx's own there, which is another path (/process_api/abc). No
 * cpuacct cgroup: its CPU time is in the cgroup2 tree's cpu.stat. One row, named.
 */
const LEAF = 'nsx-web-01234567'

function write(root: string, rel: string, files: Record<string, string>): void {
  const dir = join(root, rel)
  mkdirSync(dir, {recursive: true})
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
}

function hybridTree(t: {after(fn: () => void): void}, v1Only = false): string {
  const root = mkdtempSync(join(tmpdir(), 'nsx-top-ctr-'))
  t.after(() => rmSync(root, {recursive: true, force: true}))
  const cg = 'sys/fs/cgroup'
  const mounts = [
    `25 23 0:22 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755`,
    `27 25 0:24 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd`,
    `28 25 0:25 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct`,
    `29 25 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory`,
    `30 25 0:27 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids`,
  ]
  if (!v1Only) mounts.push(`31 25 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw`)
  write(root, 'proc/self', {mountinfo: `${mounts.join('\n')}\n`})
  write(root, 'proc', {meminfo: 'MemTotal: 8000000 kB\nMemAvailable: 6000000 kB\n'})
  write(root, `${cg}/systemd`, {'cgroup.procs': '1\n'})
  write(root, `${cg}/cpuacct`, {'cgroup.procs': '1\n', 'cpuacct.usage': '9000000000\n'})
  const mem = (usage: number, limit: string) => ({'cgroup.procs': '', 'memory.usage_in_bytes': `${usage}\n`, 'memory.stat': `total_inactive_file ${usage / 4}\n`, 'memory.limit_in_bytes': limit})
  write(root, `${cg}/memory`, {...mem(1 << 30, '9223372036854771712\n'), 'cgroup.procs': '1\n'})
  write(root, `${cg}/memory/process_api/abc`, mem(1 << 28, '9223372036854771712\n'))
  write(root, `${cg}/memory/process_api/abc/${LEAF}`, {...mem(1 << 20, `${64 << 20}\n`), 'cgroup.procs': '100\n101\n'})
  write(root, `${cg}/pids`, {'cgroup.procs': '1\n'})
  write(root, `${cg}/pids/${LEAF}`, {'cgroup.procs': '100\n101\n', 'pids.current': '2\n', 'pids.max': '50\n'})
  if (v1Only) write(root, `${cg}/cpuacct/${LEAF}`, {'cgroup.procs': '100\n101\n', 'cpuacct.usage': '500000000\n'})
  else {
    write(root, `${cg}/unified`, {'cgroup.controllers': '', 'cgroup.procs': '1\n', 'cpu.stat': 'usage_usec 9000000\n'})
    write(root, `${cg}/unified/${LEAF}`, {'cgroup.procs': '100\n101\n', 'cpu.stat': 'usage_usec 500000\n'})
  }
  return root
}

const unitOf = (leaf: string): CgroupUnit | undefined => containerUnit(leaf)

function collector(root: string, withUnits = true, traffic?: UnitTraffic): Collector {

  const layout = layoutFromMountInfo(parseMountInfo(readFileSync(join(root, 'proc/self/mountinfo'), 'utf8')), join(root, 'sys'))
  return new Collector(layout, {procRoot: join(root, 'proc'), inotify: false, unitOf: withUnits ? unitOf : undefined, traffic})
}

function charge(root: string, usec: number): void {
  for (const file of ['sys/fs/cgroup/unified/cpu.stat', `sys/fs/cgroup/unified/${LEAF}/cpu.stat`]) {

    const now = Number(/usage_usec (\d+)/.exec(readFileSync(join(root, file), 'utf8'))![1])
    writeFileSync(join(root, file), `usage_usec ${now + usec}\n`)
  }
}

test('hybrid: a container is one row, named, its CPU from the cgroup2 tree and its memory and pids from v1 hierarchies at another path', async (t) => {
  const root = hybridTree(t)
  const c = collector(root)
  t.after(() => c.close())
  assert.equal(c.layout.mode, 'hybrid')
  const s1 = c.sample()
  const rows = [...s1.cgroups.values()].filter((s) => s.path.endsWith(LEAF))
  assert.equal(rows.length, 1, `one row, not one per hierarchy: ${[...s1.cgroups.keys()].join(' ')}`)
  const row = rows[0]
  assert.equal(row.path, `/${LEAF}`, 'the path of its cgroup in the cgroup2 tree')
  assert.deepEqual(row.unit, {kind: 'container', name: 'web', id: '01234567'})
  assert.deepEqual(row.hierarchies.sort(), ['memory', 'pids', 'v2'])
  assert.equal(row.cpuUsageUsec, 500000, 'usage_usec of the cgroup2 cpu.stat')
  assert.equal(row.memoryBytes, 1 << 20)
  assert.equal(row.memoryLimitBytes, 64 << 20)
  assert.equal(row.pidsCurrent, 2)
  assert.equal(row.pidsMax, 50)
  assert.equal(row.tasks, 2)
  assert.equal(s1.cgroups.has(`/process_api/abc/${LEAF}`), false, 'its memory cgroup is not a row of its own')
  assert.ok(s1.cgroups.has('/process_api/abc'), 'nsx\'s own memory cgroup stays a row')
  // A rate: 250 ms of CPU over the interval.
  await new Promise((r) => setTimeout(r, 100))
  charge(root, 250000)
  const s2 = c.sample()
  const stats = deriveAll(s2, s1).find((s) => s.path === `/${LEAF}`)!
  assert.ok(stats.cpuPercent !== null && stats.cpuPercent > 0, `CPU% ${stats.cpuPercent}`)
  const json = cgroupJson(stats)
  assert.deepEqual(json.container, {name: 'web', id: '01234567'})
  assert.equal(json.memory.limitBytes, 64 << 20)
  assert.equal(json.pids.current, 2)
})

test('hybrid: an idle parent in another hierarchy vouches for no container: its CPU is read, not inferred', async (t) => {
  const root = hybridTree(t)
  const c = collector(root)
  t.after(() => c.close())
  const view = {detail: new Set<string>(), sort: 'cpu' as const}
  const s1 = c.sample(view)
  // The cpuacct root stands still (another hierarchy); the container's cgroup2 counter moves.
  const file = join(root, `sys/fs/cgroup/unified/${LEAF}/cpu.stat`)
  writeFileSync(file, 'usage_usec 900000\n')
  const s2 = c.sample(view)
  assert.equal(s2.cgroups.get(`/${LEAF}`)!.cpuUsageUsec, 900000)
  assert.ok(s1)
})

test('v1 only: a container whose memory cgroup is at another path is one row too', (t) => {
  const root = hybridTree(t, true)
  const c = collector(root)
  t.after(() => c.close())
  assert.equal(c.layout.mode, 'v1')
  const s = c.sample()
  const rows = [...s.cgroups.values()].filter((x) => x.path.endsWith(LEAF))
  assert.equal(rows.length, 1)
  assert.equal(rows[0].cpuUsageUsec, 500000, 'cpuacct.usage in µs')
  assert.equal(rows[0].memoryLimitBytes, 64 << 20)
  assert.equal(rows[0].unit?.name, 'web')
})

test('without a unit rule the paths stay apart (a cgroup is a path)', (t) => {
  const root = hybridTree(t)
  const c = collector(root, false)
  t.after(() => c.close())
  const s = c.sample()
  assert.equal([...s.cgroups.keys()].filter((p) => p.endsWith(LEAF)).length, 2)
})

test('a container is selected by a per-hierarchy base (its cgroups), and filtered by its name', (t) => {
  const root = hybridTree(t)

  const layout = layoutFromMountInfo(parseMountInfo(readFileSync(join(root, 'proc/self/mountinfo'), 'utf8')), join(root, 'sys'))
  const bases = new Map([
    ['v2', `/${LEAF}`],
    ['memory', `/process_api/abc/${LEAF}`],
    ['pids', `/${LEAF}`],
  ])
  const c = new Collector(layout, {procRoot: join(root, 'proc'), inotify: false, unitOf, bases})
  t.after(() => c.close())
  const s = c.sample()
  assert.deepEqual([...s.cgroups.keys()], [`/${LEAF}`])
  assert.equal(s.cgroups.get(`/${LEAF}`)!.memoryBytes, 1 << 20)
  const all = collector(root)
  t.after(() => all.close())
  const rows = arrange(deriveAll(all.sample(), undefined), {sort: 'name', filter: 'WEB'})
  assert.ok(rows.some((r) => r.stats.unit?.name === 'web'), 'the filter matches the container name')
})

test('the table never cuts a value: a column widens for the values on screen, and the line still fits', () => {
  const big = {
    path: '/a', unit: undefined, identity: '1', hierarchies: ['v2'], tasks: 12345678, procs: 1, cpuPercent: 12345.6, cpuQuotaUsec: 100000, cpuPeriodUsec: 100000, cpuLimitPercent: 100,
    memoryBytes: 0, inactiveFileBytes: 0, workingSetBytes: 0, memoryLimitBytes: null, pidsCurrent: 4194304, pidsMax: 4194304, ioReadBytesPerSec: 0, ioWriteBytesPerSec: 0,
    cpuUsageUsec: 1, pressure: undefined, intervalSeconds: 1,
  } as unknown as Parameters<typeof fitColumns>[2][number]
  for (const total of [69, 79, 119]) {
    const layout = fitColumns(total, undefined, [big])
    const line = rowLine({stats: big, depth: 0, hasChildren: false, collapsed: false}, layout, true)
    assert.ok(line.length <= total, `${total}: ${line.length}`)
    assert.equal(line.length, headerLine(layout).length)
    for (const c of layout.columns) assert.ok(line.includes(c.value(big)), `${total}: ${c.header} ${c.value(big)} whole in ${JSON.stringify(line)}`)
  }
  // "0B", the last column at 80 columns, whole.
  const layout = fitColumns(79, undefined, [big])
  assert.match(rowLine({stats: big, depth: 0, hasChildren: false, collapsed: false}, layout, true), /4194304\/4194304$/)
})

test('a long name keeps its tree indentation and mark, shortened from the left', () => {
  const stats = {path: '/process_api/abcdef0123456789abcdef0123456789', unit: undefined} as unknown as Parameters<typeof fitColumns>[2][number]
  const name = fittedName({stats, depth: 2, hasChildren: false, collapsed: false}, false, UNICODE_MARKS, 20)
  assert.equal(name.length, 20)
  assert.match(name, /^ {4}  …/, `indentation kept: ${JSON.stringify(name)}`)
  assert.ok(name.endsWith('456789'))
  const ctr = {path: `/${LEAF}`, unit: {kind: 'container', name: 'web', id: '01234567'}} as unknown as Parameters<typeof fitColumns>[2][number]
  assert.equal(fittedName({stats: ctr, depth: 1, hasChildren: false, collapsed: false}, false, UNICODE_MARKS, 20), '    web', 'a container by its name')
  // So deep that the indentation would leave no room: a few characters of the name still show.
  const deep = fittedName({stats, depth: 12, hasChildren: false, collapsed: false}, false, UNICODE_MARKS, 20)
  assert.equal(deep.length, 20)
  assert.match(deep, /…\w{5}$/)
})

test('the help wraps inside its box: no line reaches the border, a key\'s description wraps under itself', () => {
  for (const width of [40, 62, 66, 68]) {
    const lines = wrapHelp(HELP_TEXT, width)
    for (const l of lines) assert.ok(l.length <= width, `${width}: ${JSON.stringify(l)}`)
    const i = lines.findIndex((l) => l.startsWith('  /  '))
    if (lines[i + 1] !== undefined && !lines[i + 1].startsWith('  escape')) assert.match(lines[i + 1], /^ {18}\S/, 'hanging indent')
  }
})

test('v2 only: a container below another cgroup is one row under its path, named; the dashboard process list reads its cgroup.procs', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nsx-top-ctr-v2-'))
  t.after(() => rmSync(root, {recursive: true, force: true}))
  const fixture = join(import.meta.dirname, 'fixtures', 'cgroup-v2')
  cpSync(fixture, root, {recursive: true})
  const dir = `sys/fs/cgroup/user.slice/${LEAF}`
  write(root, dir, {
    'cgroup.procs': '300\n',
    'cpu.stat': 'usage_usec 4242\n',
    'memory.current': '8192\n',
    'memory.stat': 'inactive_file 0\n',
    'memory.max': `${32 << 20}\n`,
    'pids.current': '1\n',
    'pids.max': '10\n',
    'cpu.max': '50000 100000\n',
  })
  const c = collector(root)
  t.after(() => c.close())
  assert.equal(c.layout.mode, 'v2')
  const s = c.sample()
  const row = s.cgroups.get(`/user.slice/${LEAF}`)!
  assert.deepEqual(row.unit, {kind: 'container', name: 'web', id: '01234567'})
  assert.equal(row.cpuUsageUsec, 4242)
  assert.equal(row.memoryLimitBytes, 32 << 20)
  assert.equal(row.pidsMax, 10)
  assert.equal(row.cpuQuotaUsec, 50000)
  assert.equal(c.procsFileOf(`/user.slice/${LEAF}`), join(root, dir, 'cgroup.procs'))
  const rows = arrange(deriveAll(s, undefined), {sort: 'name'})
  const r = rows.find((x) => x.stats.unit !== undefined)!
  assert.equal(fittedName(r, false, UNICODE_MARKS, 30).trim(), 'web', 'called by its name in the tree')
})

test('a container row has its network bytes and their rates from the traffic source, read once per sample; other rows, and a container without, have none', async (t) => {
  const root = hybridTree(t)
  let bytes = {rxBytes: 1000, txBytes: 500}
  let refreshes = 0
  let withNet = true
  const traffic: UnitTraffic = {
    refresh: () => void refreshes++,
    of: (id) => (withNet && id === '01234567' ? bytes : undefined),
  }
  const c = collector(root, true, traffic)
  t.after(() => c.close())
  const s1 = c.sample()
  assert.equal(refreshes, 1, 'one reading of the links per sample, not one per row')
  const row = s1.cgroups.get(`/${LEAF}`)!
  assert.equal(row.netRxBytes, 1000)
  assert.equal(row.netTxBytes, 500)
  for (const s of s1.cgroups.values()) if (s !== row) assert.equal(s.netRxBytes, undefined, s.path)
  await new Promise((r) => setTimeout(r, 100))
  bytes = {rxBytes: 1000 + 40000, txBytes: 500 + 4000}
  const s2 = c.sample()
  const stats = deriveAll(s2, s1)
  const st = stats.find((s) => s.path === `/${LEAF}`)!
  const seconds = (s2.cgroups.get(`/${LEAF}`)!.netReadAt! - row.netReadAt!) / 1000
  assert.ok(Math.abs(st.netRxBytesPerSec! - 40000 / seconds) < 1e-6, `${st.netRxBytesPerSec}`)
  assert.ok(Math.abs(st.netTxBytesPerSec! - 4000 / seconds) < 1e-6)
  const json = cgroupJson(st)
  assert.deepEqual(json.network, {rxBytes: 41000, txBytes: 4500, rxBytesPerSec: Math.round(40000 / seconds), txBytesPerSec: Math.round(4000 / seconds)})
  const other = stats.find((s) => s.path === '/')!
  assert.equal(cgroupJson(other).network, null)
  // The dashboard's columns: a rate for the container, nothing (not 0, not '-') for the others.
  const rx = TUI_COLUMNS.find((col) => col.header === 'RX/s')!
  assert.match(rx.value(st), /^\d+(\.\d)?K$/)
  assert.equal(rx.value(other), '')
  // A container with no network of its own (--network none, host, container:NAME): nothing either.
  withNet = false
  const s3 = c.sample()
  const none = deriveAll(s3, s2).find((s) => s.path === `/${LEAF}`)!
  assert.equal(cgroupJson(none).network, null)
  assert.equal(rx.value(none), '')
})
