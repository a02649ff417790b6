import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {REPO} from '../helpers/env.js'
import {parseStatus} from '../../src/proc/process.js'
import {ProcSnapshot} from '../../src/pidns/snapshot.js'
import {ProcessNode, buildTree, inferPidNs, parsePidNsArg} from '../../src/pidns/tree.js'
import type {DescribePidNs} from '../../src/pidns/relations.js'
import {NsxError} from '../../src/cli/errors.js'

// A host with a container (pid ns X = 4026532300, init 61) holding a nested user+pid namespace
// (Y = 4026532400, init 64), a process nsenter'd into X from a login shell, a zombie, kernel
// threads with a usermode helper, and a process whose namespace links cannot be read.
const PROC = join(REPO, 'test/unit/fixtures/pstree-nested/proc')
const HOST = 4026531836
const X = 4026532300
const Y = 4026532400

const snapshot = () => ProcSnapshot.read(PROC)

/** pid -> list of child pids, for comparing structure. */
function edges(nodes: ProcessNode[], out = new Map<number, number[]>()): Map<number, number[]> {
  for (const n of nodes) {
    out.set(n.pid, n.children.map((c) => c.pid))
    edges(n.children, out)
  }
  return out
}

function flatten(nodes: ProcessNode[], out: ProcessNode[] = []): ProcessNode[] {
  for (const n of nodes) {
    out.push(n)
    flatten(n.children, out)
  }
  return out
}

function find(nodes: ProcessNode[], pid: number): ProcessNode | undefined {
  for (const n of nodes) {
    if (n.pid === pid) return n
    const f = find(n.children, pid)
    if (f) return f
  }
  return undefined
}

test('parseStatus tells a zombie (no VmSize) from a kernel thread, using the Kthread field when there is one', () => {
  const zombie = parseStatus('Name:\tsleep\nState:\tZ (zombie)\nPid:\t65\nPPid:\t64\nKthread:\t0\n')
  assert.equal(zombie.kernelThread, false)
  assert.equal(zombie.state, 'Z')
  // Kernels before the Kthread field: no VmSize means kernel thread, unless it is a zombie.
  assert.equal(parseStatus('Name:\tsleep\nState:\tZ (zombie)\nPid:\t65\n').kernelThread, false)
  assert.equal(parseStatus('Name:\tkworker/0:1\nState:\tI (idle)\nPid:\t3\n').kernelThread, true)
  assert.equal(parseStatus('Name:\tkthreadd\nState:\tS\nPid:\t2\nKthread:\t1\nVmSize:\t0 kB\n').kernelThread, true)
})

test('the snapshot leaves kernel threads out but keeps zombies and remembers kernel thread pids', () => {
  const snap = snapshot()
  assert.deepEqual([...snap.processes.keys()], [1, 50, 51, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 80, 90, 91, 95, 96])
  assert.deepEqual([...snap.kernelThreads], [2, 3])
  assert.equal(snap.processes.get(65)?.status.state, 'Z')
  assert.deepEqual(snap.childrenOf(61), [62, 63, 68])
})

test('the default tree starts at pid 1 and hides the usermode helper under kthreadd, as pstree does', () => {
  const tree = buildTree(snapshot())
  // 95 and 96 name each other as parent: neither is a top process.
  assert.deepEqual(tree.processes.map((p) => p.pid), [1])
  assert.deepEqual(
    [...edges(tree.processes).entries()],
    [
      [1, [50, 60, 70, 90]],
      [50, [51]],
      [51, [66]],
      [66, [67]],
      [67, []],
      [60, [61]],
      [61, [62, 63, 68]],
      [62, []],
      [63, [64]],
      [64, [65]],
      [65, []],
      [68, [69]],
      [69, []],
      [70, [71, 72]],
      [71, [73]],
      [73, []],
      [72, []],
      [90, [91]],
      [91, []],
    ],
  )
  assert.equal(find(tree.processes, 80), undefined)
})

test('every process carries its pids in each pid namespace, outermost first, and its level', () => {
  const tree = buildTree(snapshot())
  const sleep = find(tree.processes, 65)!
  assert.deepEqual(sleep.nspid, [65, 5, 2])
  assert.equal(sleep.level, 2)
  assert.equal(sleep.pidns, Y)
  assert.equal(sleep.state, 'Z')
  assert.deepEqual(find(tree.processes, 67)!.nspid, [67, 7])
  assert.equal(find(tree.processes, 67)!.pidns, X)
})

test('namespace changes are listed against the parent, for every type that differs', () => {
  const tree = buildTree(snapshot())
  assert.deepEqual(find(tree.processes, 61)!.nsChanges, ['mnt', 'net', 'pid', 'uts', 'ipc'])
  assert.deepEqual(find(tree.processes, 63)!.nsChanges, ['mnt', 'user'])
  assert.deepEqual(find(tree.processes, 64)!.nsChanges, ['pid'])
  assert.deepEqual(find(tree.processes, 62)!.nsChanges, [])
  // nsenter's child joined every namespace of the container except user and cgroup and time.
  assert.deepEqual(find(tree.processes, 67)!.nsChanges, ['mnt', 'net', 'pid', 'uts', 'ipc'])
  assert.deepEqual(find(tree.processes, 1)!.nsChanges, [])
})

test('uid changes are marked against the parent', () => {
  const tree = buildTree(snapshot())
  assert.equal(find(tree.processes, 62)!.uidChanged, true)
  assert.equal(find(tree.processes, 62)!.uid, 65534)
  assert.equal(find(tree.processes, 51)!.uidChanged, true)
  assert.equal(find(tree.processes, 66)!.uidChanged, true, 'root nsenter below the nobody shell')
  assert.equal(find(tree.processes, 67)!.uidChanged, false)
  assert.equal(find(tree.processes, 61)!.uidChanged, false)
})

test('each pid namespace is listed once with its level, init, process count and parent inferred from the tree', () => {
  const tree = buildTree(snapshot())
  const byInode = new Map(tree.namespaces.map((n) => [n.inode, n]))
  assert.deepEqual(tree.namespaces.map((n) => n.inode), [HOST, X, Y, null, null], 'in the order met, top first')
  assert.deepEqual(byInode.get(X), {inode: X, level: 1, parent: HOST, owner: null, init: 61, processes: 6})
  assert.deepEqual(byInode.get(Y), {inode: Y, level: 2, parent: X, owner: null, init: 64, processes: 2})
  assert.equal(byInode.get(HOST)?.init, 1)
  assert.equal(byInode.get(HOST)?.processes, 8)
})

test('owner and parent come from the describer, asked once per namespace through one of its processes', () => {
  const asked: [number, number][] = []
  const describe: DescribePidNs = (pid, inode) => {
    asked.push([pid, inode])
    if (inode === Y) return {owner: {inode: 4026532402, uid: 65534}, parent: X}
    if (inode === X) return {owner: {inode: 4026531837, uid: 0}, parent: HOST}
    return {owner: {inode: 4026531837, uid: 0}}
  }
  const tree = buildTree(snapshot(), {describe})
  const y = tree.namespaces.find((n) => n.inode === Y)!
  assert.deepEqual(y.owner, {inode: 4026532402, uid: 65534})
  assert.equal(y.parent, X)
  assert.deepEqual(
    asked.map(([, inode]) => inode),
    [HOST, X, Y],
    'one question per namespace when the first answer is complete',
  )
  for (const [pid, inode] of asked) assert.equal(find(tree.processes, pid)!.pidns, inode)
})

test('a describer that cannot open the first process of a namespace is retried with the next one', () => {
  const asked: number[] = []
  const describe: DescribePidNs = (pid) => {
    asked.push(pid)
    return pid === 1 ? {} : {owner: {inode: 4026531837, uid: 0}}
  }
  const tree = buildTree(snapshot(), {describe})
  assert.deepEqual(tree.namespaces.find((n) => n.inode === HOST)!.owner, {inode: 4026531837, uid: 0})
  assert.deepEqual(asked.slice(0, 2), [1, 50])
})

test('a process whose namespace links are unreadable gets its pid namespace from a relative at the same level', () => {
  const tree = buildTree(snapshot())
  const agent = find(tree.processes, 90)!
  assert.equal(agent.ns, null)
  assert.equal(agent.pidns, HOST)
  assert.deepEqual(agent.nsChanges, [])
})

test('inferPidNs fills children from parents and parents from children, never across levels', () => {
  const node = (pid: number, level: number, pidns: number | null, children: ProcessNode[] = []): ProcessNode =>
    ({pid, level, pidns, children}) as unknown as ProcessNode
  const root = node(1, 0, null, [node(2, 0, 7, [node(3, 0, null), node(4, 1, null)])])
  inferPidNs(root)
  assert.equal(root.pidns, 7)
  assert.equal(root.children[0].children[0].pidns, 7)
  assert.equal(root.children[0].children[1].pidns, null)
})

test('a pid shows that subtree; with showParents, the chain of ancestors down to it', () => {
  const sub = buildTree(snapshot(), {pid: 63})
  assert.deepEqual([...edges(sub.processes).entries()], [[63, [64]], [64, [65]], [65, []]])
  // The top process still says how it differs from its real parent.
  assert.deepEqual(sub.processes[0].nsChanges, ['mnt', 'user'])
  const chain = buildTree(snapshot(), {pid: 63, showParents: true})
  assert.deepEqual(
    [...edges(chain.processes).entries()],
    [[1, [60]], [60, [61]], [61, [63]], [63, [64]], [64, [65]], [65, []]],
  )
})

test('a pid not in the snapshot is refused with one clear line', () => {
  assert.throws(() => buildTree(snapshot(), {pid: 4242}), (e: unknown) => e instanceof NsxError && e.message === 'no such process: 4242')
})

test('--ns shows the namespace from each of its top processes: the init and the process joined by nsenter', () => {
  const tree = buildTree(snapshot(), {ns: X})
  // 69's parent 68 has unreadable links, but 69 is below the init already: not a top of its own.
  assert.deepEqual(tree.processes.map((p) => p.pid), [61, 67])
  assert.equal(flatten(tree.processes).filter((n) => n.pid === 69).length, 1)
  assert.ok(find(tree.processes, 65), 'nested namespaces below are part of the view')
  const y = buildTree(snapshot(), {ns: Y})
  assert.deepEqual(y.processes.map((p) => p.pid), [64])
})

test('--ns with an unknown inode lists the pid namespaces there are; with another type\'s inode it names that type', () => {
  assert.throws(
    () => buildTree(snapshot(), {ns: 123}),
    (e: unknown) =>
      e instanceof NsxError && e.message === `no process lives in pid namespace 123 (pid namespaces: ${HOST}, ${X}, ${Y})`,
  )
  assert.throws(
    () => buildTree(snapshot(), {ns: 4026532302}),
    (e: unknown) => e instanceof NsxError && e.message.startsWith('4026532302 is a net namespace, not a pid namespace'),
  )
})

test('threads are read only when asked for, with their tids in every namespace', () => {
  assert.equal(find(buildTree(snapshot()).processes, 60)!.threadList, undefined)
  const shim = find(buildTree(snapshot(), {threads: true}).processes, 60)!
  assert.equal(shim.threads, 3)
  assert.deepEqual(shim.threadList, [
    {tid: 600, nstid: [600], name: 'containerd-shim'},
    {tid: 601, nstid: [601], name: 'gc worker'},
  ])
})

test('command lines are split on NULs exactly, kept when the process rewrote them, empty for a zombie', () => {
  const tree = buildTree(snapshot(), {args: true})
  assert.deepEqual(find(tree.processes, 61)!.args, ['sh', '-c', "echo 'hi there'; sleep 1d"])
  assert.deepEqual(find(tree.processes, 50)!.args, ['sshd: alice [priv]'])
  assert.deepEqual(find(tree.processes, 65)!.args, [])
  assert.equal(find(buildTree(snapshot()).processes, 61)!.args, undefined)
})

test('--ns accepts an inode as lsns prints it or a link as readlink prints it, and nothing else', () => {
  assert.equal(parsePidNsArg('4026532300'), 4026532300)
  assert.equal(parsePidNsArg('pid:[4026532300]'), 4026532300)
  assert.throws(() => parsePidNsArg('net:[4026532302]'), /net namespace, not a pid namespace/)
  for (const bad of ['', 'abc', '-5', '0', '12x', 'pid:[12', '4026532300]', '1e9', '99999999999999999999']) {
    assert.throws(() => parsePidNsArg(bad), (e: unknown) => e instanceof NsxError && /invalid pid namespace/.test(e.message), bad)
  }
})

test('a subtree starting inside a namespace still names the parent namespace, from its real ancestors', () => {
  const tree = buildTree(snapshot(), {pid: 63})
  assert.equal(tree.namespaces.find((n) => n.inode === X)!.parent, HOST)
  assert.equal(tree.namespaces.find((n) => n.inode === Y)!.parent, X)
})

test('a parent loop (a pid reused between reads) ends the walk instead of recursing forever', () => {
  const tree = buildTree(snapshot(), {pid: 95})
  assert.deepEqual([...edges(tree.processes).entries()], [[95, [96]], [96, []]])
})

test('unreadable namespaces: one per top process, continued by its children at the same level', () => {
  const tree = buildTree(snapshot())
  const unknown = tree.namespaces.filter((n) => n.inode === null)
  assert.deepEqual(
    unknown.map((n) => ({level: n.level, init: n.init, processes: n.processes})),
    [
      {level: 1, init: 71, processes: 2},
      {level: 1, init: 72, processes: 1},
    ],
  )
})
