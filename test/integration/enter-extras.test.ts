import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {closeSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, rmdirSync, writeFileSync, writeSync, existsSync} from 'node:fs'
import {NSX_BIN, needCommand, needRoot, nsx, run, skipOrFail} from '../helpers/env.js'
import {TestProcesses, childrenOf, waitFor} from '../helpers/processes.js'

/** What util-linux 2.38 (on this machine) lacks, checked against the kernel directly. */

const procs = new TestProcesses()
const cleanups: (() => void)[] = []
after(async () => {
  await procs.killAll()
  for (const c of cleanups.reverse()) c()
})

async function unshared(args: string[], cmd: string[] = ['sleep', '600'], waitExec = true): Promise<number> {
  const c = procs.spawn('unshare', ['--fork', '--kill-child', ...args, ...cmd])
  await waitFor(() => c.pid !== undefined && childrenOf(c.pid).length === 1, 5000, 'unshare to fork')
  const kid = childrenOf(c.pid!)[0]
  if (!waitExec) return kid
  // Wait for the exec: until then the child is still unshare, not the command.
  await waitFor(() => readlinkSync(`/proc/${kid}/exe`) !== readlinkSync(`/proc/${c.pid}/exe`), 5000, 'the target to exec')
  return kid
}

const line = (text: string, key: string) => text.split('\n').find((l) => l.startsWith(key))?.split(/\s+/)[1]

test('--mount-proc: ps sees only the target\'s pid namespace, and the target\'s mounts are left alone', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux') || !needCommand(t, 'ps', 'procps')) return
  // A pid namespace whose mount namespace still has the host's /proc: plain ps there shows the host.
  const target = await unshared(['--pid', '--mount'])
  const mountsBefore = readFileSync(`/proc/${target}/mountinfo`, 'utf8')
  const plain = nsx(['enter', '-t', String(target), '-a', 'ps', '-e', '-o', 'pid=,comm='])
  assert.ok(plain.stdout.trim().split('\n').length > 2, 'without --mount-proc ps sees the host')
  const r = nsx(['enter', '-t', String(target), '-a', '--mount-proc', 'ps', '-e', '-o', 'pid=,comm='])
  assert.equal(r.status, 0, r.stderr)
  const rows = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/))
  assert.deepEqual(rows.map((x) => x[1]).sort(), ['ps', 'sleep'])
  assert.deepEqual(rows.find((x) => x[1] === 'sleep')?.[0], '1', 'the target is pid 1 of its namespace')
  assert.equal(readFileSync(`/proc/${target}/mountinfo`, 'utf8'), mountsBefore)
})

test('-e gives the command the target\'s environment, not ours', async (t) => {
  if (!needRoot(t)) return
  const c = procs.spawn('sleep', ['600'], {env: {PATH: process.env.PATH, NSX_TARGET_MARK: 'from-target'}})
  await waitFor(() => c.pid !== undefined)
  const r = nsx(['enter', '-t', String(c.pid), '-n', '-e', 'sh', '-c', 'echo "$NSX_TARGET_MARK/${NSX_OURS:-unset}"'], {env: {NSX_OURS: 'ours'}})
  assert.equal(r.stdout.trim(), 'from-target/unset', r.stderr)
})

test('-S follow and -G follow take the target\'s owner', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'setpriv', 'util-linux')) return
  const c = procs.spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sleep', '600'])
  await waitFor(() => c.pid !== undefined && readFileSync(`/proc/${c.pid}/status`, 'utf8').includes('65534'))
  const r = nsx(['enter', '-t', String(c.pid), '-n', '-S', 'follow', '-G', 'follow', 'sh', '-c', 'echo $(id -u) $(id -g)'])
  assert.equal(r.stdout.trim(), '65534 65534', r.stderr)
})

test('--keep-caps leaves the user namespace\'s capabilities as ambient ones; without it there are none', async (t) => {
  if (!needRoot(t)) return
  const target = await unshared(['--user', '--map-root-user'])
  const amb = (extra: string[]) => line(nsx(['enter', '-t', String(target), '-U', ...extra, 'cat', '/proc/self/status']).stdout, 'CapAmb:')
  assert.equal(amb([]), '0000000000000000')
  const kept = amb(['--keep-caps'])
  assert.ok(kept !== undefined && BigInt(`0x${kept}`) > 0n, `CapAmb ${kept}`)
  assert.equal(kept, line(readFileSync(`/proc/${target}/status`, 'utf8'), 'CapEff:'))
})

test('--user-parent enters the parent of the target\'s user namespace', async (t) => {
  if (!needRoot(t)) return
  // P0 makes user namespace A; its child P1 makes B (nested in A) and forks P2, the target, in B.
  const p1 = await unshared(['--user', '--map-root-user'], ['unshare', '--user', '--map-root-user', '--fork', '--kill-child', 'sleep', '600'], false)
  const p0 = Number(readFileSync(`/proc/${p1}/stat`, 'utf8').split(') ')[1].split(' ')[1])
  await waitFor(() => childrenOf(p1).length === 1, 5000, 'the nested unshare to fork')
  const p2 = childrenOf(p1)[0]
  const a = readlinkSync(`/proc/${p0}/ns/user`)
  await waitFor(() => readlinkSync(`/proc/${p2}/ns/user`) !== a, 5000, 'the nested user namespace')
  const r = nsx(['enter', '-t', String(p2), '--user-parent', 'readlink', '/proc/self/ns/user'])
  assert.equal(r.stdout.trim(), a, r.stderr)
  assert.notEqual(a, readlinkSync('/proc/self/ns/user'))
})

test('-c joins the target\'s cgroup, below our own, on this v1/hybrid layout too', async (t) => {
  if (!needRoot(t)) return
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:pids:/.test(l))
  if (!own) {
    skipOrFail(t, 'needs a v1 pids hierarchy (this test covers the v1/hybrid path)')
    return
  }
  const dir = `/sys/fs/cgroup/pids${own.split(':')[2].replace(/\/$/, '')}/nsx-enter-test-${process.pid}`
  mkdirSync(dir)
  const c = procs.spawn('sleep', ['600'])
  cleanups.push(() => existsSync(dir) && rmdirSync(dir))
  await waitFor(() => c.pid !== undefined)
  writeFileSync(`${dir}/cgroup.procs`, String(c.pid))
  const r = nsx(['enter', '-t', String(c.pid), '-n', '-c', 'cat', '/proc/self/cgroup'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, readFileSync(`/proc/${c.pid}/cgroup`, 'utf8'))
  await procs.killAll()
})

test('--dry-run prints each operation in order with what it needs, and enters nothing', async (t) => {
  if (!needRoot(t)) return
  const c = procs.spawn('sleep', ['600'])
  await waitFor(() => c.pid !== undefined)
  const r = nsx(['enter', '--dry-run', '-t', String(c.pid), '-m', '-p', 'touch', '/nonexistent-dir/x'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, new RegExp(`^1  pin ${c.pid} \\d+ +pin process ${c.pid}`, 'm'))
  assert.match(r.stdout, /setns mnt .*\n.*needs: CAP_SYS_ADMIN in the user namespace that owns it; CAP_SYS_CHROOT/)
  const j = nsx(['enter', '--dry-run', '--json', '-t', String(c.pid), '-m', '-p', 'true'])
  assert.equal(j.status, 0, j.stderr)
  const plan = JSON.parse(j.stdout) as {steps: {op: string; args: string[]; needs: string}[]}
  const ops = plan.steps.map((s) => s.op)
  assert.equal(ops[0], 'pin')
  assert.deepEqual(ops.slice(-3), ['release-target', 'fork', 'exec'])
  assert.ok(ops.indexOf('setns-try') < ops.indexOf('setns'))
})

test('the executor runs from a sealed memfd copy: its /proc/PID/exe cannot be written, not even by root (CVE-2019-5736)', async (t) => {
  if (!needRoot(t)) return
  const target = procs.spawn('sleep', ['600'])
  await waitFor(() => target.pid !== undefined)
  // -p forks: the executor stays as the waiting parent of the command.
  const c = procs.spawn(process.execPath, [NSX_BIN, 'enter', '-t', String(target.pid), '-p', 'sleep', '600'])
  await waitFor(() => childrenOf(c.pid!).length === 1, 10000, 'the executor to fork the command')
  const kid = childrenOf(c.pid!)[0]
  // Killing the executor would orphan the command, which holds the test's pipes: kill it first.
  t.after(() => {
    try {
      process.kill(kid, 'SIGKILL')
    } catch {
      // gone already
    }
  })
  assert.equal(readlinkSync(`/proc/${c.pid}/exe`), '/memfd:nsx-exec (deleted)')
  assert.equal(readFileSync(`/proc/${c.pid}/comm`, 'utf8'), 'nsx-exec\n')
  // Nothing of it reaches the command: no memfd among the command's fds.
  for (const fd of readdirSync(`/proc/${kid}/fd`)) assert.doesNotMatch(readlinkSync(`/proc/${kid}/fd/${fd}`), /memfd/)
  // The attack: hold the executor's binary open, and write it once it no longer runs.
  const held = openSync(`/proc/${c.pid}/exe`, 'r')
  try {
    process.kill(kid, 'SIGKILL')
    await procs.killAll()
    const w = openSync(`/proc/self/fd/${held}`, 'r+')
    try {
      // The regular file of the CVE would take the write; the sealed copy refuses it.
      assert.throws(() => writeSync(w, 'overwritten'), (e: NodeJS.ErrnoException) => e.code === 'EPERM')
    } finally {
      closeSync(w)
    }
  } finally {
    closeSync(held)
  }
})

test('-N: the network namespace of a socket the target holds (util-linux 2.42; 2.38 here lacks it)', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const script = "const s = require('net').createServer().listen(0, '127.0.0.1', () => console.log(s._handle.fd))"
  const {child, line} = await procs.spawnUntilLine('unshare', ['--net', process.execPath, '-e', script])
  const fd = line.trim()
  assert.match(fd, /^\d+$/)
  const r = nsx(['enter', '-t', String(child.pid), '-N', fd, 'readlink', '/proc/self/ns/net'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout.trim(), readlinkSync(`/proc/${child.pid}/ns/net`))
  assert.notEqual(r.stdout.trim(), readlinkSync('/proc/self/ns/net'))
  const notSocket = nsx(['enter', '-t', String(child.pid), '-N', '0', 'true'])
  assert.equal(notSocket.status, 125)
  assert.equal(notSocket.stderr, `nsx enter: fd 0 of pid ${child.pid} is not a socket\n`)
  const noFd = nsx(['enter', '-t', String(child.pid), '-N', '999', 'true'])
  assert.equal(noFd.stderr, `nsx enter: get fd 999 of pid ${child.pid}: Bad file descriptor\n`)
})

test('a thread as the target: its own namespaces (it unshared net and uts), pinned by a thread pidfd, as nsenter -t TID', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'python3', 'python3') || !needCommand(t, 'nsenter', 'util-linux')) return
  const script = `import ctypes,threading,time
libc=ctypes.CDLL(None,use_errno=True)
def run():
    if libc.unshare(0x40000000|0x04000000)!=0:
        print('unshare failed',ctypes.get_errno(),flush=True);return
    libc.sethostname(b"nsx-thread", 10)
    print(threading.get_native_id(),flush=True)
    time.sleep(600)
threading.Thread(target=run,daemon=True).start()
time.sleep(600)`
  const {child, line} = await procs.spawnUntilLine('python3', ['-c', script])
  const tid = Number(line)
  assert.ok(tid > 0 && tid !== child.pid, line)
  const probe = ['sh', '-c', 'readlink /proc/self/ns/net; hostname']
  const ours = nsx(['enter', '-t', String(tid), '-n', '-u', ...probe])
  const peer = run('nsenter', ['-t', String(tid), '-n', '-u', ...probe])
  assert.equal(ours.status, 0, ours.stderr)
  assert.equal(ours.stdout, peer.stdout)
  assert.equal(ours.stdout, `${readlinkSync(`/proc/${child.pid}/task/${tid}/ns/net`)}\nnsx-thread\n`)
  assert.notEqual(readlinkSync(`/proc/${child.pid}/task/${tid}/ns/net`), readlinkSync(`/proc/${child.pid}/ns/net`))
  const plan = nsx(['enter', '--dry-run', String(tid), 'true'])
  assert.match(plan.stdout, new RegExp(`pin-thread ${tid} \\d+`))
})
