import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync} from 'node:fs'
import {assertOneLineError} from '../helpers/env.js'
import {cgroupsNamed, containerToolsPresent, Fixture, makeFixture, needContainerTools, runningContainer} from '../helpers/container.js'

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-run-res-') : undefined

/** A whole block device of this machine with its node in /dev (throttles are per disk, not per partition). */
function someDisk(): {path: string; numbers: string} | undefined {
  for (const name of readdirSync('/sys/block').sort((a, b) => Number(a.startsWith('loop')) - Number(b.startsWith('loop')))) {
    if (existsSync(`/dev/${name}`)) return {path: `/dev/${name}`, numbers: readFileSync(`/sys/block/${name}/dev`, 'utf8').trim()}
  }
  return undefined
}

/** Runs a container that waits (--rm, FLAGS); returns its cgroup files' reader and a stop function. */
const running = (t: import('node:test').TestContext, f: Fixture, name: string, flags: string[]) => runningContainer(t, f, name, ['--rm', '--layer', f.base, ...flags, '--', 'probe', 'wait-signal'])

const HAVE_MEMSW = existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')

/** `nsx run FLAGS -- true` refused: exit 125, one line matching `pattern`, no cgroup of `name` left. */
function refused(f: Fixture, name: string, flags: string[], pattern: RegExp): void {
  const r = f.nsx(['run', '--rm', '--name', name, '--layer', f.base, ...flags, '--', 'true'])
  assertOneLineError(r, 125, pattern)
  assert.deepEqual(cgroupsNamed(name), [])
}

test('memory, cpu and cpuset flags are in the kernel\'s v1 files while the container runs', async (t) => {
  if (!needContainerTools(t)) return
  // Parsed before any cgroup is made, whatever the kernel has.
  refused(fx!, 'res-mem', ['-m', '64m', '--memory-swap', '32m'], /^nsx run: --memory-swap 32m is below --memory/)
  if (!HAVE_MEMSW) {
    // A kernel feature (swap accounting off: no memsw files), not a missing package: the flag's
    // refusal is what can be checked here, and the test says why it checks no more.
    refused(fx!, 'res-mem', ['-m', '64m', '--memory-swap', '128m'], /^nsx run: cannot set memory\.memsw\.limit_in_bytes: the kernel has no \S+ \(swap accounting is off: boot with swapaccount=1\)$/)
    return t.skip('this kernel has no swap accounting (memsw): checked --memory-swap\'s refusal instead of its limit')
  }
  const c = await running(t, fx!, 'res-mem', [
    '-m', '64m', '--memory-reservation', '32m', '--memory-swap', '128m', '--memory-swappiness', '10', '--oom-kill-disable',
    '--cpu-shares', '512', '--cpu-period', '50000', '--cpu-quota', '25000', '--cpuset-mems', '0',
  ])
  assert.equal(c.file('memory', 'memory.limit_in_bytes'), String(64 << 20))
  assert.equal(c.file('memory', 'memory.soft_limit_in_bytes'), String(32 << 20))
  assert.equal(c.file('memory', 'memory.memsw.limit_in_bytes'), String(128 << 20))
  assert.equal(c.file('memory', 'memory.swappiness'), '10')
  assert.match(c.file('memory', 'memory.oom_control'), /^oom_kill_disable 1$/m)
  assert.equal(c.file('cpu', 'cpu.shares'), '512')
  assert.equal(c.file('cpu', 'cpu.cfs_period_us'), '50000')
  assert.equal(c.file('cpu', 'cpu.cfs_quota_us'), '25000')
  assert.equal(c.file('cpuset', 'cpuset.mems'), '0')
  await c.stop()
})

test('--memory-swap -1 is unlimited swap; without it, no swap (memsw equal to --memory)', async (t) => {
  if (!needContainerTools(t)) return
  // Without swap accounting (a kernel feature) both still run: there is no swap limit to write.
  const root = HAVE_MEMSW ? readFileSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes', 'utf8').trim() : undefined
  const a = await running(t, fx!, 'res-swap1', ['-m', '64m', '--memory-swap', '-1'])
  if (root !== undefined) assert.equal(a.file('memory', 'memory.memsw.limit_in_bytes'), root)
  assert.equal(a.file('memory', 'memory.limit_in_bytes'), String(64 << 20))
  await a.stop()
  const b = await running(t, fx!, 'res-swap0', ['-m', '64m'])
  if (root !== undefined) assert.equal(b.file('memory', 'memory.memsw.limit_in_bytes'), String(64 << 20))
  assert.equal(b.file('memory', 'memory.limit_in_bytes'), String(64 << 20))
  await b.stop()
})

test('block IO throttles on a disk named by path are in blkio.throttle.* as its major:minor', async (t) => {
  if (!needContainerTools(t)) return
  // Checked before any cgroup is made, with or without a disk.
  refused(fx!, 'res-io', ['--device-write-bps', '/dev/null:1mb'], /^nsx run: invalid --device-write-bps: \/dev\/null is not a block device$/)
  refused(fx!, 'res-io', ['--device-read-iops', '/nonexistent:10'], /^nsx run: invalid --device-read-iops '\/nonexistent': no such device$/)
  refused(fx!, 'res-io', ['--device-write-bps', '/dev/null:lots'], /^nsx run: invalid --device-write-bps rate 'lots': expected a size per second/)
  const disk = someDisk()
  // A machine without any block device node (some VMs and sandboxes): the kernel side cannot be shown.
  if (!disk) return t.skip('no block device in /sys/block with a node in /dev: checked the flags\' refusals instead of the throttles')
  const c = await running(t, fx!, 'res-io', [
    '--device-read-bps', `${disk.path}:1mb`, '--device-write-bps', `${disk.path}:512k`,
    '--device-read-iops', `${disk.path}:100`, '--device-write-iops', `${disk.path}:50`,
  ])
  assert.equal(c.file('blkio', 'blkio.throttle.read_bps_device'), `${disk.numbers} 1048576`)
  assert.equal(c.file('blkio', 'blkio.throttle.write_bps_device'), `${disk.numbers} 524288`)
  assert.equal(c.file('blkio', 'blkio.throttle.read_iops_device'), `${disk.numbers} 100`)
  assert.equal(c.file('blkio', 'blkio.throttle.write_iops_device'), `${disk.numbers} 50`)
  await c.stop()
})

test('--blkio-weight: read back where the kernel has blkio.weight (BFQ), else one line naming the missing file and no cgroup left', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  if (existsSync('/sys/fs/cgroup/blkio/blkio.weight')) {
    const c = await running(t, f, 'res-w', ['--blkio-weight', '300'])
    assert.equal(c.file('blkio', 'blkio.weight'), '300')
    await c.stop()
    return
  }
  for (const flags of [['--blkio-weight', '300'], ['--blkio-weight-device', `${someDisk()?.path ?? '/dev/null'}:200`]]) {
    const r = f.nsx(['run', '--rm', '--name', 'res-w', '--layer', f.base, '-m', '32m', ...flags, '--', 'true'])
    assert.equal(r.status, 125, r.stderr)
    const file = flags[0] === '--blkio-weight' ? 'blkio.weight' : 'blkio.weight_device'
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, new RegExp(`cannot set ${file.replace('.', '\\.')}: the kernel has no /sys/fs/cgroup/blkio/\\S+/${file.replace('.', '\\.')} \\(weights need the BFQ I/O scheduler`))
    assert.deepEqual(cgroupsNamed('res-w'), [])
  }
})

test('over --memory with --memory-swap equal to it, the command is OOM-killed (137)', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const r = f.nsx(['run', '--layer', f.base, '-m', '32m', '--memory-swap', '32m', '--', 'sh', '-c', 'probe alloc 256; echo $?'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, '137\n')
})

test('nsx update changes a running container\'s limits in the kernel at once and saves them; refusals are one line, exit 1', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const c = await running(t, f, 'res-upd', ['-m', '64m', '--cpu-shares', '512', '--pids-limit', '30'])
  const r = f.nsx(['update', '-m', '128m', '--pids-limit', '50', '-c', '256', '--memory-reservation', '32m', 'res-upd'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'res-upd\n')
  assert.equal(c.file('memory', 'memory.limit_in_bytes'), String(128 << 20))
  // No --memory-swap at run: still no swap after the raise.
  if (existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')) assert.equal(c.file('memory', 'memory.memsw.limit_in_bytes'), String(128 << 20))
  assert.equal(c.file('memory', 'memory.soft_limit_in_bytes'), String(32 << 20))
  assert.equal(c.file('pids', 'pids.max'), '50')
  assert.equal(c.file('cpu', 'cpu.shares'), '256')
  // Lower again, and unlimited tasks; --json prints every limit in force.
  const j = f.nsx(['update', '--json', '-m', '48m', '--pids-limit', '-1', 'res-upd'])
  assert.equal(j.status, 0, j.stderr)
  assert.deepEqual(JSON.parse(j.stdout), [{name: 'res-upd', limits: {memory: 48 << 20, cpuShares: 256, memoryReservation: 32 << 20}}])
  assert.equal(c.file('memory', 'memory.limit_in_bytes'), String(48 << 20))
  assert.equal(c.file('pids', 'pids.max'), 'max')
  // Saved in the container's state (what inspect and ps read).
  const saved = JSON.parse(readFileSync(`${f.env.NSX_ROOT}/run/${readlinkSync(`${f.env.NSX_ROOT}/names/res-upd`)}/config.json`, 'utf8'))
  const {devices: _devices, ...limits} = saved.limits // the devices cgroup's rules are kept as they were
  assert.deepEqual(limits, {memory: 48 << 20, cpuShares: 256, memoryReservation: 32 << 20})
  // nsx inspect NAME reports them.
  const ins = f.nsx(['inspect', '--json', 'res-upd'])
  assert.equal(ins.status, 0, ins.stderr)
  assert.deepEqual(JSON.parse(ins.stdout).container.limits, {memory: 48 << 20, cpuShares: 256, memoryReservation: 32 << 20})
  assert.match(f.nsx(['inspect', 'res-upd']).stdout, /^limits\s+memory 48MiB, memory-reservation 32MiB, cpu-shares 256$/m)
  // A missing container, a bad value.
  const none = f.nsx(['update', '-m', '64m', 'res-nonesuch'])
  assert.equal(none.status, 1)
  assert.equal(none.stderr, 'nsx update: No such container: res-nonesuch\n')
  const badValue = f.nsx(['update', '--cpu-shares', '1', 'res-upd'])
  assert.equal(badValue.status, 1)
  assert.match(badValue.stderr, /^nsx update: invalid --cpu-shares '1'/)
  assert.equal(c.file('cpu', 'cpu.shares'), '256')
  await c.stop()
})

test('nsx update of a limit kind the container started without: its cgroup in that v1 hierarchy is made, every process moved in, and removed when it ends', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const c = await running(t, f, 'res-new', ['-m', '64m'])
  // On this hybrid host the container starts without cpuset, cpu and blkio cgroups.
  assert.deepEqual(cgroupsNamed('res-new').filter((d) => /\/(cpuset|cpu|blkio)\//.test(d)), [])
  const id = readlinkSync(`${f.env.NSX_ROOT}/names/res-new`)
  const state = () => JSON.parse(readFileSync(`${f.env.NSX_ROOT}/run/${id}/state.json`, 'utf8')) as {cgroups: string[]; spareCgroups?: string[]}
  const init = Number(readFileSync(`${f.env.NSX_ROOT}/run/${id}/pids`, 'utf8').split(' ')[2])
  const disk = someDisk()
  const flags = ['--cpuset-cpus', '0', '--cpus', '0.5', ...(disk ? ['--device-write-bps', `${disk.path}:1mb`] : [])]
  const r = f.nsx(['update', ...flags, 'res-new'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(c.file('cpuset', 'cpuset.cpus'), '0')
  assert.equal(c.file('cpu', 'cpu.cfs_quota_us'), '50000')
  if (disk) assert.equal(c.file('blkio', 'blkio.throttle.write_bps_device'), `${disk.numbers} 1048576`)
  // The container's processes are in the new cgroups (the kernel's view of its init).
  const own = readFileSync(`/proc/${init}/cgroup`, 'utf8')
  for (const ctrl of ['cpuset', 'cpu', ...(disk ? ['blkio'] : [])]) assert.match(own, new RegExp(`^\\d+:${ctrl}(,[a-z_]+)?:/(.*/)?nsx-res-new-[0-9a-f]{8}$`, 'm'), own)
  // Recorded: a sweep after a crash, and the supervisor at its end, remove them.
  assert.equal(state().cgroups.filter((d) => /\/(cpuset|cpu|blkio)\//.test(d)).length, disk ? 3 : 2)
  // nsx exec joins them too (it joins the init's cgroups).
  const ex = f.nsx(['exec', 'res-new', 'cat', '/proc/self/cgroup'])
  assert.equal(ex.status, 0, ex.stderr)
  // A container whose start recorded no spare place (an older nsx): one line, nothing made.
  const c2 = await running(t, f, 'res-old', ['-m', '64m'])
  const id2 = readlinkSync(`${f.env.NSX_ROOT}/names/res-old`)
  const file2 = `${f.env.NSX_ROOT}/run/${id2}/state.json`
  const {spareCgroups: _spare, ...old} = JSON.parse(readFileSync(file2, 'utf8'))
  writeFileSync(file2, JSON.stringify(old))
  const refused = f.nsx(['update', '--cpus', '1', 'res-old'])
  assert.equal(refused.status, 1)
  assert.equal(refused.stderr, 'nsx update: --cpus: container res-old has no cpu cgroup, and it was started by an nsx that could not add one later: give the limit at its next start\n')
  assert.deepEqual(cgroupsNamed('res-old').filter((d) => /\/cpu\//.test(d)), [])
  await c2.stop()
  await c.stop()
})
