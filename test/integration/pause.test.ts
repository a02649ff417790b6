import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {assertOneLineError, skipOrFail} from '../helpers/env.js'
import {TestCgroup} from '../helpers/cgroups.js'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import {childrenOf, TestProcesses, waitFor} from '../helpers/processes.js'
import {readCgroupLayout} from '../../src/cgroup/hierarchy.js'
import {readFreezerState, setFrozen} from '../../src/container/freezer.js'

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-pause-') : undefined

/** State letter and CPU time (utime + stime, in ticks) of a process. */
function cpu(pid: number): {state: string; ticks: number} {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return {state: f[0], ticks: Number(f[11]) + Number(f[12])}
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A busy process is frozen: its CPU time stands still over `ms` while the freezer says frozen, and it is not running. */
async function assertFrozen(pid: number, frozenNow: () => boolean, ms = 600) {
  assert.ok(frozenNow(), 'the freezer does not say frozen')
  const a = cpu(pid)
  await sleep(ms)
  const b = cpu(pid)
  assert.ok(frozenNow(), 'thawed while measuring')
  assert.equal(b.ticks, a.ticks, `CPU time moved while frozen: ${a.ticks} -> ${b.ticks}`)
  assert.notEqual(b.state, 'R', 'a frozen process is not runnable')
}

test("pause freezes every process of the container (CPU time stands still) until unpause; docker's errors for the wrong state", async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => {
    f.nsx(['unpause', 'busy'])
    f.nsx(['rm', '-f', 'busy'])
  })
  assert.equal(f.nsx(['run', '-d', '--name', 'busy', '--layer', f.base, '--', 'sh', '-c', 'while :; do :; done']).status, 0)
  const ps = JSON.parse(f.nsx(['ps', '--json']).stdout) as {name: string; pid: number; cgroups: string[]}[]
  const c = ps.find((x) => x.name === 'busy')!
  const [workload] = childrenOf(c.pid)
  const layout = readCgroupLayout()
  const v1 = layout.v1.find((h) => h.controllers.includes('freezer'))
  // On v1 and hybrid hosts the container has a v1 freezer cgroup, else its v2 cgroup is frozen.
  const dir = c.cgroups.find((d) => (v1 ? d.startsWith(`${v1.mountpoint}/`) : d.startsWith(`${layout.v2}/`)))
  assert.ok(dir, `no freezer cgroup among ${c.cgroups.join(' ')}`)
  const frozen = () => (v1 ? readFileSync(`${dir}/freezer.state`, 'utf8').trim() === 'FROZEN' : /^frozen 1$/m.test(readFileSync(`${dir}/cgroup.events`, 'utf8')))
  await waitFor(() => cpu(workload).ticks > 0, 10000, 'the busy loop to use CPU')

  const p = f.nsx(['pause', 'busy'])
  assert.equal(p.status, 0, p.stderr)
  assert.equal(p.stdout, 'busy\n')
  // pause returns once the kernel says frozen: no waiting here.
  await assertFrozen(workload, frozen)
  assertOneLineError(f.nsx(['pause', 'busy']), 1, /^nsx pause: container busy is already paused$/)

  const u = f.nsx(['unpause', 'busy', '--json'])
  assert.equal(u.status, 0, u.stderr)
  assert.deepEqual(JSON.parse(u.stdout), [{name: 'busy', freezer: v1 ? 'v1' : 'v2'}])
  assert.ok(!frozen())
  const before = cpu(workload).ticks
  await waitFor(() => cpu(workload).ticks > before, 10000, 'CPU time to move again after unpause')
  assertOneLineError(f.nsx(['unpause', 'busy']), 1, /^nsx unpause: container busy is not paused$/)

  // A paused container still stops: the signal is delivered once it is thawed.
  assert.equal(f.nsx(['pause', 'busy']).status, 0)
  const stop = f.nsx(['stop', '-t', '5', 'busy'])
  assert.equal(stop.status, 0, stop.stderr)
  assert.equal(existsSync(dir), false, 'the freezer cgroup is left')
  // Kept after the stop (as docker keeps it): not running, so it cannot be paused.
  assertOneLineError(f.nsx(['pause', 'busy']), 1, /^nsx pause: container busy is not running$/)
  assertOneLineError(f.nsx(['unpause', 'ghost']), 1, /^nsx unpause: No such container: ghost$/)
})

test('the v2 freezer (cgroup.freeze, cgroup.events) on a real cgroup2 tree: a busy process stands still, then runs again', async (t) => {
  if (process.getuid?.() !== 0) return void skipOrFail(t, 'needs root')
  const layout = readCgroupLayout()
  if (layout.v2 === undefined) return void skipOrFail(t, 'needs a cgroup2 mount')
  const cg = new TestCgroup(`nsx-freeze-${process.pid}`, ['v2'])
  const procs = new TestProcesses()
  t.after(async () => {
    try {
      writeFileSync(`${cg.dir('v2')}/cgroup.freeze`, '0')
    } catch {
      // gone
    }
    await procs.killAll()
    await cg.remove()
  })
  const dir = cg.dir('v2')
  const {child, line} = await procs.spawnUntilLine('sh', ['-c', `echo $$ > '${dir}/cgroup.procs' && echo ready && while :; do :; done`])
  assert.equal(line, 'ready')
  const pid = child.pid!
  await waitFor(() => cpu(pid).ticks > 0, 10000, 'the busy loop to use CPU')
  const f = {version: 2 as const, dir}
  assert.equal(readFreezerState(f), 'thawed')
  await setFrozen(f, true)
  assert.equal(readFreezerState(f), 'frozen')
  await assertFrozen(pid, () => /^frozen 1$/m.test(readFileSync(`${dir}/cgroup.events`, 'utf8')))
  await setFrozen(f, false)
  assert.equal(readFreezerState(f), 'thawed')
  const before = cpu(pid).ticks
  await waitFor(() => cpu(pid).ticks > before, 10000, 'CPU time to move again after the thaw')
})
