import {test} from 'node:test'
import assert from 'node:assert/strict'
import {layoutFromMountInfo, parseMountInfo} from '../../src/cgroup/hierarchy.js'
import {locateMemberships, parseProcCgroup} from '../../src/cgroup/membership.js'
import {planCgroups} from '../../src/container/cgroups.js'
import type {Limits} from '../../src/container/limits.js'
import {parseRunArgs} from '../../src/container/options.js'
import {cpuWeightFromShares, ioWeightFromBlkio, parseResourceFlags, ResourceFlags} from '../../src/container/resources.js'

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
33 31 0:30 / /sys/fs/cgroup/blkio rw - cgroup cgroup rw,blkio
34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
`
const HYBRID_SELF = '8:pids:/\n7:blkio:/\n4:memory:/\n3:cpuset:/\n2:cpu,cpuacct:/\n0::/\n'
const V2 = '30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n'
const V2_SELF = '0::/nsx.slice\n'

function plan(mountinfo: string, self: string, limits: Limits, v2Controllers: string[] = []) {
  const layout = {...layoutFromMountInfo(parseMountInfo(mountinfo), '/sys'), v2Controllers}
  return planCgroups(layout, locateMemberships(parseProcCgroup(self), layout), 'c', '0123456789abcdef', limits)
}
const shown = (s: ReturnType<typeof plan>) =>
  s.writes.filter((x) => typeof x.value === 'string').map((x) => `${x.dir.split('/').at(-2)}/${x.file}=${x.value}${x.optional ? '?' : ''}`)

const fakeDevice = (path: string) => (path === '/dev/vda' ? {major: 253, minor: 0} : {major: 7, minor: 3})
const parse = (f: ResourceFlags, memory?: number, cpus?: number) => parseResourceFlags(f, {memory, cpus, nodesOnline: '0', resolveDevice: fakeDevice})

const ALL: ResourceFlags = {
  memoryReservation: '32m',
  memorySwap: '128m',
  memorySwappiness: '10',
  cpuShares: '512',
  cpuPeriod: '50000',
  cpuQuota: '25000',
  cpusetMems: '0',
  blkioWeight: '300',
  blkioWeightDevice: ['/dev/vda:200'],
  deviceReadBps: ['/dev/vda:1mb'],
  deviceWriteBps: ['/dev/loop3:512k'],
  deviceReadIops: ['/dev/vda:100'],
  deviceWriteIops: ['/dev/vda:50'],
}

test('hybrid: every resource flag goes to its v1 file, devices as major:minor', () => {
  const lim = {memory: 64 << 20, ...parse(ALL, 64 << 20)}
  assert.deepEqual(shown(plan(HYBRID, HYBRID_SELF, lim)), [
    'memory/memory.limit_in_bytes=67108864',
    'memory/memory.memsw.limit_in_bytes=134217728',
    'memory/memory.soft_limit_in_bytes=33554432',
    'memory/memory.swappiness=10',
    'cpu,cpuacct/cpu.shares=512',
    'cpu,cpuacct/cpu.cfs_period_us=50000',
    'cpu,cpuacct/cpu.cfs_quota_us=25000',
    'cpuset/cpuset.mems=0',
    'blkio/blkio.weight=300',
    'blkio/blkio.weight_device=253:0 200',
    'blkio/blkio.throttle.read_bps_device=253:0 1048576',
    'blkio/blkio.throttle.write_bps_device=7:3 524288',
    'blkio/blkio.throttle.read_iops_device=253:0 100',
    'blkio/blkio.throttle.write_iops_device=253:0 50',
  ])
})

test('v2: the unified names and runc/crun conversions (cpu.weight from shares, io.weight, swap.max as total less memory)', () => {
  const {memorySwappiness: _, ...v2able} = ALL
  const lim = {memory: 64 << 20, ...parse(v2able, 64 << 20)}
  const s = plan(V2, V2_SELF, lim, ['cpuset', 'cpu', 'io', 'memory', 'pids'])
  assert.deepEqual(s.enable, [{dir: '/sys/fs/cgroup/nsx.slice', controllers: ['memory', 'cpu', 'cpuset', 'io']}])
  assert.deepEqual(shown(s), [
    'nsx.slice/memory.max=67108864',
    'nsx.slice/memory.swap.max=67108864',
    'nsx.slice/memory.low=33554432',
    'nsx.slice/cpu.weight=20',
    'nsx.slice/cpu.max=25000 50000',
    'nsx.slice/cpuset.mems=0',
    'nsx.slice/io.weight=default 2930',
    'nsx.slice/io.weight=253:0 1920',
    'nsx.slice/io.max=253:0 rbps=1048576',
    'nsx.slice/io.max=7:3 wbps=524288',
    'nsx.slice/io.max=253:0 riops=100',
    'nsx.slice/io.max=253:0 wiops=50',
  ])
})

test('the conversions at their ends: shares 2/1024/262144 and blkio 10/1000', () => {
  assert.deepEqual([2, 1024, 262144].map(cpuWeightFromShares), [1, 39, 10000])
  assert.deepEqual([10, 500, 1000].map(ioWeightFromBlkio), [1, 4950, 10000])
})

test("--memory-swap: docker's meanings of -1 and of a value equal to --memory", () => {
  const m = 64 << 20
  assert.deepEqual(shown(plan(HYBRID, HYBRID_SELF, {memory: m, ...parse({memorySwap: '-1'}, m)})), ['memory/memory.limit_in_bytes=67108864', 'memory/memory.memsw.limit_in_bytes=-1?'])
  assert.deepEqual(shown(plan(HYBRID, HYBRID_SELF, {memory: m, ...parse({memorySwap: '64m'}, m)})), ['memory/memory.limit_in_bytes=67108864', 'memory/memory.memsw.limit_in_bytes=67108864'])
  const v2 = (swap: string) => shown(plan(V2, V2_SELF, {memory: m, ...parse({memorySwap: swap}, m)}, ['memory', 'pids']))
  assert.deepEqual(v2('-1'), ['nsx.slice/memory.max=67108864', 'nsx.slice/memory.swap.max=max?'])
  assert.deepEqual(v2('64m'), ['nsx.slice/memory.max=67108864', 'nsx.slice/memory.swap.max=0'])
  assert.throws(() => parse({memorySwap: '128m'}), /--memory-swap needs --memory/)
  assert.throws(() => parse({memorySwap: '32m'}, m), /--memory-swap 32m is below --memory/)
})

test('kernel files v2 lacks are required writes with the reason (applying fails naming the file)', () => {
  const s = plan(V2, V2_SELF, {memorySwappiness: 0, oomKillDisable: true}, ['memory', 'pids'])
  assert.deepEqual(s.writes.map((w) => [w.file, w.optional ?? false, w.why]), [
    ['memory.swappiness', false, 'cgroup v2 has no per-cgroup swappiness'],
    ['memory.oom_control', false, 'cgroup v2 cannot turn the OOM killer off'],
  ])
})

test('bad values are refused with docker-like messages', () => {
  assert.throws(() => parse({cpuShares: '1'}), /--cpu-shares '1': the kernel's minimum is 2/)
  assert.throws(() => parse({cpuPeriod: '500'}), /--cpu-period '500': the range is 1000 to 1000000/)
  assert.throws(() => parse({cpuQuota: '10'}), /--cpu-quota '10': the minimum is 1000/)
  assert.throws(() => parse({cpuQuota: '50000'}, undefined, 1), /--cpus conflicts with --cpu-period and --cpu-quota/)
  assert.throws(() => parse({memorySwappiness: '101'}), /--memory-swappiness '101': the range is -1 to 100/)
  assert.throws(() => parse({blkioWeight: '5'}), /--blkio-weight '5': the range is 10 to 1000/)
  assert.throws(() => parse({blkioWeightDevice: ['/dev/vda']}), /--blkio-weight-device '\/dev\/vda': expected DEVICE:VALUE/)
  assert.throws(() => parse({deviceReadBps: ['/dev/vda:fast']}), /--device-read-bps rate 'fast'/)
  assert.throws(() => parse({cpusetMems: '3'}), /memory node 3 not online \(online: 0\)/)
  assert.throws(() => parse({memoryReservation: '128m'}, 64 << 20), /--memory-reservation 128m is above --memory/)
  assert.throws(() => parseResourceFlags({deviceWriteBps: ['/dev/null:1mb']}), /\/dev\/null is not a block device/)
  assert.throws(() => parseResourceFlags({deviceWriteBps: ['/dev/nonesuch:1mb']}), /'\/dev\/nonesuch': no such device/)
  // 0 and -1 mean "unset", as in docker.
  assert.deepEqual(parse({cpuShares: '0', blkioWeight: '0', memorySwappiness: '-1'}), {})
})

test('nsx run parses the flags into resources (repeatable device flags, -c for --cpu-shares)', () => {
  const o = parseRunArgs(['--memory-swap', '1g', '-c', '512', '--oom-kill-disable', '--device-read-bps', '/dev/vda:1mb', '--device-read-bps', '/dev/vdb:2mb', '--layer', 'x', 'sh'])
  assert.deepEqual(o.resources, {memorySwap: '1g', cpuShares: '512', oomKillDisable: true, deviceReadBps: ['/dev/vda:1mb', '/dev/vdb:2mb']})
  assert.throws(() => parseRunArgs(['--cpu-shares', '1', '--cpu-shares', '2', 'sh']), /option --cpu-shares may be given only once/)
})
