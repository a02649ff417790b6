import {test} from 'node:test'
import assert from 'node:assert/strict'
import {
  countLines,
  keyedValue,
  parseBlkioServiceBytes,
  parseCfs,
  parseCpuMax,
  parseIoStat,
  parseLimit,
  parsePidList,
  parsePressureSomeAvg10,
  parseSingleInt,
} from '../../src/cgroup/counters.js'
import {layoutFromMountInfo, parseMountInfo} from '../../src/cgroup/hierarchy.js'
import {metricSources} from '../../src/cgroup/sources.js'

test('a keyed value matches only whole keys at the start of a line', () => {
  const stat = 'inactive_anon 5\ninactive_file 7\ntotal_inactive_file 99\n'
  assert.equal(keyedValue(stat, 'inactive_file'), 7)
  assert.equal(keyedValue(stat, 'total_inactive_file'), 99)
  assert.equal(keyedValue('total_inactive_file 99\n', 'inactive_file'), undefined)
  assert.equal(keyedValue('usage_usec 123\nuser_usec 4\n', 'usage_usec'), 123)
  assert.equal(keyedValue(undefined, 'usage_usec'), undefined)
})

test('limits: "max" and v1\'s near-2^63 "no limit" read as unlimited (null)', () => {
  assert.equal(parseLimit('max\n'), null)
  assert.equal(parseLimit('9223372036854771712\n'), null)
  assert.equal(parseLimit('536870912\n'), 536870912)
  assert.equal(parseLimit('0\n'), 0)
  assert.equal(parseLimit(''), undefined)
  assert.equal(parseLimit(undefined), undefined)
})

test('cpu.max and the CFS quota give quota and period, unlimited as null', () => {
  assert.deepEqual(parseCpuMax('max 100000\n'), {quotaUsec: null, periodUsec: 100000})
  assert.deepEqual(parseCpuMax('150000 100000\n'), {quotaUsec: 150000, periodUsec: 100000})
  assert.equal(parseCpuMax('garbage'), undefined)
  assert.deepEqual(parseCfs('-1\n', '100000\n'), {quotaUsec: null, periodUsec: 100000})
  assert.deepEqual(parseCfs('50000\n', '100000\n'), {quotaUsec: 50000, periodUsec: 100000})
  assert.equal(parseCfs(undefined, '100000\n'), undefined)
})

test('io.stat bytes are summed over devices', () => {
  const text = '8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n253:0 rbytes=5 wbytes=7 rios=1 wios=1 dbytes=0 dios=0\n'
  assert.deepEqual(parseIoStat(text), {readBytes: 105, writeBytes: 207})
  assert.deepEqual(parseIoStat(''), {readBytes: 0, writeBytes: 0})
})

test('blkio service bytes sum Read and Write per device, not the Total lines', () => {
  const text = '8:0 Read 4096\n8:0 Write 12288\n8:0 Sync 1\n8:0 Total 16384\n8:16 Read 100\n8:16 Total 100\nTotal 16484\n'
  assert.deepEqual(parseBlkioServiceBytes(text), {readBytes: 4196, writeBytes: 12288})
  assert.deepEqual(parseBlkioServiceBytes('Total 0\n'), {readBytes: 0, writeBytes: 0})
})

test('PSI: the "some avg10" figure', () => {
  assert.equal(parsePressureSomeAvg10('some avg10=1.52 avg60=0.49 avg300=0.30 total=2595546\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n'), 1.52)
  assert.equal(parsePressureSomeAvg10('full avg10=3.00'), undefined)
  assert.equal(parsePressureSomeAvg10(undefined), undefined)
})

test('single integers, pid lists and line counts', () => {
  assert.equal(parseSingleInt('25529041718\n'), 25529041718)
  assert.equal(parseSingleInt('-1\n'), -1)
  assert.equal(parseSingleInt('\n'), undefined)
  assert.deepEqual(parsePidList('1\n22\n333\n'), [1, 22, 333])
  assert.equal(countLines('1\n22\n333\n'), 3)
  assert.equal(countLines(''), 0)
  assert.equal(countLines('5'), 1)
})

const HYBRID = `26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw
27 25 0:25 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
28 25 0:26 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
29 25 0:27 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct
30 25 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
31 25 0:29 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
32 25 0:30 / /sys/fs/cgroup/blkio rw - cgroup cgroup rw,blkio
`

test('hybrid: each figure comes from the v1 hierarchy holding its controller, pressure from cgroup2', () => {
  const s = metricSources(layoutFromMountInfo(parseMountInfo(HYBRID), '/nonexistent-sys'))
  assert.equal(s.cpu?.id, 'cpuacct')
  assert.equal(s.cpuLimit?.id, 'cpu')
  assert.equal(s.memory?.id, 'memory')
  assert.equal(s.pids?.id, 'pids')
  assert.equal(s.io?.id, 'blkio')
  assert.equal(s.pressure?.id, 'v2')
  assert.deepEqual(
    s.procs.map((h) => h.id),
    ['name=systemd', 'pids', 'cpuacct', 'cpu', 'memory', 'blkio', 'v2'],
  )
})

test('the descriptors kept open stay well below the soft open-file limit', async () => {
  const {openFileBudget} = await import('../../src/cgroup/files.js')
  const limits = (soft: string, hard: string) =>
    `Limit                     Soft Limit           Hard Limit           Units\nMax cpu time              unlimited            unlimited            seconds\nMax open files            ${soft}                 ${hard}                 files\n`
  assert.equal(openFileBudget(limits('1024', '524288')), 512)
  assert.equal(openFileBudget(limits('20000', '20000')), 8192)
  assert.equal(openFileBudget(limits('256', '256')), 64)
  assert.equal(openFileBudget(limits('unlimited', 'unlimited')), 512)
  assert.equal(openFileBudget(undefined), 512)
})
