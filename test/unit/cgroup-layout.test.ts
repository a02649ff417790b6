import {test} from 'node:test'
import assert from 'node:assert/strict'
import {layoutFromMountInfo, parseMountInfo} from '../../src/cgroup/hierarchy.js'
import {locateMemberships, parseProcCgroup} from '../../src/cgroup/membership.js'

const HYBRID = `25 30 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
27 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
28 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
29 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
`
const V2 = `30 1 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`
const V1 = `28 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
29 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
`

test('a host with v1 controllers and a cgroup2 tree is hybrid', () => {
  const l = layoutFromMountInfo(parseMountInfo(HYBRID), '/sys')
  assert.equal(l.mode, 'hybrid')
  assert.equal(l.v2, '/sys/fs/cgroup/unified')
  assert.deepEqual(
    l.v1.map((h) => h.controllers.join(',')),
    ['name=systemd', 'cpu,cpuacct', 'memory'],
  )
})

test('only a cgroup2 mount is v2; only cgroup mounts is v1', () => {
  assert.equal(layoutFromMountInfo(parseMountInfo(V2), '/sys').mode, 'v2')
  assert.equal(layoutFromMountInfo(parseMountInfo(V1), '/sys').mode, 'v1')
})

test('/proc/PID/cgroup lines are located in their hierarchies', () => {
  const members = parseProcCgroup('4:memory:/svc/a\n2:cpu,cpuacct:/svc\n1:name=systemd:/\n0::/svc/a\n')
  const located = locateMemberships(members, layoutFromMountInfo(parseMountInfo(HYBRID), '/sys'))
  assert.deepEqual(
    located.map((m) => [m.version, m.controllers.join(','), m.directory]),
    [
      [1, 'memory', '/sys/fs/cgroup/memory/svc/a'],
      [1, 'cpu,cpuacct', '/sys/fs/cgroup/cpu,cpuacct/svc'],
      [1, 'name=systemd', '/sys/fs/cgroup/systemd'],
      [2, '', '/sys/fs/cgroup/unified/svc/a'],
    ],
  )
})

test('mountinfo escapes in mount points are decoded', () => {
  const [e] = parseMountInfo('40 25 0:30 / /mnt/with\\040space rw - tmpfs tmpfs rw\n')
  assert.equal(e.mountpoint, '/mnt/with space')
})

test('v1 hierarchies hidden by cgroup2 mounted over /sys/fs/cgroup are not used (a private mount namespace)', () => {
  // What `mount -t cgroup2 none /sys/fs/cgroup` inside `unshare -m` leaves in mountinfo:
  // the v1 mounts stay listed below the new mount, but no path reaches them.
  const overmounted = `${HYBRID}40 25 0:24 / /sys/fs/cgroup rw,relatime - cgroup2 none rw,nsdelegate\n`
  const l = layoutFromMountInfo(parseMountInfo(overmounted), '/sys')
  assert.equal(l.mode, 'v2')
  assert.equal(l.v2, '/sys/fs/cgroup')
  assert.deepEqual(l.v1, [])
})

test('a mount stacked on a v1 hierarchy hides it; mounts beside it stay', () => {
  const stacked = `${HYBRID}41 29 0:40 / /sys/fs/cgroup/memory rw - tmpfs tmpfs rw\n`
  const l = layoutFromMountInfo(parseMountInfo(stacked), '/sys')
  assert.deepEqual(
    l.v1.map((h) => h.controllers.join(',')),
    ['name=systemd', 'cpu,cpuacct'],
  )
  assert.equal(l.mode, 'hybrid')
})

test('v1 mount options that are not controllers (cpuset_v2_mode, favordynmods) stay out of the hierarchy id, so /proc/PID/cgroup lines find it', () => {
  const text = `28 25 0:26 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpuset,cpuset_v2_mode
29 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct,favordynmods
`
  const l = layoutFromMountInfo(parseMountInfo(text), '/sys')
  assert.deepEqual(l.v1.map((h) => h.controllers.join(',')), ['cpuset', 'cpu,cpuacct'])
  const m = locateMemberships(parseProcCgroup('3:cpuset:/a\n2:cpu,cpuacct:/b\n'), l)
  assert.deepEqual(m.map((x) => x.directory), ['/sys/fs/cgroup/cpuset/a', '/sys/fs/cgroup/cpu,cpuacct/b'])
})
