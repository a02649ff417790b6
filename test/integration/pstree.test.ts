import {test, TestContext} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {assertOneLineError, needCommand, needRoot, nsx, nsxJson, run} from '../helpers/env.js'
import {TestProcesses, childrenOf, waitFor} from '../helpers/processes.js'
import type {ProcessNode, ProcessTree} from '../../src/pidns/tree.js'
import {describeByIoctl} from '../../src/pidns/relations.js'

// Real nested pid namespaces, compared with pstree -S -p (psmisc) and with what the kernel says
// in /proc/PID/status (NSpid) and /proc/PID/ns/pid. Every test compares only processes it started.

function ready(t: TestContext): boolean {
  return needRoot(t) && needCommand(t, 'pstree', 'psmisc') && needCommand(t, 'unshare', 'util-linux') &&
    needCommand(t, 'nsenter', 'util-linux') && needCommand(t, 'setpriv', 'util-linux')
}

const nsInode = (pid: number, type = 'pid') => Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${type}`))![1])
const nspidOf = (pid: number) =>
  /^NSpid:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1].trim().split(/\s+/).map(Number)

function descendants(pid: number): number[] {
  const out: number[] = []
  const walk = (p: number) => {
    for (const c of childrenOf(p)) {
      out.push(c)
      walk(c)
    }
  }
  walk(pid)
  return out
}

function flatten(nodes: ProcessNode[], out: ProcessNode[] = []): ProcessNode[] {
  for (const n of nodes) {
    out.push(n)
    flatten(n.children, out)
  }
  return out
}

function edgesOf(nodes: ProcessNode[]): Map<number, number[]> {
  return new Map(flatten(nodes).map((n) => [n.pid, n.children.map((c) => c.pid).sort((a, b) => a - b)]))
}

interface PstreeProc {
  pid: number
  name: string
  marks: string[]
  children: number[]
}

/**
 * Parse `pstree -S -p -a -c -l -T PID`: one process per line ("  |-name,pid,mnt,net args"),
 * so indentation gives the parent, -c stops compaction, -l truncation, -T hides threads.
 * A name may hold spaces (npm sets its title to "npm test").
 */
function pstree(args: string[]): Map<number, PstreeProc> {
  const r = run('pstree', ['-S', '-p', '-a', '-c', '-l', '-T', ...args], {env: {...process.env, LANG: 'C', LC_ALL: 'C'}})
  assert.equal(r.status, 0, `pstree failed: ${r.stderr}`)
  const procs = new Map<number, PstreeProc>()
  const stack: {indent: number; pid: number}[] = []
  for (const line of r.stdout.split('\n')) {
    const m = /^([ |`-]*)(.+?),(\d+)((?:,[a-z]+)*)(?: |$)/.exec(line)
    if (!m) continue
    const indent = m[1].length
    const pid = Number(m[3])
    while (stack.length > 0 && stack[stack.length - 1].indent >= indent) stack.pop()
    const parent = stack[stack.length - 1]
    if (parent) procs.get(parent.pid)!.children.push(pid)
    procs.set(pid, {pid, name: m[2], marks: m[4].split(',').filter(Boolean), children: []})
    stack.push({indent, pid})
  }
  return procs
}

/**
 * outer unshare (new pid, mnt, uts, net) -> sh (pid 1) -> 2 sleeps and an inner unshare
 * (new user, pid, mnt) -> sh (pid 1 again) -> 2 sleeps. Ready when all 8 processes exist.
 */
async function nested(t: TestContext): Promise<{top: number; outerInit: number; innerInit: number; procs: TestProcesses}> {
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const inner = 'sleep 1000 & sleep 1000 & wait'
  const outer = `sleep 1000 & sleep 1000 & unshare --user --map-root-user --pid --fork --mount-proc --kill-child sh -c '${inner}' & wait`
  const child = procs.spawn('unshare', ['--pid', '--fork', '--mount-proc', '--uts', '--net', '--kill-child', 'sh', '-c', outer])
  const top = child.pid!
  await waitFor(() => descendants(top).length === 7, 10000, 'the nested namespaces to be set up')
  const outerInit = childrenOf(top)[0]
  const innerUnshare = childrenOf(outerInit).find((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'unshare')!
  const innerInit = childrenOf(innerUnshare)[0]
  return {top, outerInit, innerInit, procs}
}

test('same processes and parent/child relations as pstree -S -p, and the same namespace marks', async (t) => {
  if (!ready(t)) return
  const {top} = await nested(t)
  const tree = nsxJson<ProcessTree>(['pstree', String(top)])
  const peer = pstree([String(top)])
  assert.equal(peer.size, 8)
  const ours = edgesOf(tree.processes)
  assert.deepEqual([...ours.keys()].sort(), [...peer.keys()].sort(), 'same host pids')
  for (const [pid, p] of peer) assert.deepEqual(ours.get(pid), [...p.children].sort((a, b) => a - b), `children of ${pid}`)
  // pstree -S marks what differs from the parent; it prints nothing for the top process.
  for (const n of flatten(tree.processes)) {
    if (n.pid === top) continue
    assert.deepEqual([...n.nsChanges].sort(), [...peer.get(n.pid)!.marks].sort(), `namespace marks of ${n.name}(${n.pid})`)
  }
})

test('every process shows the pids the kernel gives it in each namespace and its own pid namespace', async (t) => {
  if (!ready(t)) return
  const {top, outerInit, innerInit} = await nested(t)
  const tree = nsxJson<ProcessTree>(['pstree', String(top)])
  for (const n of flatten(tree.processes)) {
    assert.deepEqual(n.nspid, nspidOf(n.pid), `NSpid of ${n.pid}`)
    assert.equal(n.pidns, nsInode(n.pid), `pid namespace of ${n.pid}`)
    assert.equal(n.level, n.nspid.length - 1)
  }
  const outer = tree.namespaces.find((ns) => ns.inode === nsInode(outerInit))!
  const inner = tree.namespaces.find((ns) => ns.inode === nsInode(innerInit))!
  assert.deepEqual(nspidOf(outerInit).slice(1), [1])
  assert.equal(outer.init, outerInit)
  assert.equal(inner.init, innerInit)
  assert.equal(outer.level, 1)
  assert.equal(inner.level, 2)
  assert.equal(inner.parent, outer.inode, 'NS_GET_PARENT of the inner namespace')
  assert.equal(outer.parent, nsInode(process.pid), 'NS_GET_PARENT of the outer namespace')
  // The inner namespace was made together with a user namespace: that one owns it.
  assert.deepEqual(inner.owner, {inode: nsInode(innerInit, 'user'), uid: 0})
  assert.deepEqual(outer.owner, {inode: nsInode(process.pid, 'user'), uid: 0})
  assert.equal(outer.processes, 4)
  assert.equal(inner.processes, 3)
})

test('the text view nests each process below the boundary line of its own pid namespace', async (t) => {
  if (!ready(t)) return
  const {top} = await nested(t)
  const r = nsx(['pstree', String(top)])
  assert.equal(r.status, 0, r.stderr)
  const boundaries: {indent: number; inode: number; level: number}[] = []
  let seen = 0
  for (const line of r.stdout.trimEnd().split('\n')) {
    const b = /^([ │├└─|`-]*)pid:\[(\d+)\] level (\d+)/.exec(line)
    if (b) {
      while (boundaries.length > 0 && boundaries[boundaries.length - 1].indent >= b[1].length) boundaries.pop()
      boundaries.push({indent: b[1].length, inode: Number(b[2]), level: Number(b[3])})
      continue
    }
    const p = /^([ │├└─|`-]*)[^(]+\(([\d/]+)\)/.exec(line)
    assert.ok(p, `unexpected line: ${line}`)
    while (boundaries.length > 0 && boundaries[boundaries.length - 1].indent >= p[1].length) boundaries.pop()
    const pids = p[2].split('/').map(Number)
    const own = boundaries[boundaries.length - 1]
    assert.deepEqual(pids, nspidOf(pids[0]), `pids shown for ${line.trim()}`)
    assert.equal(own.inode, nsInode(pids[0]), `boundary above ${line.trim()}`)
    assert.equal(own.level, pids.length - 1)
    seen++
  }
  assert.equal(seen, 8)
})

test('--ns shows a namespace from its init and from a process that joined it with nsenter', async (t) => {
  if (!ready(t)) return
  const {outerInit, procs} = await nested(t)
  const joiner = procs.spawn('nsenter', ['--target', String(outerInit), '--pid', '--', 'sleep', '1000'])
  await waitFor(() => childrenOf(joiner.pid!).length === 1, 5000, 'nsenter to fork into the namespace')
  const joined = childrenOf(joiner.pid!)[0]
  const inode = nsInode(outerInit)
  const tree = nsxJson<ProcessTree>(['pstree', '--ns', `pid:[${inode}]`])
  assert.deepEqual(tree.processes.map((p) => p.pid), [outerInit, joined].sort((a, b) => a - b))
  // Everything in the namespace (and in namespaces below it) and nothing else.
  const expected = [outerInit, ...descendants(outerInit), joined].sort((a, b) => a - b)
  assert.deepEqual(flatten(tree.processes).map((n) => n.pid).sort((a, b) => a - b), expected)
  const viaInode = nsxJson<ProcessTree>(['pstree', '--ns', String(inode)])
  assert.deepEqual(viaInode.processes.map((p) => p.pid), tree.processes.map((p) => p.pid))
})

test('-s shows the chain of ancestors that pstree -s shows', async (t) => {
  if (!ready(t)) return
  const {innerInit} = await nested(t)
  const tree = nsxJson<ProcessTree>(['pstree', '-s', String(innerInit)])
  const peer = pstree(['-s', String(innerInit)])
  const ours = edgesOf(tree.processes)
  assert.deepEqual([...ours.keys()].sort(), [...peer.keys()].sort())
  for (const [pid, p] of peer) assert.deepEqual(ours.get(pid), [...p.children].sort((a, b) => a - b), `children of ${pid}`)
})

test('owner uid of a pid namespace made by an unprivileged user is that user (NS_GET_OWNER_UID)', async (t) => {
  if (!ready(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const child = procs.spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'unshare', '--user', '--map-root-user', '--pid', '--fork', '--kill-child', 'sleep', '1000'])
  await waitFor(() => childrenOf(child.pid!).length === 1, 5000, 'the unprivileged namespace')
  const sleeper = childrenOf(child.pid!)[0]
  const tree = nsxJson<ProcessTree>(['pstree', String(child.pid)])
  const ns = tree.namespaces.find((n) => n.inode === nsInode(sleeper))!
  assert.deepEqual(ns.owner, {inode: nsInode(sleeper, 'user'), uid: 65534})
  assert.match(nsx(['pstree', String(child.pid)]).stdout, new RegExp(`pid:\\[${ns.inode}\\] level 1, owner user:\\[${ns.owner!.inode}\\] uid 65534`))
})

test('-u marks a uid change as pstree -u does, and -a shows the command line', async (t) => {
  if (!ready(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const sh = procs.spawn('sh', ['-c', 'setpriv --reuid=65534 --regid=65534 --clear-groups sleep 1001 & wait'])
  await waitFor(() => childrenOf(sh.pid!).some((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sleep'), 5000, 'the sleeper')
  const sleeper = childrenOf(sh.pid!)[0]
  // Killing sh alone would orphan the sleeper: end it too, by pid.
  t.after(() => {
    try {
      process.kill(sleeper, 'SIGKILL')
    } catch {
      // already gone
    }
  })
  const peer = run('pstree', ['-p', '-u', String(sh.pid)]).stdout
  assert.match(peer, new RegExp(`sleep\\(${sleeper},nobody\\)`))
  const ours = nsx(['pstree', '-u', '-a', String(sh.pid)])
  assert.equal(ours.status, 0, ours.stderr)
  assert.match(ours.stdout, new RegExp(`sleep\\(${sleeper},nobody\\) 1001\\n`))
  assert.match(ours.stdout, new RegExp(`sh\\(${sh.pid}\\) -c 'setpriv --reuid=65534`))
})

test('a zombie is shown as <defunct>, and may itself be the PID asked for', async (t) => {
  if (!ready(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  // sh forks a short sleep, then becomes a long sleep that never reaps it.
  const parent = procs.spawn('sh', ['-c', 'sleep 0 & exec sleep 1000'])
  const zombieState = () => childrenOf(parent.pid!).some((p) => /^State:\s+Z/m.test(readFileSync(`/proc/${p}/status`, 'utf8')))
  await waitFor(zombieState, 5000, 'the zombie')
  const zombie = childrenOf(parent.pid!)[0]
  const r = nsx(['pstree', String(parent.pid)])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, new RegExp(`sleep\\(${zombie}\\) <defunct>`))
  const tree = nsxJson<ProcessTree>(['pstree', String(zombie)])
  assert.equal(tree.processes[0].state, 'Z')
  assert.match(run('pstree', ['-p', String(parent.pid)]).stdout, new RegExp(`\\(${zombie}\\)`), 'pstree shows it too')
})

test('--threads lists the threads pstree -p lists, with their tids; by default only a count', async (t) => {
  if (!ready(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const {child} = await procs.spawnUntilLine(process.execPath, ['-e', 'console.log("up"); setInterval(() => {}, 1000)'])
  const pid = child.pid!
  const tids = readdirSync(`/proc/${pid}/task`).map(Number).filter((x) => x !== pid).sort((a, b) => a - b)
  assert.ok(tids.length > 0, 'node has threads')
  const tree = nsxJson<ProcessTree>(['pstree', '--threads', String(pid)])
  assert.deepEqual(tree.processes[0].threadList!.map((th) => th.tid).sort((a, b) => a - b), tids)
  const peer = run('pstree', ['-p', String(pid)]).stdout
  const peerTids = [...peer.matchAll(/\{[^}]*\}\((\d+)\)/g)].map((m) => Number(m[1])).sort((a, b) => a - b)
  assert.deepEqual(peerTids, tids)
  assert.match(nsx(['pstree', String(pid)]).stdout, new RegExp(`node\\(${pid}\\) \\{${tids.length + 1} threads\\}`))
})

test('the whole host starts at pid 1, like pstree, and hides kernel threads', (t) => {
  if (!ready(t)) return
  const tree = nsxJson<ProcessTree>(['pstree'])
  assert.equal(tree.processes[0].pid, 1)
  const all = flatten(tree.processes)
  assert.ok(all.some((n) => n.pid === process.pid), 'this test process is in the tree')
  assert.ok(!all.some((n) => n.pid === 2), 'kthreadd is not')
})

test('bad PIDs and namespaces: one line on stderr, exit 1, no stack trace', async (t) => {
  if (!ready(t)) return
  const exited = run('sh', ['-c', 'echo $$']).stdout.trim()
  assert.ok(!existsSync(`/proc/${exited}`))
  const thread = readdirSync(`/proc/${process.pid}/task`).map(Number).find((x) => x !== process.pid)!
  const cases: [string[], RegExp][] = [
    [['abc'], /no such process or container: abc/],
    [['-1'], /invalid pid '-1'/],
    [['12x'], /no such process or container: 12x/],
    [['99999999'], /invalid pid '99999999'/],
    [[exited], new RegExp(`no such process: ${exited}`)],
    [['2'], /process 2 \(kthreadd\) is a kernel thread/],
    [[String(thread)], new RegExp(`${thread} is a thread of process ${process.pid}`)],
    [['--ns', 'abc'], /invalid pid namespace 'abc'/],
    [['--ns', '123'], /no process lives in pid namespace 123 \(pid namespaces: \d+/],
    [['--ns', String(nsInode(process.pid, 'net'))], /is a net namespace, not a pid namespace/],
    [['1', '--ns', String(nsInode(process.pid))], /give a PID or --ns, not both/],
    [['-s'], /--show-parents needs a PID/],
    [['--bogus'], /--bogus/],
  ]
  for (const [args, pattern] of cases) {
    const r = nsx(['pstree', ...args])
    assertOneLineError(r, 1, pattern)
    assert.equal(r.stdout, '', `nothing on stdout for ${args.join(' ')}`)
    assertOneLineError(nsx(['pstree', ...args, '--json']), 1, pattern)
  }
})

test('a process the caller may not inspect is refused; the whole tree still shows, with one summary line', async (t) => {
  if (!ready(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const {child} = await procs.spawnUntilLine('sh', ['-c', 'echo up; exec sleep 1000'])
  // oclif looks for user plugins under $HOME: give the unprivileged run nobody's home (which does not exist), not root's.
  const home = '/nonexistent'
  const asNobody = (args: string[]) =>
    run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(process.cwd(), 'bin/nsx'), ...args], {
      env: {...process.env, HOME: home, NO_COLOR: '1'},
      cwd: '/',
    })
  assertOneLineError(asNobody(['pstree', String(child.pid)]), 1, new RegExp(`process ${child.pid}: permission denied reading /proc/${child.pid}/ns \\(run as root or as its owner\\)$`))
  const whole = asNobody(['pstree'])
  assert.equal(whole.status, 0, whole.stderr)
  assert.match(whole.stdout, new RegExp(`\\(${child.pid}\\)`))
  assert.match(whole.stderr, /^nsx pstree: permission denied reading \d+ \/proc\/PID\/ns director(y|ies) \(run as root to see everything\)\n$/)
})

test('--help goes through oclif; the oclif command gives the same tree as the fast path', async (t) => {
  if (!ready(t)) return
  const help = nsx(['pstree', '--help'])
  assert.equal(help.status, 0, help.stderr)
  assert.match(help.stdout, /USAGE\n\s+\$ nsx pstree \[PID\]/)
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const {child} = await procs.spawnUntilLine('sh', ['-c', 'echo up; exec sleep 1000'])
  const fast = nsxJson<ProcessTree>(['pstree', '-s', String(child.pid)])
  const viaOclif = run(process.execPath, ['--input-type=module', '-e', `
    import {run, flush} from '@oclif/core'
    await run(['pstree', '-s', '--json', '${child.pid}'], '${join(process.cwd(), 'package.json')}')
    await flush()`])
  assert.equal(viaOclif.status, 0, viaOclif.stderr)
  const slow = JSON.parse(viaOclif.stdout) as ProcessTree
  assert.deepEqual(edgesOf(slow.processes), edgesOf(fast.processes))
  assert.deepEqual(flatten(slow.processes).map((n) => n.nspid), flatten(fast.processes).map((n) => n.nspid))
  assert.deepEqual(slow.namespaces, fast.namespaces)
})

test('a reader that goes away early (nsx pstree | head) ends nsx quietly with status 0', async (t) => {
  if (!ready(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const child = procs.spawn(process.execPath, [join(process.cwd(), 'bin/nsx'), 'pstree', '-a', String(process.pid)], {env: {...process.env, NO_COLOR: '1'}})
  child.stdout!.destroy()
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  assert.equal(stderr, '')
  assert.equal(status, 0)
})

test('the owner and parent questions go to the namespace asked about, never to a reused pid', (t) => {
  if (!ready(t)) return
  const describe = describeByIoctl()
  const own = describe(process.pid, nsInode(process.pid))
  assert.deepEqual(own.owner, {inode: nsInode(process.pid, 'user'), uid: 0})
  // The link says one namespace, the pid now holds another (as after pid reuse): no answer.
  assert.deepEqual(describe(process.pid, nsInode(process.pid) + 1), {})
  assert.deepEqual(describe(4194303, 4026531836), {}, 'a pid that does not exist')
})

test('the CLI reads the /proc it is pointed at (NSX_PROC_ROOT): fixture tree in, the same tree out', (t) => {
  if (!ready(t)) return
  const env = {NSX_PROC_ROOT: join(process.cwd(), 'test/unit/fixtures/pstree-nested/proc'), LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', LC_CTYPE: ''}
  const r = nsx(['pstree', '63'], {env})
  assert.equal(r.status, 0, r.stderr)
  // The fixture's links are not nsfs files: no owner, and the parent comes from the tree.
  assert.equal(
    r.stdout,
    `pid:[4026532300] level 1, parent pid:[4026531836]
└─unshare(63/3) [mnt,user]
  └─pid:[4026532400] level 2
    └─sh(64/4/1)
      └─sleep(65/5/2) <defunct>
`,
  )
  assertOneLineError(nsx(['pstree', '3'], {env}), 1, /process 3 \(kworker\/0:1\) is a kernel thread/)
  const empty = mkdtempSync(join(tmpdir(), 'nsx-pstree-'))
  t.after(() => rmSync(empty, {recursive: true, force: true}))
  assertOneLineError(nsx(['pstree'], {env: {NSX_PROC_ROOT: empty}}), 1, /no processes in .*: is procfs mounted there\?/)
})
