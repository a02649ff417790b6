import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {openSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {join} from 'node:path'
import {assertOneLineError, needCommand, run} from '../helpers/env.js'
import {cgroupsNamed, containerToolsPresent, Fixture, hostMountsMentioning, makeFixture, needContainerTools} from '../helpers/container.js'

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-run-d-') : undefined

interface Entry {
  name: string
  pid: number
  supervisorPid: number
  hostname: string
  command: string[]
}

function assertGone(f: Fixture, name: string) {
  assert.deepEqual(readdirSync(join(f.store, 'run')).filter((n) => n === name), [], 'state directory left')
  assert.deepEqual(cgroupsNamed(name), [], 'cgroups left')
  assert.deepEqual(hostMountsMentioning(f.store), [], 'host mounts left')
}

test('-d prints the name and returns; nsx ps lists it; nsx enter NAME joins its namespaces as nsenter does; nsx stop ends it and cleans up', (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'nsenter', 'util-linux')) return
  const f = fx!
  t.after(() => f.nsx(['stop', '-t', '0', 'bg1']))
  const r = f.nsx(['run', '-d', '--name', 'bg1', '--layer', f.base, '--', 'probe', 'wait-signal'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'bg1\n')
  const ps = JSON.parse(f.nsx(['ps', '--json']).stdout) as Entry[]
  assert.equal(ps.length, 1)
  const e = ps[0]
  assert.deepEqual([e.name, e.hostname, e.command], ['bg1', 'bg1', ['probe', 'wait-signal']])
  assert.equal(readFileSync(`/proc/${e.pid}/comm`, 'utf8'), 'nsx-init\n')
  assert.match(f.nsx(['ps']).stdout, /^NAME +PID +UP +IMAGE +COMMAND\nbg1 +\d+ +\d+s +1 layer +probe wait-signal\n$/)
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
  assertGone(f, 'bg1')
})

test('nsx stop kills a container that ignores SIGTERM after the grace period', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  assert.equal(f.nsx(['run', '-d', '--name', 'stubborn', '--layer', f.base, '--', 'sh', '-c', 'trap "" TERM; while :; do sleep 1; done']).status, 0)
  const r = f.nsx(['stop', '-t', '1', 'stubborn', '--json'])
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), [{name: 'stubborn', result: 'killed'}])
  assertGone(f, 'stubborn')
})

test('-d with a command not in the image: 127 and one line, nothing left; unknown names: one line, exit 1', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  assertOneLineError(f.nsx(['run', '-d', '--name', 'bad', '--layer', f.base, '--', 'no-such-cmd']), 127, /failed to execute no-such-cmd: No such file or directory/)
  assertGone(f, 'bad')
  assertOneLineError(f.nsx(['stop', 'ghost']), 1, /^nsx stop: no such container: ghost \(running: none\)$/)
  assertOneLineError(f.nsx(['enter', '-t', 'ghost', 'true']), 125, /invalid target 'ghost': expected a pid or a container name/)
  assertOneLineError(f.nsx(['run', '-d', '-t', '--layer', f.base, '--', 'sh']), 125, /-t with -d/)
})
