import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {closeSync, constants as fsConstants, existsSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, utimesSync, writeSync} from 'node:fs'
import {join} from 'node:path'
import {assertOneLineError, NSX_BIN, needCommand} from '../helpers/env.js'
import {assertContainerGone, cgroupsNamed, containerToolsPresent, containersNamed, Fixture, makeFixture, needContainerTools, processesMentioning} from '../helpers/container.js'
import {buildBusyboxOci} from '../helpers/images.js'
import {pauseFifo, waitFor} from '../helpers/processes.js'

/**
 * The container lifecycle (docker's verbs): kept containers, their state after any SIGKILL,
 * the lock that serialises verbs, names and id prefixes. Each step's result is checked
 * against the kernel (/proc, cgroups) and the store, not only against nsx's own output.
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-life-') : undefined

interface Entry {
  name: string
  id: string
  state: string
  status: string
  exitCode: number | null
  pid: number
  supervisorPid: number
  cgroups: string[]
}

function entries(f: Fixture): Entry[] {
  const r = f.nsx(['ps', '-a', '--json'])
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as Entry[]
}

function entry(f: Fixture, name: string): Entry {
  const e = entries(f).find((x) => x.name === name)
  assert.ok(e, `no container ${name} in nsx ps -a`)
  return e
}

function alive(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/\) [ZX] /.test(st)
  } catch {
    return false
  }
}

/**
 * The container's cgroups are gone; if not (seen under heavy load only: the supervisor gone, its
 * cgroups left), fail with what explains it: the supervisor's state and log, the exit record,
 * and the tasks still in each cgroup.
 */
function assertNoCgroupsLeft(name: string, dir: string, after: string): void {
  const left = cgroupsNamed(name)
  if (left.length === 0) return
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : '(none)')
  const [sup] = read(join(dir, 'pids')).split(' ')
  assert.fail(`cgroups left after ${after}: ${left.join(' ')}; pids ${read(join(dir, 'pids')).trim()}, supervisor ${existsSync(`/proc/${sup}`) ? read(`/proc/${sup}/stat`) : 'gone'}; exit ${read(join(dir, 'exit')).trim()}; supervisor.log: ${read(join(dir, 'supervisor.log'))}; tasks: ${left.map((d) => read(join(d, 'cgroup.procs')).trim() || '-').join(' ')}`)
}

/** "running" must mean a live supervisor and init; anything else must not claim to run. */
function assertTruthful(f: Fixture): void {
  for (const e of entries(f)) {
    if (e.state === 'running') {
      if (e.status === 'Starting') continue
      assert.ok(alive(e.supervisorPid) && alive(e.pid), `${e.name} reads as running without a live supervisor and init`)
    } else assert.equal(e.pid, 0)
  }
}

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(f[11]) + Number(f[12])
}

test("the seed's sequence: run -d, ps, stop, start (where it was left), exec, pause, unpause, restart, kill, wait, rm; each step checked", async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'seq']))
  const script = 'trap "echo term; exit 0" TERM; echo start >> /runs; while :; do sleep 0.1; done'
  const run = f.nsx(['run', '-d', '--name', 'seq', '--layer', f.base, '--', 'sh', '-c', script])
  assert.equal(run.status, 0, run.stderr)
  const id = run.stdout.trim()
  assert.match(id, /^[0-9a-f]{64}$/)
  let e = entry(f, 'seq')
  assert.equal(e.state, 'running')
  assert.ok(alive(e.pid))
  assert.match(f.nsx(['ps']).stdout, new RegExp(`\\n${id.slice(0, 12)} .*Up .* seq\\n`))

  // stop: the trap runs (exit 0), the container is kept: exited (0), its cgroups gone, its upper directory there.
  const firstInit = e.pid
  assert.equal(f.nsx(['stop', 'seq']).stdout, 'seq\n')
  e = entry(f, 'seq')
  assert.deepEqual([e.state, e.exitCode, e.pid], ['exited', 0, 0])
  assert.match(e.status, /^Exited \(0\) /)
  assert.ok(!alive(firstInit))
  assertNoCgroupsLeft('seq', join(f.store, 'run', id), 'stop')
  assert.equal(readFileSync(join(f.store, 'run', id, 'upper', 'runs'), 'utf8'), 'start\n')

  // start: the same container again, on its upper directory (the file it wrote is there).
  assert.equal(f.nsx(['start', id.slice(0, 10)]).stdout, `${id.slice(0, 10)}\n`)
  e = entry(f, 'seq')
  assert.equal(e.state, 'running')
  assert.notEqual(e.pid, firstInit)
  await waitFor(() => readFileSync(join(f.store, 'run', id, 'upper', 'runs'), 'utf8') === 'start\nstart\n', 10000, 'the second start to write')
  assert.equal(f.nsx(['exec', 'seq', 'cat', '/runs']).stdout, 'start\nstart\n')
  assert.equal(f.nsx(['start', 'seq']).status, 0, 'start of a running container is no error (docker)')

  // pause: the container's processes are frozen, their CPU time stands still; unpause thaws them.
  const [workload] = readFileSync(`/proc/${e.pid}/task/${e.pid}/children`, 'utf8').trim().split(/\s+/).map(Number)
  assert.equal(f.nsx(['pause', 'seq']).status, 0)
  const frozenAt = cpuTicks(workload)
  await new Promise((r) => setTimeout(r, 500))
  assert.equal(cpuTicks(workload), frozenAt, 'a paused container used CPU')
  assertOneLineError(f.nsx(['exec', 'seq', 'true']), 1, /paused/)
  assert.equal(f.nsx(['unpause', 'seq']).status, 0)

  // restart: a new init, the command ran once more.
  const before = e.pid
  assert.equal(f.nsx(['restart', '-t', '5', 'seq']).stdout, 'seq\n')
  e = entry(f, 'seq')
  assert.equal(e.state, 'running')
  assert.notEqual(e.pid, before)
  await waitFor(() => readFileSync(join(f.store, 'run', id, 'upper', 'runs'), 'utf8') === 'start\nstart\nstart\n', 10000, 'the restart to write')

  // kill -s USR1: not trapped, so the shell dies of it; wait prints 128+10.
  const waiter = spawn(process.execPath, [NSX_BIN, 'wait', 'seq'], {env: f.env, stdio: ['ignore', 'pipe', 'pipe']})
  let waited = ''
  waiter.stdout!.on('data', (d: Buffer) => (waited += d.toString()))
  const waitDone = new Promise<number | null>((r) => waiter.on('exit', (c) => r(c)))
  assert.equal(f.nsx(['kill', '-s', 'USR1', 'seq']).stdout, 'seq\n')
  assert.equal(await waitDone, 0)
  assert.equal(waited, '138\n')
  e = entry(f, 'seq')
  assert.deepEqual([e.state, e.exitCode], ['exited', 138])
  assertOneLineError(f.nsx(['kill', 'seq']), 1, /cannot kill container seq: container [0-9a-f]{12} is not running/)

  // rm: everything goes.
  assert.equal(f.nsx(['rm', 'seq']).stdout, 'seq\n')
  assertContainerGone(f, 'seq', [id])
  assertOneLineError(f.nsx(['start', 'seq']), 1, /^nsx start: No such container: seq$/)
})

test('kill (SIGKILL) returns once the container is gone, as moby does: ps -a shows it exited (137) and rm needs no -f', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'killed']))
  assert.equal(f.nsx(['run', '-d', '--name', 'killed', '--layer', f.base, '--', 'sleep', '1000']).status, 0)
  const before = entry(f, 'killed')
  assert.equal(f.nsx(['kill', 'killed']).stdout, 'killed\n')
  const e = entry(f, 'killed')
  assert.deepEqual([e.state, e.exitCode], ['exited', 137])
  assert.ok(!alive(before.supervisorPid) && !alive(before.pid))
  assert.equal(f.nsx(['rm', 'killed']).stdout, 'killed\n')
})

test('--restart always: a restart reuses the supervisor\'s log and attach socket (no fd per run); a container whose directory is removed under it is not restarted and leaves no cgroup', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'again']))
  const r = f.nsx(['run', '-d', '--restart', 'always', '--name', 'again', '--layer', f.base, '--', 'sh', '-c', 'echo run >> /runs; sleep 0.2'])
  assert.equal(r.status, 0, r.stderr)
  const dir = join(f.store, 'run', r.stdout.trim())
  const runs = join(dir, 'upper', 'runs')
  const sup = entry(f, 'again').supervisorPid
  // Each run's pipes come and go; the log and the attach socket are the supervisor's, opened once.
  const links = () => readdirSync(`/proc/${sup}/fd`).map((n) => {
    try {
      return readlinkSync(`/proc/${sup}/fd/${n}`)
    } catch {
      return ''
    }
  })
  const ranTimes = () => (existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').length - 1 : 0)
  await waitFor(() => ranTimes() >= 4, 30000, 'four runs')
  const held = links()
  assert.equal(held.filter((l) => l.endsWith('/container.log')).length, 1, held.join(' '))
  assert.equal(held.filter((l) => l.startsWith('socket:')).length, 1, held.join(' '))
  // A store removed under a running container (rm -rf of its directory): the supervisor ends.
  rmSync(dir, {recursive: true, force: true})
  await waitFor(() => !alive(sup), 90000, 'the supervisor to give up')
  assert.deepEqual(cgroupsNamed('again'), [])
})

test('wait on a detached --rm container: it removes itself when it ends, and wait still gives its exit code', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'gone']))
  const r = f.nsx(['run', '-d', '--rm', '--name', 'gone', '--layer', f.base, '--', 'sh', '-c', 'while [ ! -e /go ]; do sleep 0.1; done; exit 7'])
  assert.equal(r.status, 0, r.stderr)
  const [{Store}, {waitContainer}] = await Promise.all([import('../../src/store/store.js'), import('../../src/lifecycle/wait.js')])
  // The name is resolved when wait is called, before the container ends.
  const waited = waitContainer(Store.open(f.store), 'gone')
  assert.equal(f.nsx(['exec', 'gone', 'touch', '/go']).status, 0)
  assert.equal((await waited).exitCode, 7)
  assert.equal(existsSync(join(f.store, 'run', r.stdout.trim())), false, 'the container removed itself')
  // The record beside it is aged out by the sweep (ps, gc) once no waiter can still want it.
  const tomb = join(f.store, 'run', `${r.stdout.trim()}.exit`)
  assert.ok(existsSync(tomb))
  assert.equal(f.nsx(['gc']).status, 0)
  assert.ok(existsSync(tomb), 'a fresh record is kept')
  const old = new Date(Date.now() - 11 * 60 * 1000)
  utimesSync(tomb, old, old)
  assert.equal(f.nsx(['gc']).status, 0)
  assert.equal(existsSync(tomb), false, 'an old record is swept')
})

test('a detached container\'s command waits until its supervisor has recorded its pids (else a ps or gc meanwhile took it for one killed while starting)', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  // The supervisor pauses on this FIFO after forking the init, before it records the pids.
  const fifo = join(f.dir, 'pids.fifo')
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0)
  let held: number | undefined
  const hold = () => {
    try {
      held = openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK) // only once the supervisor waits on it
      return true
    } catch {
      return false
    }
  }
  const release = () => {
    if (held === undefined) return
    writeSync(held, 'x')
    closeSync(held)
    held = undefined
  }
  const before = new Set(existsSync(join(f.store, 'run')) ? readdirSync(join(f.store, 'run')) : [])
  const run = spawn(process.execPath, [NSX_BIN, 'run', '-d', '--name', 'early', '--layer', f.base, '--', 'sh', '-c', 'echo ran > /ran; exec sleep 1000'], {env: {...f.env, NSX_TEST_PAUSE_BEFORE_PIDS: fifo}, stdio: ['ignore', 'pipe', 'pipe']})
  const done = new Promise<number | null>((res) => run.on('exit', (c) => res(c)))
  t.after(() => {
    release()
    f.nsx(['rm', '-f', 'early'])
  })
  await waitFor(hold, 60000, 'the supervisor to reach the pause before its pids record')
  const dir = readdirSync(join(f.store, 'run')).find((d) => !before.has(d) && !d.includes('.'))!
  // The init is forked; it must not go on to the command. (A wait can only let a wrong order pass unseen, never fail a right one.)
  await new Promise((res) => setTimeout(res, 1000))
  assert.equal(existsSync(join(f.store, 'run', dir, 'upper', 'ran')), false, 'the command ran before the supervisor recorded its pids')
  release()
  assert.equal(await done, 0)
  await waitFor(() => existsSync(join(f.store, 'run', dir, 'upper', 'ran')), 30000, 'the command to run once released')
  assert.equal(entry(f, 'early').state, 'running')
})

test("wait on an --rm container returns once its supervisor has removed it, not when its directory starts to go", async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  // The supervisor pauses on this FIFO after removing the container's directory, before the rest.
  const {path: fifo, release} = pauseFifo(join(f.dir, 'cleanup.fifo'))
  t.after(() => {
    release()
    f.nsx(['rm', '-f', 'halfgone'])
  })
  const r = f.nsx(['run', '-d', '--rm', '--name', 'halfgone', '--layer', f.base, '--', 'sh', '-c', 'while [ ! -e /go ]; do sleep 0.1; done; exit 7'], {env: {NSX_TEST_PAUSE_CLEANUP_PATHS: fifo}})
  assert.equal(r.status, 0, r.stderr)
  const dir = join(f.store, 'run', r.stdout.trim())
  const sup = entry(f, 'halfgone').supervisorPid
  const [{Store}, {waitContainer}] = await Promise.all([import('../../src/store/store.js'), import('../../src/lifecycle/wait.js')])
  let supervisorAliveAtReturn: boolean | undefined
  const waited = waitContainer(Store.open(f.store), 'halfgone').then((w) => {
    supervisorAliveAtReturn = alive(sup)
    return w.exitCode
  })
  assert.equal(f.nsx(['exec', 'halfgone', 'touch', '/go']).status, 0)
  await waitFor(() => !existsSync(dir), 30000, 'the supervisor to remove the directory')
  // Half done (its name and pin are still there): a wait that took the directory's going for the
  // end would return now, its supervisor still alive.
  await new Promise((res) => setTimeout(res, 300))
  await waitFor(release, 30000, 'the supervisor to wait on the FIFO')
  assert.equal(await waited, 7)
  assert.equal(supervisorAliveAtReturn, false, 'wait returned while the supervisor was still removing the container')
})

test('names: generated adjective_surname when none is given; an id prefix works wherever a name does; rename; errors with docker exit codes', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const created = f.nsx(['create', '--layer', f.base, '--', 'sh', '-c', 'exit 5'])
  assert.equal(created.status, 0, created.stderr)
  const id = created.stdout.trim()
  t.after(() => f.nsx(['rm', '-f', id]))
  const e = entries(f).find((x) => x.id === id)!
  assert.match(e.name, /^[a-z]+_[a-z_]+$/)
  assert.deepEqual([e.state, e.status], ['created', 'Created'])
  assert.equal(f.nsx(['ps', '-q']).stdout, '', 'a created container is not running')
  assert.ok(f.nsx(['ps', '-a', '-q']).stdout.split('\n').includes(id.slice(0, 12)))

  // The name is in use, also by a container that is not running.
  assertOneLineError(f.nsx(['create', '--name', e.name, '--layer', f.base, '--', 'true']), 125, new RegExp(`the container name "${e.name}" is already in use by container ${id.slice(0, 12)}`))
  assert.equal(f.nsx(['rename', id.slice(0, 8), 'renamed']).status, 0)
  assert.equal(readlinkSync(join(f.store, 'names', 'renamed')), id)
  assert.ok(!existsSync(join(f.store, 'names', e.name)), 'the old name is free')
  assert.equal(f.nsx(['start', '-a', 'renamed']).status, 5, 'start -a: the command exit status is nsx start\'s')
  assert.equal(f.nsx(['wait', 'renamed']).stdout, '5\n')

  const other = f.nsx(['create', '--name', 'other', '--layer', f.base, '--', 'true'])
  t.after(() => f.nsx(['rm', '-f', 'other']))
  assertOneLineError(f.nsx(['rename', 'other', 'renamed']), 1, /already in use/)
  assertOneLineError(f.nsx(['stop', 'ghost']), 1, /^nsx stop: No such container: ghost$/)
  assertOneLineError(f.nsx(['rm', 'ghost']), 1, /^nsx rm: No such container: ghost$/)
  // An ambiguous prefix: find two ids sharing a first digit (16 digits, three containers may not: then skip that check).
  const ids = entries(f).map((x) => x.id)
  const shared = ids.find((a) => ids.some((b) => b !== a && b[0] === a[0]))
  if (shared) assertOneLineError(f.nsx(['stop', shared[0]]), 1, /multiple containers match the id prefix/)
  assert.equal(other.status, 0)
})

test('nsx run IMAGE COMMAND: the image as first argument, as docker takes it; --rm removes the container when it ends', (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'umoci', 'umoci')) return
  const f = fx!
  const img = buildBusyboxOci(join(f.dir, 'img'))
  const r = f.nsx(['run', '--rm', '--name', 'imgform', `${img}:latest`, 'sh', '-c', 'echo $FOO; pwd'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'bar\n/etc\n')
  assertContainerGone(f, 'imgform')
  // Without a command, the image's Cmd (/bin/sh reading stdin).
  const sh = f.nsx(['run', '--rm', '-i', `${img}:latest`], {input: 'exit 4\n'})
  assert.equal(sh.status, 4, sh.stderr)
})

test('a SIGKILLed supervisor leaves a container that reads as exited (137), never running; gc sweeps its cgroups; it starts again', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'k9sup']))
  assert.equal(f.nsx(['run', '-d', '--name', 'k9sup', '-m', '64m', '--layer', f.base, '--', 'sleep', '1000']).status, 0)
  const e = entry(f, 'k9sup')
  assert.ok(cgroupsNamed('k9sup').length > 0)
  process.kill(e.supervisorPid, 'SIGKILL')
  await waitFor(() => !alive(e.pid), 5000, 'the init to die with its supervisor (PDEATHSIG)')
  const after = entry(f, 'k9sup')
  assert.deepEqual([after.state, after.exitCode, after.pid], ['exited', 137, 0])
  assert.equal(f.nsx(['gc']).status, 0)
  assert.deepEqual(cgroupsNamed('k9sup'), [], 'gc removed the cgroups the supervisor could not')
  assert.equal(f.nsx(['start', 'k9sup']).status, 0)
  assert.equal(entry(f, 'k9sup').state, 'running')
  assert.equal(f.nsx(['rm', '-f', 'k9sup']).status, 0)
  assertContainerGone(f, 'k9sup')
})

test('nsx killed at any point of start, stop or rm: the container reads as created, running (truly) or exited, and rm -f leaves nothing', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const name = 'anypoint'
  assert.equal(f.nsx(['create', '--name', name, '--layer', f.base, '--', 'sleep', '1000']).status, 0)
  const [id] = containersNamed(f.store, name)
  t.after(() => f.nsx(['rm', '-f', name]))
  for (const verb of [['start', name], ['stop', '-t', '0', name], ['rm', '-f', name]]) {
    for (const delay of [0, 40, 80, 150, 250]) {
      if (!existsSync(join(f.store, 'run', id))) break
      const child = spawn(process.execPath, [NSX_BIN, ...verb], {env: f.env, stdio: 'ignore'})
      const done = new Promise<void>((r) => child.on('exit', () => r()))
      await new Promise((r) => setTimeout(r, delay))
      child.kill('SIGKILL')
      await done
      assertTruthful(f)
      // The next verb is never blocked by what the killed one held.
      const next = verb[0] === 'start' ? f.nsx(['stop', '-t', '0', name]) : f.nsx(['start', name])
      assert.ok(next.status === 0 || /No such container/.test(next.stderr), next.stderr)
      assertTruthful(f)
    }
  }
  assert.equal(f.nsx(['rm', '-f', name]).status === 0 || !existsSync(join(f.store, 'run', id)), true)
  assertContainerGone(f, name, [id])
  assert.deepEqual(processesMentioning(id), [])
})

test('two verbs on one container at once are serialised: two starts make one supervisor; rm -f during a stop leaves nothing', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  assert.equal(f.nsx(['create', '--name', 'twice', '--layer', f.base, '--', 'sh', '-c', 'trap "sleep 0.5; exit 0" TERM; while :; do sleep 0.1; done']).status, 0)
  const [id] = containersNamed(f.store, 'twice')
  t.after(() => f.nsx(['rm', '-f', 'twice']))
  const both = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<number | null>((res) => {
          const c = spawn(process.execPath, [NSX_BIN, 'start', 'twice'], {env: f.env, stdio: 'ignore'})
          c.on('exit', (code) => res(code))
        }),
    ),
  )
  assert.deepEqual(both, [0, 0])
  const e = entry(f, 'twice')
  assert.equal(e.state, 'running')
  const supervisors = processesMentioning(`${id}/pids`).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('nsx run'))
  assert.equal(supervisors.length, 1, `one supervisor, not ${supervisors.length}`)

  // stop waits for the trap (0.5 s); rm -f, started meanwhile, waits for the lock, then removes it all.
  const stop = spawn(process.execPath, [NSX_BIN, 'stop', 'twice'], {env: f.env, stdio: 'ignore'})
  const stopped = new Promise<number | null>((r) => stop.on('exit', (c) => r(c)))
  // Once stop has the lock it says so (stop-requested) before it signals.
  await waitFor(() => existsSync(join(f.store, 'run', id, 'stop-requested')), 15000, 'nsx stop to take the container')
  const rm = f.nsx(['rm', '-f', 'twice'])
  assert.equal(rm.status, 0, rm.stderr)
  assert.equal(await stopped, 0)
  assertContainerGone(f, 'twice', [id])
  assert.ok(!alive(e.supervisorPid))
})

test('ps: --filter, --format and -q as docker; a command line with control characters is escaped', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  assert.equal(f.nsx(['create', '--name', 'esc', '--layer', f.base, '--', 'sh', '-c', 'echo a\nb\x1b[2J']).status, 0)
  t.after(() => f.nsx(['rm', '-f', 'esc']))
  const table = f.nsx(['ps', '-a', '--filter', 'name=esc', '--no-trunc'])
  assert.equal(table.stdout.split('\n').length, 3, 'header, one row, final newline')
  assert.match(table.stdout, /"sh -c echo a\\x0ab\\x1b\[2J"/)
  assert.equal(f.nsx(['ps', '-a', '--filter', 'name=esc', '--format', '{{.Names}}|{{.State}}|{{.Status}}']).stdout, 'esc|created|Created\n')
  assert.equal(f.nsx(['ps', '-a', '--filter', 'status=running', '--filter', 'name=esc', '-q']).stdout, '')
  assertOneLineError(f.nsx(['ps', '--filter', 'colour=red']), 1, /invalid filter 'colour'/)
  assertOneLineError(f.nsx(['ps', '--format', '{{.Nope}}']), 1, /unknown field .Nope/)
})

test('container prune removes every container that is not running; running ones stay', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  assert.equal(f.nsx(['run', '-d', '--name', 'stays', '--layer', f.base, '--', 'sleep', '1000']).status, 0)
  t.after(() => f.nsx(['rm', '-f', 'stays']))
  assert.equal(f.nsx(['run', '--name', 'goes', '--layer', f.base, '--', 'true']).status, 0)
  const [goes] = containersNamed(f.store, 'goes')
  const r = f.nsx(['container', 'prune', '-f'])
  assert.equal(r.status, 0, r.stderr)
  assert.ok(r.stdout.includes(`${goes}\n`), r.stdout)
  assertContainerGone(f, 'goes', [goes])
  assert.equal(entry(f, 'stays').state, 'running')
})

test("nsx container inspect NAME: docker's shape (State, Config, HostConfig limits, Mounts); OOMKilled after the kernel's OOM kill", (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'oomy']))
  const r = f.nsx(['run', '--name', 'oomy', '-m', '32m', '--pids-limit', '50', '--cpus', '0.5', '-v', `${f.dir}:/host:ro`, '-e', 'A=1', '--layer', f.base, '--', 'probe', 'alloc', '256'])
  assert.equal(r.signal, 'SIGKILL', r.stderr)
  const out = f.nsx(['container', 'inspect', 'oomy'])
  assert.equal(out.status, 0, out.stderr)
  const [c] = JSON.parse(out.stdout) as {Id: string; Name: string; Path: string; Args: string[]; State: Record<string, unknown>; HostConfig: Record<string, unknown>; Mounts: unknown[]; Config: {Env: string[]; Cmd: string[]}}[]
  assert.equal(c.Name, '/oomy')
  assert.deepEqual([c.Path, c.Args], ['probe', ['alloc', '256']])
  assert.deepEqual(
    {Status: c.State.Status, Running: c.State.Running, Paused: c.State.Paused, Pid: c.State.Pid, ExitCode: c.State.ExitCode, OOMKilled: c.State.OOMKilled},
    {Status: 'exited', Running: false, Paused: false, Pid: 0, ExitCode: 137, OOMKilled: true},
  )
  assert.ok(Date.parse(c.State.FinishedAt as string) >= Date.parse(c.State.StartedAt as string))
  assert.deepEqual([c.HostConfig.Memory, c.HostConfig.PidsLimit, c.HostConfig.NanoCpus, c.HostConfig.CpuQuota], [32 * 1024 * 1024, 50, 5e8, 50000])
  assert.deepEqual(c.Mounts, [{Type: 'bind', Source: f.dir, Destination: '/host', Mode: 'ro', RW: false, Propagation: 'rprivate'}])
  assert.ok(c.Config.Env.includes('A=1'))
  assert.equal(f.nsx(['container', 'inspect', c.Id.slice(0, 12)]).stdout, out.stdout, 'an id prefix names it too')
  // A running one: State.Pid is its init, the pid nsx inspect PID takes.
  assert.equal(f.nsx(['start', 'oomy']).status, 0)
  assert.equal(f.nsx(['run', '-d', '--name', 'insp-run', '--layer', f.base, '--', 'sleep', '1000']).status, 0)
  t.after(() => f.nsx(['rm', '-f', 'insp-run']))
  const [running] = JSON.parse(f.nsx(['container', 'inspect', 'insp-run']).stdout) as {State: {Status: string; Running: boolean; Pid: number}}[]
  assert.deepEqual([running.State.Status, running.State.Running], ['running', true])
  assert.equal(running.State.Pid, entry(f, 'insp-run').pid)
  assert.equal(JSON.parse(f.nsx(['inspect', '--json', String(running.State.Pid)]).stdout).verdict, 'isolated: pid, net, mnt, uts, ipc, cgroup')
})

test("logs: stdout and stderr kept apart in docker's json-file format, --tail, -t, --since, -f to the end, rotation past max-size", async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => {
    f.nsx(['rm', '-f', 'chatty'])
    f.nsx(['rm', '-f', 'rotating'])
    f.nsx(['rm', '-f', 'follow'])
  })
  const r = f.nsx(['run', '-d', '--name', 'chatty', '--layer', f.base, '--', 'sh', '-c', 'echo out1; echo err1 >&2; printf "out2\\nno newline"'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(f.nsx(['wait', 'chatty']).stdout, '0\n')
  const logs = f.nsx(['logs', 'chatty'])
  assert.equal(logs.status, 0, logs.stderr)
  assert.equal(logs.stdout, 'out1\nout2\nno newline')
  assert.equal(logs.stderr, 'err1\n')
  // The file is docker's: one JSON object per line with log, stream and time.
  const file = readFileSync(join(f.store, 'run', r.stdout.trim(), 'container.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {log: string; stream: string; time: string})
  // Each stream in its order (between two pipes the order is the kernel's, as under docker).
  assert.deepEqual(file.filter((e) => e.stream === 'stdout').map((e) => e.log), ['out1\n', 'out2\n', 'no newline'])
  assert.deepEqual(file.filter((e) => e.stream === 'stderr').map((e) => e.log), ['err1\n'])
  for (const e of file) assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/)
  assert.equal(f.nsx(['logs', '--tail', '1', 'chatty']).stdout, 'no newline')
  assert.match(f.nsx(['logs', '-t', 'chatty']).stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out1\n\S+Z out2\n\S+Z no newline$/)
  assert.equal(f.nsx(['logs', '--since', String(Date.now() / 1000 + 3600), 'chatty']).stdout, '')
  assert.equal(f.nsx(['logs', '--since', '10m', 'chatty']).stdout, 'out1\nout2\nno newline')
  // A second start appends to the same log, as docker's does.
  assert.equal(f.nsx(['start', 'chatty']).status, 0)
  assert.equal(f.nsx(['wait', 'chatty']).stdout, '0\n')
  assert.equal(f.nsx(['logs', 'chatty']).stdout, 'out1\nout2\nno newlineout1\nout2\nno newline')

  // Bounded: 400 lines of ~25 bytes (~30 kB of entries) in two files of at most 4 kB.
  const rot = f.nsx(['run', '-d', '--name', 'rotating', '--log-opt', 'max-size=4k', '--log-opt', 'max-file=2', '--layer', f.base, '--', 'sh', '-c', 'i=0; while [ $i -lt 400 ]; do echo "line $i"; i=$((i+1)); done'])
  assert.equal(rot.status, 0, rot.stderr)
  assert.equal(f.nsx(['wait', 'rotating']).stdout, '0\n')
  const dir = join(f.store, 'run', rot.stdout.trim())
  assert.ok(!existsSync(join(dir, 'container.log.2')), 'only max-file files are kept')
  for (const n of ['container.log', 'container.log.1']) assert.ok(readFileSync(join(dir, n)).length <= 4096, `${n} over max-size`)
  const kept = f.nsx(['logs', 'rotating']).stdout.trim().split('\n')
  assert.equal(kept[kept.length - 1], 'line 399')
  kept.forEach((l, i) => assert.equal(l, `line ${400 - kept.length + i}`, 'the newest lines, in order, none lost between the files'))

  // -f: what is there, then each new line, and it ends when the container does.
  assert.equal(f.nsx(['run', '-d', '--name', 'follow', '--layer', f.base, '--', 'sh', '-c', 'for i in 1 2 3 4 5; do echo tick $i; sleep 0.2; done']).status, 0)
  const follow = f.nsx(['logs', '-f', 'follow'], {timeout: 30000})
  assert.equal(follow.status, 0, follow.stderr)
  assert.equal(follow.stdout, 'tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n')
  assertOneLineError(f.nsx(['logs', 'ghost']), 1, /^nsx logs: No such container: ghost$/)
  assertOneLineError(f.nsx(['run', '--log-opt', 'max-size=lots', '--layer', f.base, '--', 'true']), 125, /invalid --log-opt max-size 'lots'/)
})

function tmux(sock: string, args: string[]) {
  // The server's socket directory is the fixture's (TMUX_TMPDIR), not /tmp/tmux-UID.
  return spawnSync('tmux', ['-L', sock, ...args], {encoding: 'utf8', env: {...process.env, TMUX_TMPDIR: fx!.dir}})
}

test('attach to a container started -it -d: its terminal here, the size following this one, ctrl-p ctrl-q detaches and it goes on; exit ends attach with its code', async (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'tmux', 'tmux')) return
  const f = fx!
  const sock = `nsx-attach-${process.pid}`
  t.after(() => {
    tmux(sock, ['kill-server'])
    f.nsx(['rm', '-f', 'box'])
  })
  const r = f.nsx(['run', '-it', '-d', '--name', 'box', '--layer', f.base, '--', 'sh'])
  assert.equal(r.status, 0, r.stderr)
  const screen = () => tmux(sock, ['capture-pane', '-p', '-t', 's']).stdout
  const env = Object.entries({...f.env, TERM: 'xterm'}).map(([k, v]) => `${k}='${String(v).replace(/'/g, "'\\''")}'`).join(' ')
  const attach = `env ${env} ${process.execPath} ${NSX_BIN} attach box; echo "attach exited $?"; sleep 60`
  // attach makes this terminal raw once it is connected to the container: keys typed before that would be
  // taken by the line discipline (and flushed), so each attach is waited for by the pane's tty mode.
  const paneRaw = () => {
    const tty = tmux(sock, ['display-message', '-p', '-t', 's', '#{pane_tty}']).stdout.trim()
    return tty !== '' && / -icanon /.test(` ${spawnSync('stty', ['-F', tty, '-a'], {encoding: 'utf8'}).stdout.replace(/\s+/g, ' ')} `)
  }
  assert.equal(tmux(sock, ['new-session', '-d', '-s', 's', '-x', '100', '-y', '30', attach]).status, 0)
  await waitFor(paneRaw, 30000, 'attach to connect and make the terminal raw')
  tmux(sock, ['send-keys', '-t', 's', 'stty size; echo in-$((6*7))', 'Enter'])
  await waitFor(() => /30 100\s+in-42/.test(screen()), 15000, 'the container shell to answer through attach')
  tmux(sock, ['resize-window', '-t', 's', '-x', '120', '-y', '40'])
  // The new size reaches the container when attach has had SIGWINCH and sent it on; nothing here can see
  // that moment, so the size is asked again (once a second) until it shows.
  let asked = 0
  await waitFor(() => {
    if (/40 120/.test(screen())) return true
    if (Date.now() - asked > 1000) {
      tmux(sock, ['send-keys', '-t', 's', 'stty size', 'Enter'])
      asked = Date.now()
    }
    return false
  }, 15000, 'the size to follow the terminal')
  tmux(sock, ['send-keys', '-t', 's', 'C-p', 'C-q'])
  await waitFor(() => /attach exited 0/.test(screen()), 15000, 'ctrl-p ctrl-q to detach')
  assert.equal(entry(f, 'box').state, 'running', 'the container goes on after a detach')
  // Attached again: the shell is the same one; exit 3 ends the container and attach with 3.
  assert.equal(tmux(sock, ['respawn-pane', '-k', '-t', 's', attach]).status, 0)
  await waitFor(paneRaw, 30000, 'attach to connect again')
  tmux(sock, ['send-keys', '-t', 's', 'exit 3', 'Enter'])
  await waitFor(() => /attach exited 3/.test(screen()), 15000, 'attach to end with the exit code')
  assert.deepEqual([entry(f, 'box').state, entry(f, 'box').exitCode], ['exited', 3])
  assertOneLineError(f.nsx(['attach', 'box']), 1, /You cannot attach to a stopped container, start it first/)
  // What the terminal showed is in the log too.
  assert.match(f.nsx(['logs', 'box']).stdout, /in-42/)
})

test('attach without a terminal: output in, a line of input out; --detach-keys', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'piped']))
  assert.equal(f.nsx(['run', '-i', '-d', '--name', 'piped', '--layer', f.base, '--', 'sh', '-c', 'while read l; do echo "got $l"; echo "err $l" >&2; done']).status, 0)
  const a = spawn(process.execPath, [NSX_BIN, 'attach', '--detach-keys', 'ctrl-a,d', 'piped'], {env: f.env, stdio: ['pipe', 'pipe', 'pipe']})
  let out = ''
  let err = ''
  a.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  a.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const done = new Promise<number | null>((res) => a.on('exit', (c) => res(c)))
  // Written at once: a pipe keeps it until attach has connected and reads its stdin.
  a.stdin!.write('hello\n')
  await waitFor(() => out.includes('got hello') && err.includes('err hello'), 15000, 'the container to answer')
  a.stdin!.write('\x01d')
  assert.equal(await done, 0)
  assert.equal(entry(f, 'piped').state, 'running')
  assertOneLineError(f.nsx(['attach', '--detach-keys', 'ctrl-', 'piped']), 1, /invalid --detach-keys/)
})

test('--restart: on-failure:N runs it N more times with a back-off, always until nsx stop; the supervisor keeps the count', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => {
    f.nsx(['rm', '-f', 'flaky'])
    f.nsx(['rm', '-f', 'forever'])
  })
  const r = f.nsx(['run', '-d', '--restart', 'on-failure:2', '--name', 'flaky', '--layer', f.base, '--', 'sh', '-c', 'echo run >> /runs; exit 3'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(f.nsx(['wait', 'flaky'], {timeout: 30000}).stdout, '3\n')
  assert.equal(readFileSync(join(f.store, 'run', r.stdout.trim(), 'upper', 'runs'), 'utf8'), 'run\nrun\nrun\n', 'the first run and two restarts')
  const [c] = JSON.parse(f.nsx(['container', 'inspect', 'flaky']).stdout) as {RestartCount: number; HostConfig: {RestartPolicy: unknown}; State: {ExitCode: number}}[]
  assert.deepEqual([c.RestartCount, c.HostConfig.RestartPolicy, c.State.ExitCode], [2, {Name: 'on-failure', MaximumRetryCount: 2}, 3])
  // The supervisor removes the cgroups before it exits, and wait returns only once it has.
  const dir = join(f.store, 'run', r.stdout.trim())
  assertNoCgroupsLeft('flaky', dir, 'wait')

  const a = f.nsx(['run', '-d', '--restart', 'always', '--name', 'forever', '--layer', f.base, '--', 'sh', '-c', 'echo run >> /runs; sleep 0.3'])
  assert.equal(a.status, 0, a.stderr)
  const runs = join(f.store, 'run', a.stdout.trim(), 'upper', 'runs')
  await waitFor(() => existsSync(runs) && readFileSync(runs, 'utf8').split('\n').length > 3, 20000, 'three runs of an always container')
  const stop = f.nsx(['stop', '-t', '2', 'forever'])
  assert.equal(stop.status, 0, stop.stderr)
  const e = entry(f, 'forever')
  assert.equal(e.state, 'exited')
  const count = readFileSync(runs, 'utf8')
  await new Promise((res) => setTimeout(res, 1000))
  assert.equal(readFileSync(runs, 'utf8'), count, 'nothing ran after nsx stop')
  assertOneLineError(f.nsx(['run', '--rm', '--restart', 'always', '--layer', f.base, '--', 'true']), 125, /conflicting options: --restart and --rm/)
  assertOneLineError(f.nsx(['run', '--restart', 'sometimes', '--layer', f.base, '--', 'true']), 125, /invalid --restart 'sometimes'/)
})

test("RestartCount as docker's: counted when the policy decides a restart, kept by stop, reset by a manual start, after which the policy applies again (a manual stop is forgotten)", async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'counted']))
  // The first run fails; every later one waits, so each state below holds until the test moves on.
  const r = f.nsx(['run', '-d', '--restart', 'unless-stopped', '--name', 'counted', '--layer', f.base, '--', 'sh', '-c', 'echo run >> /runs; [ $(wc -l < /runs) -ge 2 ] && exec sleep 1000; exit 3'])
  assert.equal(r.status, 0, r.stderr)
  const runs = join(f.store, 'run', r.stdout.trim(), 'upper', 'runs')
  const ranTimes = () => (existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').length - 1 : 0)
  const restartCount = () => (JSON.parse(f.nsx(['container', 'inspect', 'counted']).stdout) as {RestartCount: number}[])[0].RestartCount
  // The command of the current run, once it is the sleep: its pid.
  const sleeper = (): number | undefined => {
    const e = entry(f, 'counted')
    if (e.state !== 'running' || !e.pid) return undefined
    try {
      const [child] = readFileSync(`/proc/${e.pid}/task/${e.pid}/children`, 'utf8').trim().split(/\s+/).map(Number)
      return child && readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'sleep' ? child : undefined
    } catch {
      return undefined
    }
  }
  await waitFor(() => ranTimes() === 2 && sleeper() !== undefined, 30000, 'the restarted run')
  assert.equal(restartCount(), 1, 'one restart so far (the record of the failed run says so, not 0)')
  assert.equal(f.nsx(['stop', '-t', '1', 'counted']).status, 0)
  assert.equal(restartCount(), 1, 'stop keeps the count')
  assert.equal(entry(f, 'counted').state, 'exited')

  assert.equal(f.nsx(['start', 'counted']).status, 0)
  await waitFor(() => ranTimes() === 3 && sleeper() !== undefined, 30000, 'the manually started run')
  assert.equal(restartCount(), 0, 'a manual start resets the count')
  // The manual stop before it is forgotten: the policy restarts the command when it dies.
  process.kill(sleeper()!, 'SIGKILL')
  await waitFor(() => ranTimes() === 4 && sleeper() !== undefined, 30000, 'the policy to restart it after the manual start')
  assert.equal(restartCount(), 1)
})
