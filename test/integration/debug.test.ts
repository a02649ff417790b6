import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, mkdirSync, readlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {assertOneLineError, needCommand, NSX_BIN} from '../helpers/env.js'
import {containerToolsPresent, Fixture, hostMountsMentioning, makeFixture, needContainerTools} from '../helpers/container.js'
import {buildBusyboxOci} from '../helpers/images.js'
import {childrenOf, TestProcesses, waitFor} from '../helpers/processes.js'

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-debug-') : undefined

/**
 * Command lines of every process the container's pid namespace holds, nested ones included,
 * as its own /proc shows them (read with the container's busybox /bin/ps (not its planted one), through nsx exec, which is left out).
 */
function processesIn(f: Fixture, name: string): string[] {
  const r = f.nsx(['exec', name, '/bin/ps', '-o', 'pid,args'])
  assert.equal(r.status, 0, r.stderr)
  return r.stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter(([, ...args]) => args.join(' ') !== '/bin/ps -o pid,args')
    .map(([, ...args]) => args.join(' '))
    .sort()
}

/** A container whose /usr/local/bin/ps (first in its PATH) records that it ran. */
function startPlanted(f: Fixture, name: string): number {
  const layer = join(f.dir, `planted-${name}`)
  mkdirSync(join(layer, 'usr', 'local', 'bin'), {recursive: true})
  const ps = join(layer, 'usr', 'local', 'bin', 'ps')
  writeFileSync(ps, '#!/bin/sh\ngrep -E "^CapEff" /proc/self/status > /tmp/planted-ps-ran\necho planted\n')
  chmodSync(ps, 0o755)
  const r = f.nsx(['run', '-d', '--name', name, '--layer', f.base, '--layer', layer, '--', 'sleep', '1000'])
  assert.equal(r.status, 0, r.stderr)
  return (JSON.parse(f.nsx(['ps', '--json']).stdout) as {name: string; pid: number}[]).find((c) => c.name === name)!.pid
}

test("the planted binary: nsx debug NAME -- ps runs the host's ps, never the container's, and lists the container's processes with their pids inside it", (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'ps', 'procps')) return
  const f = fx!
  t.after(() => f.nsx(['stop', '-t', '0', 'dbg']))
  startPlanted(f, 'dbg')
  const r = f.nsx(['debug', 'dbg', '--', 'ps', '-e', '-o', 'pid=,comm='])
  assert.equal(r.status, 0, r.stderr)
  const rows = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/))
  assert.deepEqual(rows.slice(0, 2), [['1', 'nsx-init'], ['2', 'sleep']])
  assert.ok(!r.stdout.includes('planted'))
  // The container's ps never ran: it would have left its record in the container's /tmp.
  const ran = f.nsx(['exec', 'dbg', 'ls', '/tmp'])
  assert.equal(ran.stdout, '')
  // Whereas nsx enter NAME runs the container's own ps (with the container's rights: exec.test.ts).
  assert.equal(f.nsx(['enter', 'dbg', 'ps']).stdout, 'planted\n')
})

test("nsx debug: the target's pid, net, uts, ipc and cgroup namespaces, a mount namespace of its own; /target read-only (--rw writable), /proc/1/root the container's; nothing left behind", (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['stop', '-t', '0', 'dbg2']))
  const init = startPlanted(f, 'dbg2')
  const before = processesIn(f, 'dbg2')
  const script = [
    'hostname',
    'for n in pid net uts ipc cgroup mnt user; do readlink /proc/self/ns/$n; done',
    'ls /target/usr/local/bin/ps /proc/1/root/usr/local/bin/ps',
    'touch /target/x 2>/dev/null && echo target-writable || echo target-read-only',
    'test -e /target/tmp/planted-ps-ran && echo ran || echo not-ran',
  ].join('; ')
  const r = f.nsx(['debug', 'dbg2', 'sh', '-c', script])
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  const ns = (pid: number | 'self', n: string) => readlinkSync(`/proc/${pid}/ns/${n}`)
  assert.deepEqual(lines, [
    'dbg2',
    lines[1], // a pid namespace of the session's own, nested in the container's: checked below
    ...['net', 'uts', 'ipc', 'cgroup'].map((n) => ns(init, n)),
    lines[6], // a mount namespace of its own: checked below
    ns('self', 'user'),
    '/proc/1/root/usr/local/bin/ps',
    '/target/usr/local/bin/ps',
    'target-read-only',
    'not-ran',
  ])
  assert.notEqual(lines[1], ns(init, 'pid'))
  assert.notEqual(lines[1], ns('self', 'pid'))
  assert.notEqual(lines[6], ns(init, 'mnt'))
  assert.notEqual(lines[6], ns('self', 'mnt'))
  const rw = f.nsx(['debug', '--rw', 'dbg2', 'sh', '-c', 'touch /target/tmp/from-debug && echo ok'])
  assert.equal(rw.stdout, 'ok\n', rw.stderr)
  assert.equal(f.nsx(['exec', 'dbg2', 'ls', '/tmp']).stdout, 'from-debug\n')
  // The status passes through; a missing command is 127.
  assert.equal(f.nsx(['debug', 'dbg2', '--', 'sh', '-c', 'exit 7']).status, 7)
  assertOneLineError(f.nsx(['debug', 'dbg2', 'no-such-tool']), 127, /^nsx debug: failed to execute no-such-tool: No such file or directory$/)
  assertOneLineError(f.nsx(['debug', 'ghost']), 125, /^nsx debug: no such container: ghost/)
  // A PID works as a target too.
  assert.equal(f.nsx(['debug', String(init), 'hostname']).stdout, 'dbg2\n')
  assert.deepEqual(processesIn(f, 'dbg2'), before, 'a debug process is left in the container')
  assert.deepEqual(hostMountsMentioning('nsx-debug'), [], 'a debug mount leaked into the host')
})

test('nsx debug killed: every process of the session ends with it (its own nested pid namespace), none stays in the container', async (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const procs = new TestProcesses()
  t.after(async () => {
    await procs.killAll()
    f.nsx(['stop', '-t', '0', 'dbg3'])
  })
  const init = startPlanted(f, 'dbg3')
  const before = processesIn(f, 'dbg3')
  assert.deepEqual(before, ['nsx-init', 'sleep 1000'])
  const child = procs.spawn(NSX_BIN, ['debug', 'dbg3', '--', 'sh', '-c', 'sleep 1004 & exec sleep 1005'], {env: f.env})
  await waitFor(() => {
    const now = processesIn(f, 'dbg3')
    return now.includes('sleep 1004') && now.includes('sleep 1005')
  }, 20000, "the session's processes")
  process.kill(child.pid!, 'SIGKILL')
  await waitFor(() => processesIn(f, 'dbg3').join('\n') === before.join('\n'), 10000, 'the session to end')
  assert.deepEqual(childrenOf(init).length, 1)
})

test('nsx debug --image: the tools come from a toolbox image of the store, the target still at /target', (t) => {
  if (!needContainerTools(t) || !needCommand(t, 'umoci', 'umoci')) return
  const f = fx!
  t.after(() => f.nsx(['stop', '-t', '0', 'dbg4']))
  startPlanted(f, 'dbg4')
  const oci = buildBusyboxOci(join(f.dir, 'toolbox'), {extraFiles: {'bin/probe': f.probe}})
  // The toolbox has /bin/probe and /etc/hostname ("probe"); the host has neither.
  const r = f.nsx(['debug', '--image', `${oci}:latest`, 'dbg4', '--', '/bin/sh', '-c', 'cat /etc/hostname; ls /bin/probe; ls /target/usr/local/bin; hostname'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'probe\n/bin/probe\nps\ndbg4\n')
})
