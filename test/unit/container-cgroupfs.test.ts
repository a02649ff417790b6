import {test} from 'node:test'
import assert from 'node:assert/strict'
import {layoutFromMountInfo, parseMountInfo} from '../../src/cgroup/hierarchy.js'
import {locateMemberships, parseProcCgroup} from '../../src/cgroup/membership.js'
import {planCgroups} from '../../src/container/cgroups.js'
import {planCgroupfs} from '../../src/container/cgroupfs.js'
import {buildRunPlan, containerPaths} from '../../src/container/plan.js'
import type {RunSpec} from '../../src/container/spec.js'
import {encodePlan} from '../../src/plan/encode.js'

// What a container sees on /sys/fs/cgroup, planned over the layouts this machine cannot show
// (v1 with co-mounted cpu,cpuacct and its links, v2) as well as its own hybrid one.
const V1 = `31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
`
const HYBRID = `${V1}41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
`
const V2 = `30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate
`
const SELF = '9:name=systemd:/u\n8:pids:/u\n4:memory:/u\n3:cpuset:/\n2:cpu,cpuacct:/u\n0::/u\n'
const LINKS = {cpu: 'cpu,cpuacct', cpuacct: 'cpu,cpuacct'}

function places(mountinfo: string, v2Controllers: string[], limits: {memory?: number; cpus?: number}) {
  const layout = {...layoutFromMountInfo(parseMountInfo(mountinfo), '/sys'), v2Controllers}
  const own = locateMemberships(parseProcCgroup(SELF), layout)
  return {layout, places: planCgroups(layout, own, 'web', '0123456789abcdef', limits).places}
}

test('v2: the cgroup2 tree on /sys/fs/cgroup, read-only (its root is the container cgroup, through the cgroup namespace)', () => {
  const {layout, places: p} = places(V2, ['memory', 'cpu', 'pids'], {memory: 64 << 20, cpus: 0.5})
  assert.deepEqual(planCgroupfs(layout, p, {userns: false, readOnly: true, hostLinks: {}}), [{kind: 'cgroup2', path: '/sys/fs/cgroup'}])
  // A user namespace may mount cgroup2 (its cgroup namespace is its own).
  assert.deepEqual(planCgroupfs(layout, p, {userns: true, readOnly: true, hostLinks: {}}), [{kind: 'cgroup2', path: '/sys/fs/cgroup'}])
})

test("v1: a tmpfs, each hierarchy the container has a cgroup in, the host's links to them, then the tmpfs read-only", () => {
  const {layout, places: p} = places(V1, [], {memory: 64 << 20, cpus: 0.5})
  assert.deepEqual(planCgroupfs(layout, p, {userns: false, readOnly: true, hostLinks: LINKS}), [
    {kind: 'tmpfs', path: '/sys/fs/cgroup'},
    {kind: 'cgroup', controllers: ['cpu', 'cpuacct'], path: '/sys/fs/cgroup/cpu,cpuacct'},
    {kind: 'cgroup', controllers: ['cpuset'], path: '/sys/fs/cgroup/cpuset'},
    {kind: 'cgroup', controllers: ['memory'], path: '/sys/fs/cgroup/memory'},
    {kind: 'cgroup', controllers: ['pids'], path: '/sys/fs/cgroup/pids'},
    {kind: 'symlink', target: 'cpu,cpuacct', path: '/sys/fs/cgroup/cpu'},
    {kind: 'symlink', target: 'cpu,cpuacct', path: '/sys/fs/cgroup/cpuacct'},
    {kind: 'remount-ro', path: '/sys/fs/cgroup'},
  ])
  // --privileged: writable, as docker's.
  assert.ok(!planCgroupfs(layout, p, {userns: false, readOnly: false, hostLinks: LINKS}).some((m) => m.kind === 'remount-ro'))
  // The kernel refuses v1 mounts in a user namespace: nothing to show on a v1-only host.
  assert.deepEqual(planCgroupfs(layout, p, {userns: true, readOnly: true, hostLinks: LINKS}), [])
})

test('hybrid: the v1 hierarchies the container has a cgroup in (memory and pids always, cpu for --cpus) and the unified tree; rootless nothing', () => {
  const {layout, places: p} = places(HYBRID, [], {memory: 64 << 20, cpus: 0.5})
  assert.deepEqual(
    planCgroupfs(layout, p, {userns: false, readOnly: true, hostLinks: LINKS}).map((m) => `${m.kind} ${m.path}`),
    // memory, pids (and freezer, not mounted in this fixture): every container has them (nsx top, pause).
    ['tmpfs /sys/fs/cgroup', 'cgroup /sys/fs/cgroup/cpu,cpuacct', 'cgroup /sys/fs/cgroup/memory', 'cgroup /sys/fs/cgroup/pids', 'cgroup2 /sys/fs/cgroup/unified', 'symlink /sys/fs/cgroup/cpu', 'symlink /sys/fs/cgroup/cpuacct', 'remount-ro /sys/fs/cgroup'],
  )
  const none = places(HYBRID, [], {})
  assert.deepEqual(
    planCgroupfs(none.layout, none.places, {userns: false, readOnly: true, hostLinks: LINKS}).map((m) => `${m.kind} ${m.path}`),
    ['tmpfs /sys/fs/cgroup', 'cgroup /sys/fs/cgroup/memory', 'cgroup /sys/fs/cgroup/pids', 'cgroup2 /sys/fs/cgroup/unified', 'remount-ro /sys/fs/cgroup'],
  )
  assert.deepEqual(planCgroupfs(layout, [], {userns: true, readOnly: true, hostLinks: {}}), [])
})

test('the plan mounts them after /sys, before pivot_root, read-only unless --privileged', () => {
  const {layout, places: p} = places(V1, [], {memory: 64 << 20})
  const cgroupfs = planCgroupfs(layout, p, {userns: false, readOnly: true, hostLinks: LINKS})
  const spec = {name: 'web', hostname: 'web', argv: ['sh'], env: [], workdir: '/', uid: 0, gid: 0, groups: [], caps: [], privileged: false, network: 'none', volumes: [], interactive: false, tty: false, detach: false, etc: {hostname: 'web', name: 'web', network: 'none', addresses: [], extraHosts: [], dns: [], dnsSearch: [], dnsOptions: []}, security: {readOnly: false, tmpfs: [], devices: [], deviceRules: [], ulimits: []}} as RunSpec
  const plan = buildRunPlan(spec, ['/l'], containerPaths('/s/run/web', '/s/containers/web.json'), {places: p, enable: [], writes: [], cgroupfs})
  const names = plan.ops.map((o) => o.op)
  const first = names.indexOf('ctr-cgroupfs')
  assert.ok(first > names.indexOf('ctr-sys') && names.lastIndexOf('ctr-cgroupfs') < names.indexOf('ctr-pivot'))
  const argv = encodePlan(plan)
  const i = argv.indexOf('ctr-cgroupfs')
  assert.deepEqual(argv.slice(i, i + 5), ['ctr-cgroupfs', 'tmpfs', '-', '/sys/fs/cgroup', 'ro'])
  const j = argv.indexOf('/sys/fs/cgroup/memory')
  assert.deepEqual(argv.slice(j - 3, j + 2), ['ctr-cgroupfs', 'cgroup', 'memory', '/sys/fs/cgroup/memory', 'ro'])
})
