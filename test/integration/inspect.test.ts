import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {NSX_BIN, assertOneLineError, needCommand, needRoot, nsx, nsxJson, run, runLsns} from '../helpers/env.js'
import {TestProcesses, childrenOf, waitFor, waitForComm} from '../helpers/processes.js'
import {TestCgroup} from '../helpers/cgroups.js'
import {nsInode} from '../helpers/userns.js'
import type {InspectReport} from '../../src/inspect/report.js'

const NS_TYPES = ['mnt', 'net', 'pid', 'user', 'uts', 'ipc', 'cgroup', 'time'] as const

function statusField(pid: number, field: string): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`))
  return (line ?? '').slice(field.length + 1).trim()
}

/** End a process this test started indirectly (a pid namespace's init: its namespace dies with it). */
function killStarted(pid: number | undefined): void {
  if (pid === undefined) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

/** lsns -J nests namespaces under their parents ("children"): flatten to inode -> nprocs. */
function lsnsCounts(): Map<number, number> {
  const r = runLsns(['-J', '-o', 'NS,TYPE,NPROCS'])
  assert.equal(r.status, 0, r.stderr)
  const out = new Map<number, number>()
  const walk = (list: {ns: number | string; nprocs: number | string; children?: unknown[]}[]) => {
    for (const n of list) {
      out.set(Number(n.ns), Number(n.nprocs))
      if (n.children) walk(n.children as typeof list)
    }
  }
  walk(JSON.parse(r.stdout).namespaces)
  return out
}

/**
 * A container-like process: new user (maps written from the host), pid, mnt, uts, net, ipc
 * and cgroup namespaces, a hostname of its own; time stays the host's.
 */
async function container(t: {after: (fn: () => unknown) => void}): Promise<{outer: number; inner: number}> {
  const procs = new TestProcesses()
  let inner: number | undefined
  // The forked sleep is pid 1 of the new pid namespace: killing it first ends everything inside.
  t.after(async () => {
    killStarted(inner)
    await procs.killAll()
  })
  const child = procs.spawn('unshare', ['-U', '-p', '-f', '-m', '-u', '-n', '-i', '-C', '--mount-proc', '--', 'sleep', '1000'])
  const outer = child.pid!
  await waitFor(() => childrenOf(outer).length > 0, 10000, 'unshare to fork')
  inner = childrenOf(outer)[0]
  await waitForComm(inner, 'sleep')
  writeFileSync(`/proc/${outer}/uid_map`, '0 100000 65536\n')
  writeFileSync(`/proc/${outer}/gid_map`, '0 100000 65536\n')
  // From outside too: nsenter becomes root of the new user namespace, which owns the uts namespace.
  const h = run('nsenter', ['-t', String(inner), '-U', '-u', '--', 'hostname', 'nsx-inspect-test'])
  assert.equal(h.status, 0, h.stderr)
  return {outer, inner}
}

test('a container-like process: every namespace as the kernel links show it, the verdict, NSpid, maps, hostname', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux') || !needCommand(t, 'nsenter', 'util-linux')) return
  const hostBefore = hostname()
  const {outer, inner} = await container(t)
  const r = nsxJson<InspectReport>(['inspect', String(inner)])

  assert.equal(r.verdict, 'isolated: user, pid, net, mnt, uts, ipc, cgroup')
  for (const type of NS_TYPES) {
    const n = r.namespaces.find((x) => x.type === type)
    assert.ok(n, `${type} listed`)
    assert.equal(n.inode, nsInode(inner, type), `${type} inode`)
    assert.equal(n.host, type === 'time', `${type} host`)
  }
  // The new user namespace owns the others; its own owner is the host's.
  const user = r.namespaces.find((x) => x.type === 'user')!
  for (const n of r.namespaces.filter((x) => !['user', 'time'].includes(x.type))) assert.equal(n.owner, user.inode, `${n.type} owner`)
  assert.equal(user.owner, nsInode(process.pid, 'user'))

  // Share counts agree with lsns for the namespaces this test alone uses: unshare and sleep, and only sleep in the pid namespace.
  const counts = lsnsCounts()
  for (const n of r.namespaces.filter((x) => x.type !== 'time')) {
    assert.equal(n.processes, counts.get(n.inode), `${n.type} process count vs lsns`)
    assert.equal(n.processes, n.type === 'pid' ? 1 : 2, `${n.type} process count`)
  }

  assert.deepEqual(
    r.nspid.map((l) => l.pid),
    statusField(inner, 'NSpid').split(/\s+/).map(Number),
  )
  assert.deepEqual(
    r.nspid.map((l) => l.pidns),
    [nsInode(process.pid, 'pid'), nsInode(inner, 'pid')],
  )
  assert.equal(r.nspid[1].pid, 1)

  assert.deepEqual(r.userns.levels[0].uidMap?.toParent, [{inside: 0, outside: 100000, count: 65536}])
  assert.deepEqual(r.userns.levels[0].gidMap?.toParent, [{inside: 0, outside: 100000, count: 65536}])
  assert.equal(r.userns.levels[1].initial, true)
  // sleep was exec'd before the map existed: it runs as host uid 0, which the namespace does not map.
  assert.ok(r.notes.some((n) => /does not map/.test(n)), r.notes.join('; '))

  assert.equal(r.uts?.hostname, 'nsx-inspect-test')
  assert.equal(hostname(), hostBefore, "the host's hostname is untouched")
  // The main thread went back to nsx's own uts namespace: a second read of a host process says so.
  assert.equal(nsxJson<InspectReport>(['inspect', String(process.pid)]).uts?.hostname, hostBefore)

  assert.equal(r.ppid, outer)
  assert.equal(r.root, readlinkSync(`/proc/${inner}/root`))
  assert.equal(r.cwd, readlinkSync(`/proc/${inner}/cwd`))
})

test('the table output carries the verdict, the hostname and the map, without colour when piped', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux') || !needCommand(t, 'nsenter', 'util-linux')) return
  const {inner} = await container(t)
  const r = nsx(['inspect', String(inner)])
  assert.equal(r.status, 0, r.stderr)
  // As root, a process only an LSM or kernel rule hides (this machine has one) is no warning.
  assert.equal(r.stderr, '')
  assert.match(r.stdout, /^verdict\s+isolated: user, pid, net, mnt, uts, ipc, cgroup$/m)
  assert.match(r.stdout, /^hostname\s+nsx-inspect-test$/m)
  assert.match(r.stdout, /^\s+0\s+100000\s+65536$/m)
  assert.match(r.stdout, new RegExp(`^\\s+1\\s+in pid:\\[${nsInode(inner, 'pid')}\\]$`, 'm'))
  assert.doesNotMatch(r.stdout, /\u001b\[/)
})

test('a plain host process is a "host process" and its namespaces are those of kthreadd', async (t) => {
  if (!needRoot(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const pid = procs.spawn('sleep', ['1000']).pid!
  await waitForComm(pid, 'sleep')
  const r = nsxJson<InspectReport>(['inspect', String(pid)])
  assert.equal(r.verdict, 'host process')
  // kthreadd (pid 2) is a kernel thread, and kernel threads never leave the initial namespaces.
  if (existsSync('/proc/2/ns/net') && statusField(2, 'Name') === 'kthreadd') {
    for (const n of r.namespaces) assert.equal(n.inode, nsInode(2, n.type), `${n.type} is kthreadd's`)
  }
  assert.deepEqual(
    r.nspid.map((l) => l.pid),
    [pid],
  )
  assert.equal(r.uts?.hostname, hostname())
  assert.equal(r.userns.levels.length, 1)
  assert.equal(r.userns.levels[0].initial, true)
})

test('capabilities by name agree with capsh --decode, and seccomp and no_new_privs with /proc', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'capsh', 'libcap2-bin') || !needCommand(t, 'setpriv', 'util-linux')) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  // Drop to a few capabilities, bound the rest away, and set no_new_privs.
  const pid = procs.spawn('setpriv', ['--inh-caps=-all', '--bounding-set=-all,+net_admin,+sys_chroot,+kill', '--no-new-privs', '--', 'sleep', '1000']).pid!
  await waitForComm(pid, 'sleep')
  const r = nsxJson<InspectReport>(['inspect', String(pid)])
  for (const [set, field] of [
    ['effective', 'CapEff'],
    ['permitted', 'CapPrm'],
    ['bounding', 'CapBnd'],
  ] as const) {
    const hex = statusField(pid, field)
    assert.equal(r.capabilities[set].hex, hex)
    const decoded = run('capsh', [`--decode=${hex}`]).stdout.trim()
    // "0x...=cap_chown,cap_kill" (or nothing after = when empty)
    const names = decoded.slice(decoded.indexOf('=') + 1).split(',').filter(Boolean).map((n) => n.toUpperCase())
    assert.deepEqual(r.capabilities[set].names, names, `${set} vs capsh`)
  }
  assert.deepEqual(r.capabilities.bounding.names, ['CAP_KILL', 'CAP_NET_ADMIN', 'CAP_SYS_CHROOT'])
  assert.equal(r.noNewPrivs, true)
  assert.equal(r.seccomp.mode, 'disabled')
})

test('a process whose main thread joined another net namespace: that is its namespace, and its other threads are listed apart', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const holder = procs.spawn('unshare', ['-n', '--', 'sleep', '1000']).pid!
  await waitForComm(holder, 'sleep')
  // Node's main thread joins the net namespace; V8's and libuv's threads stay behind.
  const libc = new URL('../../dist/src/ffi/libc.js', import.meta.url).href
  const script = `import {openSync} from 'node:fs'; import {setns} from '${libc}'; setns(openSync('/proc/${holder}/ns/net', 'r'), 0x40000000); console.log('ready'); setInterval(() => {}, 1000)`
  const {child} = await procs.spawnUntilLine(process.execPath, ['--input-type=module', '-e', script])
  const pid = child.pid!
  const r = nsxJson<InspectReport>(['inspect', String(pid)])
  assert.equal(r.verdict, 'isolated: net')
  assert.equal(r.namespaces.find((n) => n.type === 'net')?.inode, nsInode(holder, 'net'))
  const others = readdirSync(`/proc/${pid}/task`).map(Number).filter((tid) => tid !== pid)
  const hostNet = nsInode(process.pid, 'net')
  const expected = others.filter((tid) => readlinkSync(`/proc/${pid}/task/${tid}/ns/net`) === `net:[${hostNet}]`)
  assert.ok(expected.length > 0, 'node has threads left in the host net namespace')
  assert.deepEqual(
    r.threadsApart.map((x) => [x.tid, x.type, x.inode]),
    expected.map((tid) => [tid, 'net', hostNet]),
  )
  const text = nsx(['inspect', String(pid)])
  assert.match(text.stdout, new RegExp(`^${expected.length} threads are in net:\\[${hostNet}\\], not the process's net:\\[${nsInode(holder, 'net')}\\]: `, 'm'))
})

test('nested pid namespaces: NSpid at every level, paired with each level\'s pid namespace', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const procs = new TestProcesses()
  let middle: number | undefined
  // middle is pid 1 of the outer new pid namespace: killing it ends the inner one too.
  t.after(async () => {
    killStarted(middle)
    await procs.killAll()
  })
  const top = procs.spawn('unshare', ['-p', '-f', '--', 'unshare', '-p', '-f', '--', 'sleep', '1000']).pid!
  await waitFor(() => childrenOf(top).length > 0 && childrenOf(childrenOf(top)[0]).length > 0, 10000, 'two forks')
  middle = childrenOf(top)[0]
  const inner = childrenOf(middle)[0]
  await waitForComm(inner, 'sleep')
  const r = nsxJson<InspectReport>(['inspect', String(inner)])
  assert.deepEqual(
    r.nspid.map((l) => l.pid),
    statusField(inner, 'NSpid').split(/\s+/).map(Number),
  )
  assert.equal(r.nspid.length, 3)
  assert.deepEqual(
    r.nspid.map((l) => l.pidns),
    [nsInode(process.pid, 'pid'), nsInode(middle, 'pid'), nsInode(inner, 'pid')],
  )
  assert.deepEqual(
    r.nspid.slice(1).map((l) => l.pid),
    [2, 1],
  )
  assert.equal(r.verdict, 'isolated: pid')
})

test('a process that made a pid namespace for its children (unshare -p -f) shows it apart from its own', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const procs = new TestProcesses()
  let init: number | undefined
  t.after(async () => {
    killStarted(init)
    await procs.killAll()
  })
  // unshare itself stays in the host pid namespace; its forked child is pid 1 of the new one.
  const pid = procs.spawn('unshare', ['-p', '-f', '--', 'sleep', '1000']).pid!
  await waitFor(() => childrenOf(pid).length > 0, 10000, 'unshare to fork')
  init = childrenOf(pid)[0]
  await waitForComm(init, 'sleep')
  const r = nsxJson<InspectReport>(['inspect', String(pid)])
  assert.equal(r.verdict, 'host process')
  assert.equal(r.forChildren.pid, nsInode(init, 'pid'))
  assert.equal(r.forChildren.pid, nsInode(pid, 'pid_for_children'))
  assert.notEqual(r.forChildren.pid, nsInode(pid, 'pid'))
  const text = nsx(['inspect', String(pid)])
  assert.match(text.stdout, new RegExp(`children get pid:\\[${r.forChildren.pid}\\]`))
})

test('cgroup memberships: a process in a test cgroup shows its path and directory in v1 and v2 hierarchies', async (t) => {
  if (!needRoot(t)) return
  const procs = new TestProcesses()
  const memberships = readFileSync('/proc/self/cgroup', 'utf8')
  const wanted = ['memory', 'pids'].filter((c) => new RegExp(`^\\d+:[^:]*\\b${c}\\b[^:]*:`, 'm').test(memberships))
  if (/^0::/m.test(memberships)) wanted.push('v2')
  const cg = new TestCgroup(`nsx-inspect-${process.pid}`, wanted)
  t.after(async () => {
    await procs.killAll()
    cg.remove()
  })
  const pid = procs.spawn('sleep', ['1000']).pid!
  await waitForComm(pid, 'sleep')
  for (const c of wanted) writeFileSync(`${cg.dir(c)}/cgroup.procs`, String(pid))
  const r = nsxJson<InspectReport>(['inspect', String(pid)])
  const raw = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')
  assert.equal(r.cgroups.memberships.length, raw.length)
  for (const c of wanted) {
    const m = r.cgroups.memberships.find((x) => (c === 'v2' ? x.version === 2 : x.controllers.includes(c)))
    assert.ok(m, `${c} membership`)
    assert.equal(m.directory, cg.dir(c))
    assert.ok(readFileSync(`${m.directory}/cgroup.procs`, 'utf8').split('\n').includes(String(pid)), `${pid} in ${m.directory}`)
  }
})

test('bad pids fail with one line and exit 1: non-numeric, negative, exited, zombie, thread, kernel thread, not permitted', async (t) => {
  if (!needRoot(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  assertOneLineError(nsx(['inspect', 'abc']), 1, /no such process or container: abc/)
  assertOneLineError(nsx(['inspect', '--', '-3']), 1, /invalid pid '-3'/)
  assertOneLineError(nsx(['inspect']), 1, /missing pid/)
  // An exited, reaped process.
  const gone = procs.spawn('true', [])
  await new Promise((res) => gone.once('exit', res))
  assertOneLineError(nsx(['inspect', String(gone.pid)]), 1, /no such process/)
  // A zombie, made inside a pid namespace of its own so that it dies with that namespace's init
  // instead of being handed to the test runner: sleep never reaps the `true` its shell started.
  const outer = procs.spawn('unshare', ['-p', '-f', '--', 'sh', '-c', 'true & exec sleep 1000']).pid!
  await waitFor(() => childrenOf(outer).length > 0, 10000, 'unshare to fork')
  const init = childrenOf(outer)[0]
  t.after(() => killStarted(init))
  await waitFor(() => childrenOf(init).length > 0 && statusField(childrenOf(init)[0], 'State').startsWith('Z'), 10000, 'a zombie')
  const zombie = childrenOf(init)[0]
  assertOneLineError(nsx(['inspect', String(zombie)]), 1, /zombie/)
  // A thread of this (multithreaded) test process, rather than a process.
  const tid = readdirSync(`/proc/${process.pid}/task`).map(Number).find((x) => x !== process.pid)
  if (tid !== undefined) assertOneLineError(nsx(['inspect', String(tid)]), 1, new RegExp(`${tid} is a thread of process ${process.pid}`))
  // kthreadd.
  if (existsSync('/proc/2/status') && statusField(2, 'Name') === 'kthreadd') assertOneLineError(nsx(['inspect', '2']), 1, /kernel thread/)
  // A root process, inspected by nobody: ptrace access is refused.
  if (!needCommand(t, 'setpriv', 'util-linux')) return
  const root = procs.spawn('sleep', ['1000']).pid!
  await waitForComm(root, 'sleep')
  const denied = run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, NSX_BIN, 'inspect', String(root)], {
    // A user of their own would have their own HOME; root's is unreadable to nobody and oclif looks there.
    env: {...process.env, NO_COLOR: '1', HOME: '/nonexistent'},
  })
  assertOneLineError(denied, 1, /permission denied/)
})

test('nsx inside a pid and mount namespace of its own (no kernel thread in its /proc): the container\'s mount namespace is not called the host\'s', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  // pid 1 there is the shell, the only reference nsx could compare with; the kernel's fixed
  // net and mnt inodes (Linux 6.18) or its release must decide instead.
  const script = 'sleep 1000 & s=$!; "$0" "$1" inspect --json $s; kill $s'
  const r = run('unshare', ['-p', '-f', '-m', '--mount-proc', '--', 'sh', '-c', script, process.execPath, NSX_BIN], {env: {...process.env, NO_COLOR: '1'}})
  assert.equal(r.status, 0, r.stderr)
  const report = JSON.parse(r.stdout) as InspectReport
  const mnt = report.namespaces.find((n) => n.type === 'mnt')!
  assert.notEqual(mnt.inode, nsInode(process.pid, 'mnt'))
  const [major, minor] = readFileSync('/proc/sys/kernel/osrelease', 'utf8').split('.').map((x) => parseInt(x, 10))
  if (major > 6 || (major === 6 && minor >= 18)) {
    assert.deepEqual([mnt.host, mnt.hostBasis], [false, 'kernel-has-fixed-inode'])
    assert.deepEqual(report.isolated, ['pid', 'mnt'])
  } else {
    // Older kernels: pid 1 is the only reference, and the verdict cannot be better than it.
    assert.equal(report.hostReference?.pid, 1)
  }
})
