import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, statSync, existsSync} from 'node:fs'
import {cgroupsNamed, containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import {waitFor} from '../helpers/processes.js'
import type {CgroupJson} from '../../src/cgroup/report.js'

/**
 * What `nsx top --batch --json` says a container ran into, checked against the kernel's own
 * files: CPU throttling under a small --cpus quota, an OOM kill under --memory, and the bytes
 * a direct-IO dd wrote to its disk. Each waits on the counter itself (read through nsx top),
 * never on time: the box may be loaded.
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-top-limits-') : undefined

/** The container's row in one `nsx top --json NAME` iteration. */
function topRow(f: Fixture, name: string): CgroupJson | undefined {
  const r = f.nsx(['top', '--json', '-n', '1', '-d', '0.2', name])
  if (r.status !== 0) return undefined
  const it = JSON.parse(r.stdout.trim().split('\n')[0]) as {cgroups: CgroupJson[]}
  return it.cgroups.find((c) => c.container?.name === name)
}

/** Run `nsx top` on the container until `cond` holds for its row; the last row seen. */
async function topUntil(f: Fixture, name: string, cond: (r: CgroupJson) => boolean, what: string): Promise<CgroupJson> {
  let last: CgroupJson | undefined
  await waitFor(
    () => {
      last = topRow(f, name)
      return last !== undefined && cond(last)
    },
    120000,
    `${what} (last row: ${JSON.stringify(last)})`,
  )
  return last!
}

function detached(t: import('node:test').TestContext, f: Fixture, name: string, flags: string[], cmd: string): void {
  t.after(() => {
    f.nsx(['rm', '-f', name])
    assert.deepEqual(cgroupsNamed(name), [], `cgroups of ${name} left`)
  })
  const r = f.nsx(['run', '-d', '--name', name, '--layer', f.base, ...flags, '--', 'sh', '-c', cmd])
  assert.equal(r.status, 0, r.stderr)
}

const kernelFile = (name: string, ctrl: string, file: string): string => {
  const d = cgroupsNamed(name).find((x) => x.startsWith(`/sys/fs/cgroup/${ctrl}/`))
  assert.ok(d, `no ${ctrl} cgroup for ${name}`)
  return readFileSync(`${d}/${file}`, 'utf8')
}

test('a container spinning under --cpus 0.05 is throttled: nr_throttled > 0 in nsx top, as in the kernel\'s cpu.stat', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  detached(t, f, 'top-thr', ['--cpus', '0.05'], 'while :; do :; done')
  const row = await topUntil(f, 'top-thr', (r) => (r.cpu.nrThrottled ?? 0) > 0, 'nr_throttled above 0')
  assert.equal(row.cpu.quotaUsec, 5000)
  assert.ok(row.cpu.nrPeriods! >= row.cpu.nrThrottled!, JSON.stringify(row.cpu))
  assert.ok(row.cpu.throttledUsec! > 0, JSON.stringify(row.cpu))
  // The kernel's counter only grows: at least what nsx top saw.
  const stat = kernelFile('top-thr', 'cpu', 'cpu.stat')
  assert.ok(Number(/^nr_throttled (\d+)$/m.exec(stat)![1]) >= row.cpu.nrThrottled!, stat)
  // Spinning without pause, almost every period ends throttled once it runs.
  const later = await topUntil(f, 'top-thr', (r) => r.cpu.throttledPercent !== null && r.cpu.throttledPercent > 0, 'a throttled share over an interval')
  assert.ok(later.cpu.throttledPercent! <= 100)
})

test('a container OOM-killed under --memory shows oom_kill >= 1 in nsx top, as in memory.oom_control', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  // The shell stays (the allocator is the biggest process, the one killed), so the row stays.
  detached(t, f, 'top-oom', ['-m', '32m', '--memory-swap', '32m'], 'probe alloc 256; echo $? > /status; exec sleep 100000')
  const row = await topUntil(f, 'top-oom', (r) => (r.memory.events.oomKill ?? 0) >= 1, 'oom_kill at least 1')
  assert.equal(row.memory.limitBytes, 32 << 20)
  // v1's max events are the failure counts of the memory and memory+swap counters (this
  // kernel leaves them at 0 even through an OOM kill): what the kernel says, never less.
  const failcnt = Number(kernelFile('top-oom', 'memory', 'memory.failcnt')) + Number(kernelFile('top-oom', 'memory', 'memory.memsw.failcnt'))
  assert.ok(row.memory.events.max !== null && row.memory.events.max <= failcnt, `${JSON.stringify(row.memory.events)} against ${failcnt}`)
  assert.match(kernelFile('top-oom', 'memory', 'memory.oom_control'), /^oom_kill [1-9]\d*$/m)
})

test('a dd writing 8 MiB with O_DIRECT shows the bytes on its disk, per device, in nsx top', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  // The container's upper directory is in the store: its writes go to the disk holding it.
  const st = statSync(f.store)
  let dev = `${Math.floor(st.dev / 256) & 0xfff}:${(st.dev & 0xff) | ((st.dev >> 12) & 0xfff00)}`
  // Throttles and their counters are per disk: a partition's IO counts on its disk.
  if (existsSync(`/sys/dev/block/${dev}/partition`)) dev = readFileSync(`/sys/dev/block/${dev}/../dev`, 'utf8').trim()
  const devName = readFileSync(`/sys/dev/block/${dev}/uevent`, 'utf8').match(/^DEVNAME=(.+)$/m)![1]
  // On a hybrid or v1 host a container has a blkio cgroup (where its IO is counted) when it
  // starts with a block IO limit: 1 GB/s holds nothing back here.
  detached(t, f, 'top-io', ['--device-write-bps', `/dev/${devName}:1gb`], 'dd if=/dev/zero of=/written bs=1M count=8 oflag=direct 2>/dev/null; exec sleep 100000')
  const row = await topUntil(f, 'top-io', (r) => (r.io.devices ?? []).some((d) => d.device === dev && d.writeBytes >= 8 << 20), `8 MiB written to ${dev}`)
  const disk = row.io.devices!.find((d) => d.device === dev)!
  assert.equal(disk.name, devName)
  assert.ok(row.io.writeBytes! >= disk.writeBytes)
  assert.match(kernelFile('top-io', 'blkio', 'blkio.throttle.io_service_bytes'), new RegExp(`^${dev} Write \\d+$`, 'm'))
})
