import {test} from 'node:test'
import assert from 'node:assert/strict'
import {layoutFromMountInfo, parseMountInfo} from '../../src/cgroup/hierarchy.js'
import {locateMemberships, parseProcCgroup} from '../../src/cgroup/membership.js'
import {planCgroups} from '../../src/container/cgroups.js'

// Layouts as mountinfo shows them; cgroup.controllers of a v2 root is passed in directly.
const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
`
const HYBRID_SELF = `9:name=systemd:/user.slice
8:pids:/user.slice
4:memory:/process_api/abc
3:cpuset:/
2:cpu,cpuacct:/user.slice
0::/user.slice
`
const V2 = `30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate
`
const V2_SELF = '0::/user.slice/session-1.scope\n'

function setup(mountinfo: string, self: string, v2Controllers: string[] = []) {
  const layout = {...layoutFromMountInfo(parseMountInfo(mountinfo), '/sys'), v2Controllers}
  return {layout, own: locateMemberships(parseProcCgroup(self), layout)}
}

test('hybrid without limits: the unified tree, and the memory and pids hierarchies that alone count what nsx top shows', () => {
  const {layout, own} = setup(HYBRID, HYBRID_SELF)
  const s = planCgroups(layout, own, 'web', '0123456789abcdef', {})
  // No cpu,cpuacct: the unified tree's cpu.stat counts the container's CPU time.
  assert.deepEqual(s.places.map((p) => p.dir), [
    '/sys/fs/cgroup/memory/process_api/abc/nsx-web-01234567',
    '/sys/fs/cgroup/pids/user.slice/nsx-web-01234567',
    '/sys/fs/cgroup/unified/user.slice/nsx-web-01234567',
  ])
  assert.deepEqual(s.writes, [])
  assert.deepEqual(s.enable, [])
  // Where nsx update would add the cgroups of the limits it has none of: not made, but known.
  assert.deepEqual(s.spare?.map((p) => p.dir), ['/sys/fs/cgroup/cpu,cpuacct/user.slice/nsx-web-01234567', '/sys/fs/cgroup/cpuset/nsx-web-01234567'])
})

test('hybrid with limits: the v1 hierarchies that enforce them too, below our own cgroup in each', () => {
  const {layout, own} = setup(HYBRID, HYBRID_SELF)
  const s = planCgroups(layout, own, 'web', '0123456789abcdef', {memory: 64 << 20, cpusetCpus: '0'})
  assert.deepEqual(
    s.places.map((p) => p.dir),
    [
      '/sys/fs/cgroup/cpuset/nsx-web-01234567',
      '/sys/fs/cgroup/memory/process_api/abc/nsx-web-01234567',
      '/sys/fs/cgroup/pids/user.slice/nsx-web-01234567',
      '/sys/fs/cgroup/unified/user.slice/nsx-web-01234567',
    ],
  )
  // v1 cpuset children start with no CPUs or memory nodes: copied from the parent first.
  assert.deepEqual(s.writes.slice(0, 2), [
    {dir: '/sys/fs/cgroup/cpuset/nsx-web-01234567', file: 'cpuset.cpus', value: {copy: true}},
    {dir: '/sys/fs/cgroup/cpuset/nsx-web-01234567', file: 'cpuset.mems', value: {copy: true}},
  ])
})

test('v1 only: every hierarchy with a controller (there is no cgroup2 tree to be born in)', () => {
  const v1only = HYBRID.split('\n').filter((l) => !l.includes('cgroup2')).join('\n')
  const {layout, own} = setup(v1only, HYBRID_SELF)
  const s = planCgroups(layout, own, 'web', '0123456789abcdef', {})
  assert.equal(layout.mode, 'v1')
  assert.deepEqual(s.places.map((p) => p.hierarchy), ['cpu,cpuacct', 'cpuset', 'memory', 'pids'])
})

test('hybrid: limits go to the v1 files (memsw too, when swap accounting has it)', () => {
  const {layout, own} = setup(HYBRID, HYBRID_SELF)
  const s = planCgroups(layout, own, 'web', '0123456789abcdef', {memory: 64 << 20, cpus: 1.5, pids: 100, cpusetCpus: '0-1'})
  const w = s.writes.filter((x) => typeof x.value === 'string').map((x) => `${x.dir.split('/')[4]}/${x.file}=${x.value}${x.optional ? '?' : ''}`)
  assert.deepEqual(w, [
    'memory/memory.limit_in_bytes=67108864',
    'memory/memory.memsw.limit_in_bytes=67108864?',
    'pids/pids.max=100',
    'cpu,cpuacct/cpu.cfs_period_us=100000',
    'cpu,cpuacct/cpu.cfs_quota_us=150000',
    'cpuset/cpuset.cpus=0-1',
  ])
})

test('v2: limits go to the unified files and the controllers are enabled in the parent first', () => {
  const {layout, own} = setup(V2, V2_SELF, ['cpuset', 'cpu', 'io', 'memory', 'pids'])
  const s = planCgroups(layout, own, 'db', 'fedcba9876543210', {memory: 128 << 20, cpus: 0.25, pids: 50, cpusetCpus: '1'})
  const dir = '/sys/fs/cgroup/user.slice/session-1.scope/nsx-db-fedcba98'
  assert.deepEqual(s.places, [{hierarchy: 'v2', version: 2, parentDir: '/sys/fs/cgroup/user.slice/session-1.scope', dir}])
  assert.deepEqual(s.enable, [{dir: '/sys/fs/cgroup/user.slice/session-1.scope', controllers: ['memory', 'pids', 'cpu', 'cpuset']}])
  assert.deepEqual(
    s.writes.map((x) => `${x.file}=${x.value}${x.optional ? '?' : ''}`),
    ['memory.max=134217728', 'memory.swap.max=0?', 'pids.max=50', 'cpu.max=25000 100000', 'cpuset.cpus=1'],
  )
})

test('--cgroup-parent places the cgroups below that path in every hierarchy', () => {
  const {layout, own} = setup(HYBRID, HYBRID_SELF)
  const s = planCgroups(layout, own, 'x', '00000000ffff', {}, '/nsx.slice')
  assert.ok(s.places.every((p) => p.parentDir.endsWith('/nsx.slice')), JSON.stringify(s.places))
})

test('a limit whose controller is mounted nowhere is refused with the reason', () => {
  const {layout, own} = setup(V2, V2_SELF, ['cpu', 'io'])
  assert.throws(() => planCgroups(layout, own, 'x', '00000000', {memory: 64 << 20}), /--memory needs the memory cgroup controller, which is not mounted here \(cgroup mode v2\)/)
})

test('a v1 freezer hierarchy always gets a cgroup of the container (nsx pause), with or without limits, on hybrid and v1 hosts', () => {
  const withFreezer = HYBRID.replace('39 31 0:36', '38 31 0:35 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n39 31 0:36')
  const {layout, own} = setup(withFreezer, `${HYBRID_SELF}6:freezer:/\n`)
  assert.deepEqual(planCgroups(layout, own, 'web', '0123456789abcdef', {}).places.map((p) => p.dir), [
    '/sys/fs/cgroup/memory/process_api/abc/nsx-web-01234567',
    '/sys/fs/cgroup/freezer/nsx-web-01234567',
    '/sys/fs/cgroup/pids/user.slice/nsx-web-01234567',
    '/sys/fs/cgroup/unified/user.slice/nsx-web-01234567',
  ])
  const v1Only = setup(withFreezer.replace(/^41 .*\n/m, ''), `${HYBRID_SELF}6:freezer:/\n`)
  assert.ok(planCgroups(v1Only.layout, v1Only.own, 'web', '0123456789abcdef', {}).places.some((p) => p.dir === '/sys/fs/cgroup/freezer/nsx-web-01234567'))
})
