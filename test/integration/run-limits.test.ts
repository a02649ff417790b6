import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools, runningContainer} from '../helpers/container.js'

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-run-lim-') : undefined

test('an allocation past --memory is OOM-killed: nsx dies of SIGKILL (a shell sees 137); below it, it works', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const over = f.nsx(['run', '--layer', f.base, '-m', '32m', '--', 'probe', 'alloc', '256'])
  assert.equal(over.signal, 'SIGKILL', `status ${over.status}: ${over.stdout}${over.stderr}`)
  assert.equal(over.stdout, '')
  const under = f.nsx(['run', '--layer', f.base, '-m', '64m', '--', 'probe', 'alloc', '8'])
  assert.equal(under.status, 0, under.stderr)
  assert.equal(under.stdout, 'alloc ok 8\n')
  // The shell's view, as the issue states it.
  const sh = f.nsx(['run', '--layer', f.base, '-m', '32m', '--', 'sh', '-c', 'probe alloc 256; echo $?'])
  assert.equal(sh.stdout, '137\n')
})

test('a fork bomb stops at --pids-limit', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const r = f.nsx(['run', '--layer', f.base, '--pids-limit', '20', '--', 'probe', 'forkbomb'])
  assert.equal(r.status, 0, r.stderr)
  const m = /^forkbomb stopped after (\d+) errno=EAGAIN$/.exec(r.stdout.trim())
  assert.ok(m, r.stdout)
  // 20 tasks: the init, the probe, and the children.
  assert.equal(Number(m![1]), 18)
})

test('limits are written to the cgroups before the command starts; the cgroup namespace hides the path; all removed after', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const c = await runningContainer(t, f, 'lim', ['--layer', f.base, '-m', '48m', '--cpus', '0.5', '--pids-limit', '30', '--cpuset-cpus', '0', '--', 'sh', '-c', 'grep Cpus_allowed_list /proc/self/status; cat /proc/self/cgroup; exec probe wait-signal'])
  const file = c.file
  assert.equal(file('memory', 'memory.limit_in_bytes'), String(48 * 1024 * 1024))
  assert.equal(file('cpu', 'cpu.cfs_quota_us'), '50000')
  assert.equal(file('cpu', 'cpu.cfs_period_us'), '100000')
  assert.equal(file('pids', 'pids.max'), '30')
  assert.equal(file('cpuset', 'cpuset.cpus'), '0')
  // Every process of the container is in them (the init and the command: 2).
  assert.equal(file('pids', 'pids.current'), '2')
  const lines = c.out().trim().split('\n')
  assert.match(lines[0], /^Cpus_allowed_list:\s+0$/)
  for (const l of lines.slice(1, -1)) assert.match(l, /^\d+:[^:]*:\/$/, 'the cgroup namespace is rooted at the container cgroup')
  await c.stop()
})
