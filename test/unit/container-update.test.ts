import {test} from 'node:test'
import assert from 'node:assert/strict'
import {layoutFromMountInfo, parseMountInfo} from '../../src/cgroup/hierarchy.js'
import {mergeLimits, orderMemoryWrites, placesOf, planUpdate} from '../../src/container/update.js'

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
`
const V2 = '30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n'
const layout = (mi: string, v2Controllers: string[] = []) => ({...layoutFromMountInfo(parseMountInfo(mi), '/sys'), v2Controllers})

test('the container\'s places are found from its saved directories (cpu is not cpuset)', () => {
  const l = layout(HYBRID)
  const p = placesOf(['/sys/fs/cgroup/memory/a/nsx-w-1', '/sys/fs/cgroup/cpuset/nsx-w-1', '/sys/fs/cgroup/unified/nsx-w-1'], l)
  assert.deepEqual(p.map((x) => `${x.hierarchy}:${x.version}:${x.parentDir}`), ['memory:1:/sys/fs/cgroup/memory/a', 'cpuset:1:/sys/fs/cgroup/cpuset', 'v2:2:/sys/fs/cgroup/unified'])
})

test('hybrid update: memory with its memsw, pids -1 as max; a hierarchy without a cgroup of the container is refused by name', () => {
  const l = layout(HYBRID)
  const places = placesOf(['/sys/fs/cgroup/memory/nsx-w-1', '/sys/fs/cgroup/pids/nsx-w-1', '/sys/fs/cgroup/unified/nsx-w-1'], l)
  const {writes} = planUpdate('w', places, l, {memory: 128 << 20, pids: -1})
  assert.deepEqual(writes.map((w) => `${w.file}=${w.value}`), ['memory.limit_in_bytes=134217728', 'memory.memsw.limit_in_bytes=134217728', 'pids.max=max'])
  assert.throws(() => planUpdate('w', places, l, {cpuShares: 512}), /--cpu-shares: container w has no cpu cgroup/)
})

test('v2 update: unified files, the controller enabled in the parent', () => {
  const l = layout(V2, ['cpu', 'memory', 'pids'])
  const places = placesOf(['/sys/fs/cgroup/nsx.slice/nsx-w-1'], l)
  const {writes, enable} = planUpdate('w', places, l, {cpuShares: 1024, memory: 64 << 20, memorySwap: 128 << 20})
  assert.deepEqual(enable, [{dir: '/sys/fs/cgroup/nsx.slice', controllers: ['memory', 'cpu']}])
  assert.deepEqual(writes.map((w) => `${w.file}=${w.value}`), ['memory.max=67108864', 'memory.swap.max=67108864', 'cpu.weight=39'])
})

test('merging: new values replace old, --cpus and --cpu-quota replace each other, memory keeps its swap', () => {
  const a = mergeLimits({memory: 64 << 20, memorySwap: 256 << 20, cpus: 1, pids: 10}, {memory: 128 << 20, cpuQuota: 20000})
  assert.deepEqual(a.limits, {memory: 128 << 20, memorySwap: 256 << 20, cpuQuota: 20000, pids: 10})
  assert.deepEqual(a.write, {memory: 128 << 20, memorySwap: 256 << 20, cpuQuota: 20000})
  assert.deepEqual(mergeLimits({pids: 10}, {pids: -1}).limits, {})
  assert.throws(() => mergeLimits({memory: 64 << 20, memorySwap: 100 << 20}, {memory: 128 << 20}), /above the container's --memory-swap/)
})

test('v1 memsw stays at or above the memory limit: raising, memsw is written first', () => {
  const w = [
    {dir: 'd', file: 'memory.limit_in_bytes', value: '200'},
    {dir: 'd', file: 'memory.memsw.limit_in_bytes', value: '200', optional: true},
  ]
  assert.deepEqual(orderMemoryWrites(w, () => 100).map((x) => x.file), ['memory.memsw.limit_in_bytes', 'memory.limit_in_bytes'])
  assert.deepEqual(orderMemoryWrites(w, () => 300).map((x) => x.file), ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes'])
})

test('hybrid update of a limit kind the container started without: its spare place is made (cpuset seeded from its parent first)', () => {
  const l = layout(HYBRID)
  const places = placesOf(['/sys/fs/cgroup/memory/nsx-w-1', '/sys/fs/cgroup/unified/nsx-w-1'], l)
  const spare = placesOf(['/sys/fs/cgroup/cpu/nsx-w-1', '/sys/fs/cgroup/cpuset/nsx-w-1'], l)
  const {writes, make} = planUpdate('w', places, l, {cpuShares: 512, cpusetCpus: '0'}, spare)
  assert.deepEqual(make.map((p) => p.dir).sort(), ['/sys/fs/cgroup/cpu/nsx-w-1', '/sys/fs/cgroup/cpuset/nsx-w-1'])
  const w = writes.map((x) => `${x.dir.split('/')[4]}/${x.file}=${typeof x.value === 'string' ? x.value : 'parent'}`)
  assert.deepEqual(w.slice(0, 2), ['cpuset/cpuset.cpus=parent', 'cpuset/cpuset.mems=parent'])
  assert.deepEqual(w.slice(2).sort(), ['cpu/cpu.shares=512', 'cpuset/cpuset.cpus=0'])
  // Nothing spare for that hierarchy (a start by an nsx that registered none): refused by name.
  assert.throws(() => planUpdate('w', places, l, {cpuShares: 512}, []), /: --cpu-shares: container w has no cpu cgroup, and it was started by an nsx that could not add one later/)
})
