import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, readlinkSync, rmdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {assertOneLineError, needCommand, needRoot, nsx, nsxJson, NSX_BIN, run, runLsns, REPO} from '../helpers/env.js'
import {childrenOf, TestProcesses, waitFor} from '../helpers/processes.js'
import type {NamespaceFields} from '../../src/ns/json-output.js'

/** A holder of the --json output (docs/namespaces.md: nsx ls), loosely: any kind's fields. */
interface Holder {
  kind: string
  pid?: number
  tid?: number
  fd?: number
  path?: string
  of?: number
}
/** One namespace of `nsx ls --json` (NamespaceFields, the schema's source), its holders read loosely. */
type NsRow = Omit<NamespaceFields, 'holders'> & {holders: Holder[]}

interface LsnsRow {
  ns: number
  type: string
  nprocs: number
  pid: number | null
  ppid?: number | null
  command?: string | null
  uid?: number | null
  user?: string | null
  pns?: number
  ons?: number
  children?: LsnsRow[]
}

/** lsns -J nests rows (tree by process, or --tree=...): flatten. */
function lsns(args: string[] = []): LsnsRow[] {
  const r = runLsns(['-J', ...args])
  assert.equal(r.status, 0, `lsns failed: ${r.stderr}`)
  const out: LsnsRow[] = []
  const walk = (rows: LsnsRow[]) => {
    for (const row of rows) {
      out.push(row)
      if (row.children) walk(row.children)
    }
  }
  walk((JSON.parse(r.stdout) as {namespaces: LsnsRow[]}).namespaces)
  return out
}

const ls = (args: string[] = []) => nsxJson<{namespaces: NsRow[]}>(['ls', ...args]).namespaces
const inodeOf = (pid: number | string, type: string) => statSync(`/proc/${pid}/ns/${type}`).ino
const find = (rows: NsRow[], ns: number) => rows.find((r) => r.ns === ns)
const key = (r: {ns: number; type: string; nprocs: number; pid: number | null}) => `${r.ns} ${r.type} ${r.nprocs} ${r.pid}`

/** Python helpers (python3 is on every Debian machine the tests run on). */
const HOLD_FD = 'import os,sys,time\nfd=os.open(sys.argv[1],os.O_RDONLY)\nprint(fd,flush=True)\ntime.sleep(100000)'
const THREAD_UNSHARE = `import ctypes,threading,time
libc=ctypes.CDLL(None,use_errno=True)
def run():
    if libc.unshare(0x40000000|0x04000000)!=0:
        print('unshare failed',ctypes.get_errno(),flush=True);return
    print(threading.get_native_id(),flush=True)
    time.sleep(100000)
threading.Thread(target=run,daemon=True).start()
time.sleep(100000)`

function killPid(pid: number | undefined): void {
  if (pid === undefined) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

/** The representative process's fields too: lsns and nsx must pick the same process and describe it alike. */
const LSNS_ALL = ['-o', 'NS,TYPE,NPROCS,PID,PPID,COMMAND,UID,USER']
// lsns turns the NULs a process left after its rewritten argv into trailing blanks; nsx drops them.
// lsns reads at most 8191 bytes of a command line (one buffer), nsx all of it: the executor's
// argv before it execs a container's command is longer (seen: 12,494 bytes).
const LSNS_COMMAND_MAX = 8191
const fullKey = (r: {ns: number; type: string; nprocs: number; pid: number | null; ppid?: number | null; command?: string | null; uid?: number | null; user?: string | null}) =>
  JSON.stringify([r.ns, r.type, r.nprocs, r.pid, r.ppid ?? null, r.command?.slice(0, LSNS_COMMAND_MAX).trimEnd() ?? null, r.uid ?? null, r.user ?? null])

test('every namespace lsns -J reports (stable across two lsns runs) is in nsx ls --json with the same ns, type, nprocs, pid, ppid, command, uid and user', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'lsns', 'util-linux')) return
  // Other tests on the machine create and destroy namespaces: retry on churn, but a real
  // mismatch fails every attempt.
  // Counts that match in both lsns runs can still have changed in between (a process that
  // comes and goes every few milliseconds): on a busy machine, a clean attempt may take a while.
  let last = 'the initial namespaces were never stable across two lsns runs'
  for (let attempt = 0; attempt < 20; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 200))
    const before = lsns(LSNS_ALL)
    const mine = ls()
    const after = lsns(LSNS_ALL)
    const afterKeys = new Set(after.map(fullKey))
    const stable = before.filter((r) => afterKeys.has(fullKey(r)))
    // Processes come and go in the initial namespaces too: then nothing to compare, try again.
    if (stable.length < 8) continue
    const byNs = new Map(mine.map((r) => [r.ns, r]))
    const missing = stable.filter((r) => {
      const m = byNs.get(r.ns)
      return m === undefined || fullKey(m) !== fullKey(r)
    })
    if (missing.length === 0) {
      // ...and never fewer: nsx may find more (threads, fds, mounts, ghosts).
      assert.ok(mine.length >= stable.length)
      return
    }
    last = missing.map((r) => `lsns: ${fullKey(r)}\n nsx: ${byNs.get(r.ns) ? fullKey(byNs.get(r.ns)!) : 'missing'}`).join('\n')
  }
  assert.fail(`nsx disagrees with lsns on stable namespaces:\n${last}`)
})

test('-p PID lists the namespaces lsns -p lists for that process, with the same counts', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'lsns', 'util-linux') || !needCommand(t, 'unshare', 'util-linux')) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const c = procs.spawn('unshare', ['--net', '--uts', 'sleep', '100000'])
  await waitFor(() => readlinkSync(`/proc/${c.pid}/ns/uts`) !== readlinkSync('/proc/self/ns/uts'), 5000, 'the new namespaces')
  const peer = lsns(['-p', String(c.pid)]).map((r) => r.ns).sort()
  const mine = ls(['-p', String(c.pid)])
  assert.deepEqual(mine.map((r) => r.ns).sort(), peer)
  assert.deepEqual(mine.find((r) => r.type === 'net')?.pids, [c.pid])
})

test('-t filters like lsns -t', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'lsns', 'util-linux')) return
  for (let attempt = 0; attempt < 20; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 200))
    const before = lsns(['-t', 'net']).map(key)
    const mine = ls(['-t', 'net'])
    const after = new Set(lsns(['-t', 'net']).map(key))
    assert.ok(mine.every((r) => r.type === 'net'))
    const mineKeys = new Set(mine.map(key))
    if (before.filter((k) => after.has(k)).every((k) => mineKeys.has(k))) return
  }
  assert.fail('nsx ls -t net disagrees with lsns -t net')
})

test('unshare --fork --pid --mount-proc: the pid namespace holds the child only, the mount namespace unshare and child, as lsns says', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const u = procs.spawn('unshare', ['--fork', '--pid', '--mount-proc', '--kill-child', 'sleep', '100000'])
  const upid = u.pid!
  await waitFor(() => childrenOf(upid).length === 1 && readlinkSync(`/proc/${childrenOf(upid)[0]}/ns/pid`) !== readlinkSync(`/proc/${upid}/ns/pid`), 5000, 'the child in its pid namespace')
  const child = childrenOf(upid)[0]
  const pidNs = inodeOf(child, 'pid')
  const mntNs = inodeOf(child, 'mnt')
  const rows = ls()
  const p = find(rows, pidNs)
  assert.ok(p, 'pid namespace missing')
  assert.equal(p.type, 'pid')
  assert.deepEqual(p.pids, [child])
  assert.equal(p.pns, inodeOf('self', 'pid'), 'parent of the new pid namespace is ours')
  assert.equal(p.ppid, upid)
  assert.match(p.command ?? '', /^sleep 100000$/)
  const m = find(rows, mntNs)
  assert.deepEqual(m?.pids, [upid, child].sort((a, b) => a - b))
  const l = lsns(['-o', 'NS,TYPE,NPROCS,PID,PNS,ONS'])
  const lp = l.find((r) => r.ns === pidNs)
  assert.ok(lp)
  assert.equal(key(p), key(lp))
  assert.equal(p.pns, lp.pns)
  assert.equal(p.ons, lp.ons)
})

test('a user namespace whose maps were written from outside owns the net namespace made inside it', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  // Started as uid 100000; the shell waits on stdin until root has written its maps, then,
  // root inside (100000 outside), makes a net namespace owned by the new user namespace.
  const c = procs.spawn('unshare', ['-U', 'sh', '-c', 'read x; exec unshare -n sleep 100000'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    uid: 100000,
    gid: 100000,
  })
  const pid = c.pid!
  const differs = (type: string) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/${type}`) !== readlinkSync(`/proc/self/ns/${type}`)
    } catch {
      return false
    }
  }
  await waitFor(() => differs('user'), 5000, 'the new user namespace')
  writeFileSync(`/proc/${pid}/uid_map`, '0 100000 1\n')
  writeFileSync(`/proc/${pid}/gid_map`, '0 100000 1\n')
  c.stdin!.write('go\n')
  await waitFor(() => differs('net'), 5000, 'the net namespace made inside')
  const userNs = inodeOf(pid, 'user')
  const netNs = inodeOf(pid, 'net')
  const rows = ls()
  const u = find(rows, userNs)
  assert.ok(u)
  assert.deepEqual(u.pids, [pid])
  assert.equal(u.pns, inodeOf('self', 'user'))
  assert.equal(u.ons, inodeOf('self', 'user'))
  const n = find(rows, netNs)
  assert.equal(n?.ons, userNs, 'the net namespace is owned by the new user namespace')
  // Root inside, uid 100000 outside: nsx, like lsns, shows the uid as seen from here.
  assert.equal(n?.uid, 100000)
  const l = lsns(['-o', 'NS,TYPE,NPROCS,PID,PNS,ONS'])
  assert.equal(l.find((r) => r.ns === netNs)?.ons, userNs)
  assert.equal(key(l.find((r) => r.ns === userNs)!), key(u))
})

/**
 * `ip netns add NAME` inside a private mount namespace of the test's own: iproute2 mounts
 * /run/netns and the namespace's file, and on the host's mount table that would be a change to the
 * host's mounts (/run/netns stays mounted after `ip netns delete`). The holder's exit ends both.
 * `inside` runs a command in that mount namespace, where /run/netns/NAME is the bind mount.
 */
async function ipNetnsAdd(t: import('node:test').TestContext, name: string): Promise<{file: string; inside: (cmd: string, args: string[]) => ReturnType<typeof run>}> {
  const procs = new TestProcesses()
  // ip makes /run/netns and an empty file for the mount on the shared filesystem: both go again.
  const hadDir = existsSync('/run/netns')
  t.after(async () => {
    await procs.killAll()
    // The bind mount ended with the mount namespace; the empty file it covered is the host's.
    rmSync(`/run/netns/${name}`, {force: true})
    if (!hadDir) {
      try {
        rmdirSync('/run/netns')
      } catch {
        // another test's namespace is in it: that test removes it
      }
    }
  })
  const {child, line} = await procs.spawnUntilLine('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `ip netns add ${name} && echo ready && exec sleep 100000`])
  assert.equal(line, 'ready')
  const holder = child.pid!
  const inside = (cmd: string, args: string[]) => run('nsenter', ['-t', String(holder), '-m', '--', cmd, ...args], {env: {...process.env, NO_COLOR: '1'}})
  return {file: `/proc/${holder}/root/run/netns/${name}`, inside}
}

/** nsx ls --json inside another mount namespace (see ipNetnsAdd). */
function lsInside(inside: (cmd: string, args: string[]) => ReturnType<typeof run>, args: string[]): NsRow[] {
  const r = inside(process.execPath, [NSX_BIN, 'ls', '--json', ...args])
  assert.equal(r.status, 0, r.stderr)
  return (JSON.parse(r.stdout) as {namespaces: NsRow[]}).namespaces
}

test('ip netns add: a namespace held only by a bind mount, with its path as holder, NSFS and PATH', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'ip', 'iproute2') || !needCommand(t, 'nsenter', 'util-linux')) return
  const name = `nsx-ls-test-${process.pid}`
  const {file, inside} = await ipNetnsAdd(t, name)
  const path = `/run/netns/${name}`
  const ino = statSync(file).ino
  const row = find(lsInside(inside, ['-t', 'net']), ino)
  assert.ok(row, 'bind-mounted netns missing')
  assert.equal(row.nprocs, 0)
  assert.equal(row.pid, null)
  assert.equal(row.path, path)
  assert.deepEqual(row.nsfs, [path])
  assert.deepEqual(
    row.holders.map((h) => [h.kind, h.path]),
    [['bind-mount', path]],
  )
  // lsns (2.38) lists only namespaces with processes: this is one nsx finds and it does not.
  const peer = inside('lsns', ['-J', '-t', 'net', '-o', 'NS'])
  assert.equal(JSON.parse(peer.stdout).namespaces.some((r: {ns: number}) => Number(r.ns) === ino), false)
  const table = inside(process.execPath, [NSX_BIN, 'ls', '-l', '-t', 'net', '-o', 'NS,NPROCS,NSFS,HOLDERS'])
  // NSFS is padded to the longest path on the host (other runtimes' namespaces may be longer).
  assert.match(table.stdout, new RegExp(`^${ino}\\s+0 ${path}\\s+mount ${path}$`, 'm'))
})

test('a bind mount in another mount namespace holds a namespace: found from that mount table, opened through /proc/PID/root', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const dir = mkdtempSync(join(tmpdir(), 'nsx-ls-bind-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const file = join(dir, 'netns')
  writeFileSync(file, '')
  // In a private mount namespace: make a net namespace, bind-mount it, let its process exit.
  const script = `unshare -n sleep 100000 & p=$!
while [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.02; done
mount --bind /proc/$p/ns/net ${file} && kill -9 $p && wait $p 2>/dev/null; echo ready; exec sleep 100000`
  const {child, line} = await procs.spawnUntilLine('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script])
  assert.equal(line, 'ready')
  const holder = child.pid!
  const ino = statSync(`/proc/${holder}/root${file}`).ino
  const row = find(ls(['-t', 'net']), ino)
  assert.ok(row, 'netns bind-mounted in another mount namespace missing')
  assert.equal(row.nprocs, 0)
  assert.deepEqual(row.holders, [{kind: 'bind-mount', path: file, mountPid: holder}])
  assert.deepEqual(row.nsfs, [file])
  assert.equal(row.path, `/proc/${holder}/root${file}`, 'the path must open it from nsx\'s mount namespace')
  assert.ok(row.ons !== null, 'opened for its owner through that path')
})

test('NETNSID: the id set with ip netns set, "unassigned" where none is, as lsns shows for namespaces with processes', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'ip', 'iproute2') || !needCommand(t, 'lsns', 'util-linux')) return
  const name = `nsx-ls-nsid-${process.pid}`
  const {file, inside} = await ipNetnsAdd(t, name)
  // Any free id will do; ids are per network namespace, so pick one nobody else is likely to use.
  let id = 0
  for (const candidate of [4000 + (process.pid % 1000), 5000 + (process.pid % 1000), 6000 + (process.pid % 1000)]) {
    if (inside('ip', ['netns', 'set', name, String(candidate)]).status === 0) {
      id = candidate
      break
    }
  }
  assert.ok(id > 0, 'could not assign an nsid')
  const ino = statSync(file).ino
  const rows = ls(['-t', 'net'])
  assert.equal(find(rows, ino)?.netnsid, id)
  assert.equal(find(rows, inodeOf('self', 'net'))?.netnsid, null, 'our own namespace has no id for itself')
  const table = nsx(['ls', '-l', '-n', '-t', 'net', '-o', 'NS,NETNSID'])
  assert.match(table.stdout, new RegExp(`^${ino}\\s+${id}$`, 'm'))
  assert.match(table.stdout, new RegExp(`^${inodeOf('self', 'net')}\\s+unassigned$`, 'm'))
  // lsns -J gives it as a string ("unassigned" or the number) for namespaces with processes.
  const peer = JSON.parse(runLsns(['-J', '-t', 'net', '-o', 'NS,NETNSID']).stdout).namespaces as {ns: number; netnsid: string | null}[]
  for (const p of peer) {
    const mine = find(rows, p.ns)
    if (mine === undefined || p.netnsid === null) continue // came or went meanwhile
    assert.equal(mine.netnsid === null ? 'unassigned' : String(mine.netnsid), String(p.netnsid), `netns ${p.ns}`)
  }
})

test('a namespace held only by an fd, after its creator exited, shows the holding pid and fd', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux') || !needCommand(t, 'python3', 'python3')) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const creator = procs.spawn('unshare', ['-n', 'sleep', '100000'])
  await waitFor(() => readlinkSync(`/proc/${creator.pid}/ns/net`) !== readlinkSync('/proc/self/ns/net'), 5000, 'the new netns')
  const netNs = inodeOf(creator.pid!, 'net')
  const {child: holder, line} = await procs.spawnUntilLine('python3', ['-c', HOLD_FD, `/proc/${creator.pid}/ns/net`])
  const fd = Number(line)
  creator.kill('SIGKILL')
  await new Promise((r) => creator.once('exit', r))
  const row = find(ls(), netNs)
  assert.ok(row, 'fd-held netns missing')
  assert.equal(row.nprocs, 0)
  assert.deepEqual(row.holders, [{kind: 'fd', pid: holder.pid, fd}])
  assert.equal(row.path, `/proc/${holder.pid}/fd/${fd}`)
  assert.equal(lsns().some((r) => r.ns === netNs), false, 'lsns 2.38 does not see fd-held namespaces')
  // -p names what a process holds, fds included.
  assert.ok(ls(['-p', String(holder.pid)]).some((r) => r.ns === netNs))
})

test('a thread that unshared its net and uts namespaces: they appear, held by that thread (lsns misses them)', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'python3', 'python3')) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const {child, line} = await procs.spawnUntilLine('python3', ['-c', THREAD_UNSHARE])
  const tid = Number(line)
  assert.ok(tid > 0, line)
  const pid = child.pid!
  const netNs = statSync(`/proc/${pid}/task/${tid}/ns/net`).ino
  const utsNs = statSync(`/proc/${pid}/task/${tid}/ns/uts`).ino
  assert.notEqual(netNs, inodeOf(pid, 'net'))
  const rows = ls()
  for (const ns of [netNs, utsNs]) {
    const row = find(rows, ns)
    assert.ok(row, `thread-level namespace ${ns} missing`)
    assert.equal(row.nprocs, 0)
    assert.deepEqual(row.holders, [{kind: 'thread', pid, tid}])
  }
  // The thread's other namespaces are its process's: no thread holder of this process there (other
  // processes on the host may have threads of their own apart, e.g. one whose main thread exited).
  assert.ok(!find(rows, inodeOf(pid, 'mnt'))?.holders.some((h) => h.kind === 'thread' && h.pid === pid))
  assert.equal(lsns().some((r) => r.ns === netNs), false)
})

test('unshare --pid without --fork: once its first child (the init) exited, the pid namespace has no process and is held as pid_for_children', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  // The kernel shows pid_for_children only once an init was forked into it; true is that init.
  const c = procs.spawn('unshare', ['--pid', 'sh', '-c', '/bin/true; exec sleep 100000'])
  const pid = c.pid!
  const forChildren = () => {
    try {
      return statSync(`/proc/${pid}/ns/pid_for_children`).ino
    } catch {
      return 0
    }
  }
  await waitFor(() => forChildren() !== 0 && forChildren() !== inodeOf(pid, 'pid'), 5000, 'the pid namespace for children')
  const ino = forChildren()
  const row = find(ls(['-t', 'pid']), ino)
  assert.ok(row, 'pid_for_children namespace missing')
  assert.equal(row.nprocs, 0)
  assert.deepEqual(row.holders, [{kind: 'for-children', pid}])
  assert.equal(row.path, `/proc/${pid}/ns/pid_for_children`)
  assert.equal(row.pns, inodeOf('self', 'pid'))
  assert.equal(lsns().some((r) => r.ns === ino), false, 'lsns 2.38 does not see it')
  const table = nsx(['ls', '-l', '-n', '-t', 'pid', '-o', 'NS,HOLDERS'])
  assert.match(table.stdout, new RegExp(`^${ino} pid_for_children of ${pid}$`, 'm'))
})

test('nested pid namespaces: each level names its parent; once all processes exit, an fd keeps the inner one and the outer is a ghost held as its parent', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux') || !needCommand(t, 'python3', 'python3')) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const outer = procs.spawn('unshare', ['--fork', '--pid', '--kill-child', 'unshare', '--fork', '--pid', '--kill-child', 'sleep', '100000'])
  const hostPid = inodeOf('self', 'pid')
  let sleeper = 0
  await waitFor(
    () => {
      // outer unshare -> inner unshare (pid ns 1) -> sleep (pid ns 2)
      const inner = childrenOf(outer.pid!)[0]
      const s = inner === undefined ? undefined : childrenOf(inner)[0]
      if (s === undefined) return false
      try {
        if (readlinkSync(`/proc/${s}/ns/pid`) === readlinkSync(`/proc/${inner}/ns/pid`)) return false
      } catch {
        return false
      }
      sleeper = s
      return true
    },
    5000,
    'the nested pid namespaces',
  )
  const inner = childrenOf(outer.pid!)[0]
  const p1 = inodeOf(inner, 'pid')
  const p2 = inodeOf(sleeper, 'pid')
  let rows = ls(['-t', 'pid'])
  assert.equal(find(rows, p1)?.pns, hostPid)
  assert.equal(find(rows, p2)?.pns, p1)
  // As lsns counts: a process is in the pid namespace its ns/pid names, the innermost.
  assert.deepEqual(find(rows, p1)?.pids, [inner])
  assert.deepEqual(find(rows, p2)?.pids, [sleeper])

  const {child: holder, line} = await procs.spawnUntilLine('python3', ['-c', HOLD_FD, `/proc/${sleeper}/ns/pid`])
  const fd = Number(line)
  // Kill the first level's init: every process in its namespace dies with it, and the outer
  // unshare (its parent, ours) reaps it at once, so no orphan waits for a slow pid 1.
  process.kill(inner, 'SIGKILL')
  // Until reaped, a dead init still names its pid namespace: wait until both are gone.
  const gone = (pid: number) => {
    try {
      statSync(`/proc/${pid}`)
      return false
    } catch {
      return true
    }
  }
  await waitFor(() => gone(sleeper) && gone(inner), 10000, 'the nested processes to exit')
  rows = ls(['-t', 'pid'])
  const inner2 = find(rows, p2)
  assert.ok(inner2, 'fd-held inner pid namespace missing')
  assert.deepEqual(inner2.holders, [{kind: 'fd', pid: holder.pid, fd}])
  assert.equal(inner2.pns, p1)
  const ghost = find(rows, p1)
  assert.ok(ghost, 'the outer pid namespace, held only as a parent, is missing')
  assert.equal(ghost.nprocs, 0)
  assert.deepEqual(ghost.holders, [{kind: 'parent', of: p2}])
  assert.equal(ghost.pns, hostPid)
  assert.equal(ghost.path, null)
  // The tree by parent draws host -> ghost -> inner.
  const tree = nsx(['ls', '--tree=parent', '-t', 'pid', '-o', 'NS,NPROCS,HOLDERS'])
  assert.equal(tree.status, 0, tree.stderr)
  assert.match(tree.stdout, new RegExp(`^${hostPid} .*\\n(.*\\n)*[├└]─${p1} +0 parent of ${p2}\\n *[│ ] └─${p2} +0 fd ${fd} of ${holder.pid}$`, 'm'))
})

test('a user namespace whose creator exited, kept only by its child user namespace, is listed as lsns --tree=parent lists it', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  // The outer shell (root in U1) starts a process in U2 and exits; nothing is in U1 any more.
  const started = run('unshare', ['-U', '-r', 'sh', '-c', 'unshare -U sleep 100000 </dev/null >/dev/null 2>&1 & echo $!'])
  const sleeper = Number(started.stdout.trim())
  assert.ok(sleeper > 0, started.stderr)
  t.after(() => killPid(sleeper))
  await waitFor(() => {
    try {
      return readlinkSync(`/proc/${sleeper}/exe`).endsWith('/sleep')
    } catch {
      return false
    }
  }, 5000, 'sleep in the nested user namespace')
  const u2 = inodeOf(sleeper, 'user')
  const row2 = find(ls(['-t', 'user']), u2)
  assert.ok(row2)
  const u1 = row2.pns
  assert.ok(u1 !== null && u1 !== inodeOf('self', 'user'))
  const ghost = find(ls(['-t', 'user']), u1)
  assert.ok(ghost, 'ghost user namespace missing')
  assert.equal(ghost.nprocs, 0)
  assert.deepEqual(ghost.holders, [{kind: 'parent', of: u2}])
  assert.equal(ghost.ons, inodeOf('self', 'user'))
  const peer = lsns(['--tree=parent', '-t', 'user', '-o', 'NS,TYPE,NPROCS,PID,PNS']).find((r) => r.ns === u1)
  assert.ok(peer, 'lsns --tree=parent shows it too')
  assert.equal(peer.nprocs, 0)
})

test('processes that exit during the scan are skipped silently', async (t) => {
  if (!needRoot(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  // A shell that forks short-lived processes as fast as it can.
  procs.spawn('sh', ['-c', 'while :; do /bin/true; done'])
  for (let i = 0; i < 5; i++) {
    const r = nsx(['ls', '--json'])
    assert.equal(r.status, 0, r.stderr)
    JSON.parse(r.stdout)
    assert.doesNotMatch(r.stderr, /ENOENT|ESRCH|at /, r.stderr)
    // At most the summary of what nsx may not read.
    assert.ok(r.stderr === '' || /^nsx ls: permission denied reading [^\n]+\n$/.test(r.stderr), r.stderr)
  }
})

test('without privileges, what cannot be read is summarised in one stderr line, and the rest is listed', (t) => {
  if (!needRoot(t) || !needCommand(t, 'setpriv', 'util-linux')) return
  const r = run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, `${REPO}/bin/nsx`, 'ls', '--json'], {
    // HOME elsewhere: oclif would warn that nobody cannot read root's data directory.
    env: {...process.env, NO_COLOR: '1', HOME: '/nonexistent'},
  })
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, r.stderr)
  assert.match(lines[0], /^nsx ls: permission denied reading \d+ process(es)?/)
  assert.match(lines[0], /run as root/, 'not root: the hint belongs there')
  const rows = (JSON.parse(r.stdout) as {namespaces: NsRow[]}).namespaces
  assert.ok(rows.length > 0)
})

test('the default table is a tree by process with lsns\'s columns plus HOLDERS; -l -n -o chooses', (t) => {
  if (!needRoot(t)) return
  const r = nsx(['ls'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout.split('\n')[0], /^\s+NS TYPE\s+NPROCS\s+PID USER\s+HOLDERS\s+COMMAND$/)
  const l = nsx(['ls', '-l', '-n', '-o', 'ns,type', '-t', 'pid'])
  assert.equal(l.status, 0, l.stderr)
  const self = inodeOf('self', 'pid')
  assert.match(l.stdout, new RegExp(`^${self} pid$`, 'm'))
  assert.doesNotMatch(l.stdout, /NS|mnt|net/)
  // No colour when stdout is not a terminal.
  assert.doesNotMatch(nsx(['ls'], {env: {...process.env, NO_COLOR: ''}}).stdout, /\u001b\[/)
})

test('a reader that goes away (nsx ls | head -1) ends nsx quietly, with status 0', async (t) => {
  if (!needRoot(t)) return
  // The reader is gone before nsx writes: its write fails with EPIPE, which must end it quietly.
  for (const args of [['ls', '--json'], ['ls', '-l']]) {
    const procs = new TestProcesses()
    const child = procs.spawn(process.execPath, [join(REPO, 'bin/nsx'), ...args], {env: {...process.env, NO_COLOR: '1'}})
    child.stdout!.destroy()
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    await procs.killAll()
    assert.equal(status, 0, `nsx ${args.join(' ')}: ${stderr}`)
    assert.doesNotMatch(stderr, /EPIPE|Error|at /)
  }
})

test('bad input: one line on stderr naming the problem (and the valid names), exit 1', async (t) => {
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const gone = procs.spawn('true', [])
  await new Promise((r) => gone.once('exit', r))
  const cases: [string[], RegExp][] = [
    [['-p', 'abc'], /no such process or container: abc/],
    [['-p', '-5'], /invalid pid|expected/],
    [['-p', '0'], /invalid pid '0'/],
    [['-p', '4194304'], /no such process: 4194304/],
    [['-p', String(gone.pid)], new RegExp(`no such process: ${gone.pid}`)],
    [['-t', 'bogus'], /unknown namespace type 'bogus' \(valid: mnt, net, pid, user, uts, ipc, cgroup, time\)/],
    [['-o', 'NS,BOGUS'], /unknown column 'BOGUS' \(valid: NS, TYPE, PATH, NPROCS, PID, PPID, COMMAND, UID, USER, NETNSID, NSFS, PNS, ONS, HOLDERS, ADDRESSES\)/],
    [['--tree=sideways'], /unknown tree 'sideways' \(valid: process, parent, owner\)/],
    [['not-an-inode'], /invalid namespace 'not-an-inode'/],
    [['12345'], /no namespace with inode 12345/],
    [['-l', '--tree=parent'], /--tree cannot be combined with --list/],
    [['--bogus-flag'], /bogus-flag/],
  ]
  for (const [args, pattern] of cases) {
    const r = nsx(['ls', ...args])
    assertOneLineError(r, 1, pattern)
    assert.equal(r.stdout, '', `stdout for ${args.join(' ')}`)
  }
})

test('-p ZOMBIE lists its pid and user namespaces, the links a zombie keeps, as lsns -p does', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'lsns', 'util-linux')) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  // sleep never reaps the child its shell left it: a zombie until sleep is killed.
  const parent = procs.spawn('sh', ['-c', '/bin/true & exec sleep 100000'])
  let zombie = 0
  await waitFor(() => {
    zombie = childrenOf(parent.pid!)[0] ?? 0
    try {
      return zombie > 0 && /^State:\s+Z/m.test(readFileSync(`/proc/${zombie}/status`, 'utf8')) && readlinkSync(`/proc/${parent.pid}/exe`).endsWith('/sleep')
    } catch {
      return false
    }
  }, 5000, 'the zombie')
  const mine = ls(['-p', String(zombie)])
  assert.deepEqual(mine.map((r) => r.type).sort(), ['pid', 'user'])
  assert.deepEqual(mine.map((r) => r.ns).sort(), lsns(['-p', String(zombie)]).map((r) => r.ns).sort())
  assert.ok(mine.every((r) => r.pids.includes(zombie)))
})
