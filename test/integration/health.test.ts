import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, readlinkSync} from 'node:fs'
import {assertOneLineError} from '../helpers/env.js'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import {childrenOf, descendantsOf} from '../helpers/processes.js'

/**
 * Healthchecks of real containers, run by their supervisors (native/ctr-health.c): a probe that
 * becomes healthy, one that fails to unhealthy after its retries, a timeout, none, the probe's
 * restrictions against the workload's, pause, stop/start and a killed supervisor. Every wait is
 * on the state the supervisor records (polled through nsx container inspect, with a deadline).
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-health-') : undefined

interface Result {Start: string; End: string; ExitCode: number; Output: string}
interface Health {Status: string; FailingStreak: number; Log: Result[]}
interface Inspect {State: {Status: string; Pid: number; Health?: Health}; Config: {Healthcheck?: {Test: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number}}}

const inspect = (name: string): Inspect => {
  const r = fx!.nsx(['container', 'inspect', name])
  assert.equal(r.status, 0, r.stderr)
  return (JSON.parse(r.stdout) as Inspect[])[0]
}

/** Poll the container's state until cond holds (60 s deadline: the machine may be loaded). */
async function until(name: string, cond: (i: Inspect) => boolean, what: string): Promise<Inspect> {
  const end = Date.now() + 60000
  for (;;) {
    const i = inspect(name)
    if (cond(i)) return i
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(i.State)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const psNames = (...filters: string[]) => fx!.nsx(['ps', '-a', '--format', '{{.Names}}', ...filters.flatMap((f) => ['--filter', f])]).stdout.split('\n').filter((l) => l !== '')
const psStatus = (name: string) => fx!.nsx(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Status}}']).stdout.trim()

test('a probe that fails within the start period keeps it starting; once it passes the container is healthy: inspect, ps STATUS, --filter health=', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'hgood']))
  const r = f.nsx(['run', '-d', '--name', 'hgood', '--health-cmd', 'test -f /tmp/ready && echo ready', '--health-interval', '200ms', '--health-retries', '2', '--health-start-period', '10m', '--health-start-interval', '100ms', '--layer', f.base, '--', 'sleep', '1000'])
  assert.equal(r.status, 0, r.stderr)
  const cfg = inspect('hgood').Config.Healthcheck
  assert.deepEqual(cfg, {Test: ['CMD-SHELL', 'test -f /tmp/ready && echo ready'], Interval: 200e6, StartPeriod: 600e9, StartInterval: 100e6, Retries: 2})
  // Failures in the start period do not count: starting, streak 0, each result logged.
  const starting = await until('hgood', (i) => (i.State.Health?.Log.length ?? 0) >= 3, 'three failed probes')
  assert.equal(starting.State.Health!.Status, 'starting')
  assert.equal(starting.State.Health!.FailingStreak, 0)
  for (const l of starting.State.Health!.Log) assert.equal(l.ExitCode, 1)
  for (const l of starting.State.Health!.Log) assert.ok(Date.parse(l.End) >= Date.parse(l.Start), JSON.stringify(l))
  assert.match(psStatus('hgood'), /^Up .+ \(health: starting\)$/)
  assert.deepEqual(psNames('health=starting'), ['hgood'])
  assert.equal(f.nsx(['exec', 'hgood', 'touch', '/tmp/ready']).status, 0)
  const healthy = await until('hgood', (i) => i.State.Health?.Status === 'healthy', 'healthy')
  const last = healthy.State.Health!.Log.at(-1)!
  assert.deepEqual([last.ExitCode, last.Output, healthy.State.Health!.FailingStreak], [0, 'ready\n', 0])
  assert.ok(healthy.State.Health!.Log.length <= 5)
  assert.match(psStatus('hgood'), /^Up .+ \(healthy\)$/)
  assert.deepEqual(psNames('health=healthy'), ['hgood'])
  assert.deepEqual(psNames('health=unhealthy'), [])
  const bad = f.nsx(['ps', '--filter', 'health=fine'])
  assertOneLineError(bad, 1, /Unrecognised filter value for health: fine/)
})

test('a probe failing retries times in a row makes it unhealthy; its output is kept up to 4096 bytes, as docker keeps it', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'hbad']))
  const r = f.nsx(['run', '-d', '--name', 'hbad', '--health-cmd', 'head -c 5000 /dev/zero | tr "\\000" x; exit 3', '--health-interval', '150ms', '--health-retries', '3', '--layer', f.base, '--', 'sleep', '1000'])
  assert.equal(r.status, 0, r.stderr)
  const i = await until('hbad', (x) => x.State.Health?.Status === 'unhealthy', 'unhealthy')
  const h = i.State.Health!
  assert.ok(h.FailingStreak >= 3, JSON.stringify(h.FailingStreak))
  assert.ok(h.Log.length >= 3)
  for (const l of h.Log) {
    assert.equal(l.ExitCode, 3)
    assert.equal(l.Output, `${'x'.repeat(4096)}...`)
  }
  assert.match(psStatus('hbad'), /^Up .+ \(unhealthy\)$/)
  assert.deepEqual(psNames('health=unhealthy'), ['hbad'])
})

test('a probe past its timeout is killed, with what it is in the container, and fails with exit -1 and docker\'s message', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'hslow']))
  const r = f.nsx(['run', '-d', '--name', 'hslow', '--health-cmd', 'echo begun; exec sleep 31.5', '--health-timeout', '300ms', '--health-interval', '200ms', '--health-retries', '2', '--layer', f.base, '--', 'sleep', '1000'])
  assert.equal(r.status, 0, r.stderr)
  const i = await until('hslow', (x) => x.State.Health?.Status === 'unhealthy', 'unhealthy after two timeouts')
  // What it said before it was killed follows docker's message (a probe slow to start under load may have said nothing).
  for (const l of i.State.Health!.Log) {
    assert.equal(l.ExitCode, -1)
    assert.match(l.Output, /^Health check exceeded timeout \(300ms\)(: begun\n)?$/)
  }
  // Nothing of the killed probes stays in the container: its only processes are the workload's.
  const init = i.State.Pid
  const sleeping = () => descendantsOf(init).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('31.5')
    } catch {
      return false
    }
  })
  // A probe may be running right now: the one killed before it is gone, so at most one is there at any time.
  assert.ok(sleeping().length <= 1, `probes left running: ${sleeping().join(' ')}`)
  assert.equal(f.nsx(['stop', '-t', '1', 'hslow']).status, 0)
  assert.deepEqual(sleeping(), [])
})

test('the probe runs with the workload\'s restrictions: user, capabilities, no_new_privs, seccomp, cgroups, namespaces', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'hwho']))
  const fields = 'Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp'
  const r = f.nsx(['run', '-d', '--name', 'hwho', '-u', 'app', '--cap-drop', 'NET_RAW', '--health-cmd', `grep -E '^(${fields}):' /proc/self/status; cat /proc/self/cgroup; for n in pid mnt net uts ipc cgroup; do readlink /proc/self/ns/$n; done`, '--health-interval', '200ms', '--layer', f.base, '--', 'sleep', '1000'])
  assert.equal(r.status, 0, r.stderr)
  const i = await until('hwho', (x) => x.State.Health?.Status === 'healthy', 'healthy')
  const out = i.State.Health!.Log.at(-1)!.Output
  const workload = childrenOf(i.State.Pid)[0]
  const status = readFileSync(`/proc/${workload}/status`, 'utf8').split('\n').filter((l) => new RegExp(`^(${fields}):`).test(l)).join('\n')
  const nsLinks = ['pid', 'mnt', 'net', 'uts', 'ipc', 'cgroup'].map((n) => readlinkSync(`/proc/${workload}/ns/${n}`)).join('\n')
  // Its cgroups, seen in the container's cgroup namespace: the roots of the workload's (each hierarchy's root is the container's cgroup).
  const cgroups = readFileSync(`/proc/${workload}/cgroup`, 'utf8').replace(/^(\d+:[^:]*):.*$/gm, '$1:/')
  assert.equal(out, `${status}\n${cgroups}${nsLinks}\n`)
  assert.match(out, /^Uid:\t1000\t/m)
})

test('--no-healthcheck: no probe and no State.Health; it conflicts with --health-*; bad durations are refused in one line', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'hnone']))
  assertOneLineError(f.nsx(['run', '-d', '--name', 'hx', '--no-healthcheck', '--health-cmd', 'true', '--layer', f.base, '--', 'sleep', '1']), 125, /--no-healthcheck conflicts with --health-\* options/)
  assertOneLineError(f.nsx(['run', '-d', '--name', 'hx', '--health-cmd', 'true', '--health-interval', '5x', '--layer', f.base, '--', 'sleep', '1']), 125, /invalid argument "5x" for "--health-interval" flag/)
  assertOneLineError(f.nsx(['run', '-d', '--name', 'hx', '--health-cmd', 'true', '--health-timeout', '-1s', '--layer', f.base, '--', 'sleep', '1']), 125, /--health-timeout cannot be negative/)
  assertOneLineError(f.nsx(['run', '-d', '--name', 'hx', '--health-cmd', 'true', '--health-interval', '10us', '--layer', f.base, '--', 'sleep', '1']), 125, /Interval in Healthcheck cannot be less than 1ms/)
  assert.deepEqual(psNames('name=hx'), [], 'a refused run left a container')
  const r = f.nsx(['run', '-d', '--name', 'hnone', '--no-healthcheck', '--layer', f.base, '--', 'sleep', '1000'])
  assert.equal(r.status, 0, r.stderr)
  const i = inspect('hnone')
  assert.deepEqual(i.Config.Healthcheck, {Test: ['NONE']})
  assert.equal(i.State.Health, undefined)
  assert.match(psStatus('hnone'), /^Up [^(]+$/)
  assert.deepEqual(psNames('health=none', 'name=hnone'), ['hnone'])
})

test('no probe while paused; stop and a killed supervisor never leave it healthy; a start begins starting again', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'hlife']))
  const r = f.nsx(['run', '-d', '--name', 'hlife', '--health-cmd', 'true', '--health-interval', '100ms', '--layer', f.base, '--', 'sleep', '1000'])
  assert.equal(r.status, 0, r.stderr)
  await until('hlife', (x) => x.State.Health?.Status === 'healthy', 'healthy')
  assert.equal(f.nsx(['pause', 'hlife']).status, 0)
  const pausedAt = Date.now()
  // A probe started just before the pause may still end: wait for the record to settle, then watch ten intervals.
  const settled = inspect('hlife').State.Health!.Log.at(-1)!.Start
  await new Promise((res) => setTimeout(res, 1000))
  const during = inspect('hlife').State.Health!.Log.filter((l) => Date.parse(l.Start) > pausedAt && l.Start !== settled)
  assert.deepEqual(during, [], 'a probe ran while the container was paused')
  assert.equal(f.nsx(['unpause', 'hlife']).status, 0)
  const unpausedAt = Date.now()
  await until('hlife', (x) => x.State.Health!.Log.some((l) => Date.parse(l.Start) >= unpausedAt - 5), 'a probe after unpause')
  // Stopped: its last record says healthy, but a container that does not run is not.
  assert.equal(f.nsx(['stop', '-t', '1', 'hlife']).status, 0)
  const stopped = inspect('hlife')
  assert.equal(stopped.State.Status, 'exited')
  assert.equal(stopped.State.Health!.Status, 'unhealthy')
  assert.match(psStatus('hlife'), /^Exited /)
  // Started again: starting with a streak of 0, the log kept; then healthy.
  assert.equal(f.nsx(['start', 'hlife']).status, 0)
  const again = await until('hlife', (x) => x.State.Health?.Status === 'healthy', 'healthy after start')
  assert.ok(again.State.Health!.Log.length === 5)
  // Its supervisor SIGKILLed: exited, not healthy.
  const pid = Number(f.nsx(['container', 'inspect', '-f', '{{.Nsx.SupervisorPid}}', 'hlife']).stdout.trim())
  process.kill(pid, 'SIGKILL')
  const dead = await until('hlife', (x) => x.State.Status === 'exited', 'exited after the supervisor was killed')
  assert.equal(dead.State.Health!.Status, 'unhealthy')
  assert.deepEqual(psNames('health=healthy'), [])
})
