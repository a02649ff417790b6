import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {openSync, readFileSync, readlinkSync} from 'node:fs'
import {assertOneLineError, needCommand, run} from '../helpers/env.js'
import {assertContainerGone, cgroupsNamed, containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-run-d-') : undefined

interface Entry {
  name: string
  id: string
  state: string
  pid: number
  supervisorPid: number
  hostname: string
  command: string[]
}

const assertGone = assertContainerGone

test('-d prints the id and returns; nsx ps lists it; nsx enter NAME joins its namespaces as nsenter does; nsx stop ends it, nsx rm removes it all', (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'nsenter', 'util-linux')) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'bg1']))
  const r = f.nsx(['run', '-d', '--name', 'bg1', '--layer', f.base, '--', 'probe', 'wait-signal'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/)
  const ps = JSON.parse(f.nsx(['ps', '--json']).stdout) as Entry[]
  assert.equal(ps.length, 1)
  const e = ps[0]
  assert.deepEqual([e.name, e.id, e.state, e.hostname, e.command], ['bg1', r.stdout.trim(), 'running', 'bg1', ['probe', 'wait-signal']])
  assert.equal(readFileSync(`/proc/${e.pid}/comm`, 'utf8'), 'nsx-init\n')
  assert.match(f.nsx(['ps']).stdout, new RegExp(`^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES\n${e.id.slice(0, 12)} +1 layer +"probe wait-signal" +(Less than a second|\\d+ seconds?) ago +Up [^\n]+ +bg1\n$`))
  // The supervisor and the init run a sealed memfd copy of the executor: not even root can write it (CVE-2019-5736).
  assert.match(readlinkSync(`/proc/${e.supervisorPid}/exe`), /^\/memfd:nsx-exec \(deleted\)$/)
  assert.throws(() => openSync(`/proc/${e.pid}/exe`, 'r+'), /EPERM|ETXTBSY/)
  // A live subject for nsx inspect: the verdict names every namespace nsx run made.
  const insp = f.nsx(['inspect', String(e.pid), '--json'])
  assert.equal(JSON.parse(insp.stdout).verdict, 'isolated: pid, net, mnt, uts, ipc, cgroup', insp.stderr)
  // nsx enter NAME sees what nsenter -t PID -a sees.
  const script = 'hostname; for n in mnt pid uts ipc net cgroup; do readlink /proc/self/ns/$n; done; out=$(ps -o pid,comm); echo "$out" | grep -c .'
  const ours = f.nsx(['enter', 'bg1', 'sh', '-c', script])
  assert.equal(ours.status, 0, ours.stderr)
  const theirs = run('nsenter', ['-t', String(e.pid), '-a', 'sh', '-c', script])
  assert.equal(ours.stdout, theirs.stdout)
  const ns = ours.stdout.trim().split('\n')
  assert.equal(ns[0], 'bg1')
  assert.equal(ns[1], readlinkSync(`/proc/${e.pid}/ns/mnt`))
  const stop = f.nsx(['stop', 'bg1'])
  assert.equal(stop.status, 0, stop.stderr)
  assert.equal(stop.stdout, 'bg1\n')
  assert.deepEqual(JSON.parse(f.nsx(['ps', '--json']).stdout), [])
  // Kept, as docker keeps it: exited with the probe's status (0 after SIGTERM), its cgroups gone.
  const all = JSON.parse(f.nsx(['ps', '-a', '--json']).stdout) as (Entry & {exitCode: number})[]
  assert.deepEqual(all.map((x) => [x.name, x.state, x.exitCode, x.pid]), [['bg1', 'exited', 0, 0]])
  assert.deepEqual(cgroupsNamed('bg1'), [])
  assert.equal(f.nsx(['rm', 'bg1']).stdout, 'bg1\n')
  assertGone(f, 'bg1')
})

test('nsx stop kills a container that ignores SIGTERM after the grace period', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  assert.equal(f.nsx(['run', '-d', '--name', 'stubborn', '--layer', f.base, '--', 'sh', '-c', 'trap "" TERM; while :; do sleep 1; done']).status, 0)
  const r = f.nsx(['stop', '-t', '1', 'stubborn', '--json'])
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout) as {name: string; result: string}[]
  assert.deepEqual(out.map((x) => [x.name, x.result]), [['stubborn', 'killed']])
  assert.equal(f.nsx(['wait', 'stubborn']).stdout, '137\n', 'SIGKILLed: 128+9')
  assert.equal(f.nsx(['rm', 'stubborn']).status, 0)
  assertGone(f, 'stubborn')
})

test('-d with a command not in the image: 127 and one line, nothing left; unknown names: one line, exit 1', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  assertOneLineError(f.nsx(['run', '-d', '--rm', '--name', 'bad', '--layer', f.base, '--', 'no-such-cmd']), 127, /failed to execute no-such-cmd: No such file or directory/)
  assertGone(f, 'bad')
  // Without --rm it stays, exited 127, as docker keeps a container whose command could not start.
  assertOneLineError(f.nsx(['run', '-d', '--name', 'bad2', '--layer', f.base, '--', 'no-such-cmd']), 127, /failed to execute no-such-cmd/)
  assert.match(f.nsx(['ps', '-a', '--filter', 'name=bad2', '--format', '{{.Names}} {{.Status}}']).stdout, /^bad2 Exited \(127\) /)
  assert.equal(f.nsx(['rm', 'bad2']).status, 0)
  assertGone(f, 'bad2')
  assertOneLineError(f.nsx(['stop', 'ghost']), 1, /^nsx stop: No such container: ghost$/)
  assertOneLineError(f.nsx(['enter', '-t', 'ghost', 'true']), 125, /invalid target 'ghost': expected a pid or a container name/)
  assertOneLineError(f.nsx(['run', '-d', '--rm', '--restart', 'always', '--layer', f.base, '--', 'sh']), 125, /conflicting options: --restart and --rm/)
})
