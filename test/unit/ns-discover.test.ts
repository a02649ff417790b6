import {test} from 'node:test'
import assert from 'node:assert/strict'
import {closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync} from 'node:fs'
import {endianness, tmpdir} from 'node:os'
import {join} from 'node:path'
import {REPO} from '../helpers/env.js'
import {getdents64Fn, loadLibc} from '../../src/ffi/libc.js'
import {discoverNamespaces} from '../../src/ns/discover.js'
import {NsRecord} from '../../src/ns/records.js'
import {parseNsfsMounts} from '../../src/ns/bind-mounts.js'
import type {NsType} from '../../src/ns/types.js'

const PROC = join(REPO, 'test/unit/fixtures/proc-ls')
const scan = (types?: NsType[]) => discoverNamespaces({procRoot: PROC, relations: false, types})

test('every process namespace is listed once, ascending by inode, with its processes ascending', () => {
  const d = scan()
  const inodes = d.namespaces.map((r) => r.inode)
  assert.deepEqual(inodes, [...inodes].sort((a, b) => a - b))
  assert.equal(new Set(inodes).size, inodes.length)
  const initPid = d.get('pid', 4026531836)
  assert.ok(initPid)
  assert.deepEqual(initPid.pids, [1, 2])
  const containerMnt = d.get('mnt', 4026532500)
  assert.deepEqual(containerMnt?.pids, [100, 150])
  // The user namespace is shared by everyone (201 is a zombie: see below).
  assert.deepEqual(d.get('user', 4026531837)?.pids, [1, 2, 100, 150, 201])
})

test('get() answers only for the right type', () => {
  const d = scan()
  assert.equal(d.get('net', 4026531836), undefined)
  assert.equal(d.get('pid', 4026531836)?.type, 'pid')
})

test('a zombie (no namespace links) and non-pid entries of /proc are skipped silently', () => {
  const d = scan()
  for (const r of d.namespaces) assert.ok(!r.pids.includes(200), `zombie in ${r.type}:${r.inode}`)
  assert.equal(d.log.total, 0)
})

test('a zombie still counts in its pid and user namespaces (as lsns counts it), in no other', () => {
  const d = scan()
  assert.deepEqual(d.get('pid', 4026532503)?.pids, [100, 150, 201])
  assert.deepEqual(d.get('user', 4026531837)?.pids, [1, 2, 100, 150, 201])
  for (const r of d.namespaces) if (r.type !== 'pid' && r.type !== 'user') assert.ok(!r.pids.includes(201), `${r.type}:${r.inode}`)
})

test('a thread in its own net namespace appears as a thread holder; its shared namespaces do not', () => {
  const d = scan()
  const threadNet = d.get('net', 4026532600)
  assert.ok(threadNet, 'thread-level netns missing')
  assert.deepEqual(threadNet.pids, [])
  assert.deepEqual(threadNet.holders, [{kind: 'thread', pid: 100, tid: 101}])
  // 101 shares mnt, uts, ipc... with 100: no thread holder there.
  for (const r of d.namespaces) {
    if (r.inode === 4026532600) continue
    assert.ok(!r.holders.some((h) => h.kind === 'thread'), `unexpected thread holder on ${r.type}:${r.inode}`)
  }
})

test('nsfs file descriptors hold namespaces: each (pid, fd) is a holder, sockets and pipes are not', () => {
  const d = scan()
  const r = d.get('net', 4026532300)
  assert.ok(r)
  assert.deepEqual(r.pids, [])
  assert.deepEqual(r.holders, [
    {kind: 'fd', pid: 1, fd: 5},
    {kind: 'fd', pid: 150, fd: 4},
  ])
  assert.equal(d.namespaces.some((x) => x.inode === 12345 || x.inode === 999), false)
})

test('nsfs bind mounts hold namespaces, with the mount path unescaped and the pid whose mount table has it', () => {
  const d = scan()
  assert.deepEqual(d.get('net', 4026532400)?.holders, [{kind: 'bind-mount', path: '/run/netns/blue', mountPid: 1}])
  assert.deepEqual(d.get('net', 4026532401)?.holders, [{kind: 'bind-mount', path: '/run/netns/with space', mountPid: 1}])
})

test('a pid namespace a process made for its children (unshare without fork) is held as for-children; an unchanged one is not', () => {
  const d = scan()
  const r = d.get('pid', 4026532900)
  assert.ok(r, 'pid_for_children namespace missing')
  assert.deepEqual(r.pids, [])
  assert.deepEqual(r.holders, [{kind: 'for-children', pid: 150}])
  // 150's time_for_children is its own namespace: nothing added.
  assert.deepEqual(d.get('time', 4026531834)?.holders.filter((h) => h.kind !== 'process'), [])
  // 1's pid_for_children is the container's pid namespace, which has processes: not named there.
  assert.deepEqual(d.get('pid', 4026532503)?.holders, [
    {kind: 'process', pid: 100},
    {kind: 'process', pid: 150},
    {kind: 'process', pid: 201},
  ])
})

test('holders list the processes first, then the other holders', () => {
  const d = scan()
  const r = d.get('net', 4026532504)
  assert.deepEqual(r?.holders, [
    {kind: 'process', pid: 100},
    {kind: 'process', pid: 150},
  ])
})

test('a type filter keeps only that type, from every source', () => {
  const d = scan(['net'])
  assert.ok(d.namespaces.length > 0)
  assert.ok(d.namespaces.every((r) => r.type === 'net'))
  assert.deepEqual(
    d.namespaces.map((r) => r.inode),
    [4026531992, 4026532300, 4026532400, 4026532401, 4026532504, 4026532600],
  )
})

test('a filter without mnt still finds bind mounts (mount tables are read per mount namespace)', () => {
  const d = scan(['net'])
  assert.ok(d.get('net', 4026532400))
  assert.equal(d.namespaces.some((r) => r.type === 'mnt'), false)
})

test('records serialise to the documented NamespaceRecord shape', () => {
  const d = scan()
  const r = d.get('net', 4026532300) as NsRecord
  assert.deepEqual(JSON.parse(JSON.stringify(r)), {
    inode: 4026532300,
    type: 'net',
    pids: [],
    holders: [
      {kind: 'fd', pid: 1, fd: 5},
      {kind: 'fd', pid: 150, fd: 4},
    ],
  })
})

test('a missing /proc is an error, not an empty listing', () => {
  assert.throws(() => discoverNamespaces({procRoot: join(PROC, 'no-such-dir'), relations: false}), /cannot list/)
})

test('parseNsfsMounts reads nsfs mounts only, and decodes octal escapes', () => {
  const text = [
    '22 1 0:21 / / rw - ext4 /dev/vda rw',
    '30 22 0:4 net:[4026532400] /run/netns/a\\134b rw shared:5 - nsfs nsfs rw',
    '31 22 0:4 pid:[4026532401] /tmp/p\\011q rw - nsfs nsfs rw',
    '32 22 0:4 / /mnt/nsfs-name-but-not-type rw - tmpfs nsfs rw',
  ].join('\n')
  assert.deepEqual(parseNsfsMounts(text), [
    {path: '/run/netns/a\\b', type: 'net', inode: 4026532400},
    {path: '/tmp/p\tq', type: 'pid', inode: 4026532401},
  ])
  assert.deepEqual(parseNsfsMounts('22 1 0:21 / / rw - ext4 /dev/vda rw\n'), [])
})

test('a zombie leader whose other thread runs: the thread holds every namespace the leader lost, time included', (t) => {
  // /proc/300: its main thread called pthread_exit; only pid and user links are left. Thread 301
  // runs in the host's namespaces but a time namespace of its own (one that made it before the leader exited).
  const root = mkdtempSync(join(tmpdir(), 'nsx-zombie-leader-'))
  t.after(() => rmSync(root, {recursive: true, force: true}))
  const links = (dir: string, l: Record<string, string>) => {
    mkdirSync(join(dir, 'ns'), {recursive: true})
    for (const [type, target] of Object.entries(l)) symlinkSync(target, join(dir, 'ns', type))
  }
  links(join(root, '300'), {pid: 'pid:[4026531836]', user: 'user:[4026531837]'})
  mkdirSync(join(root, '300', 'fd'))
  links(join(root, '300', 'task', '300'), {pid: 'pid:[4026531836]', user: 'user:[4026531837]'})
  links(join(root, '300', 'task', '301'), {
    mnt: 'mnt:[4026531840]', net: 'net:[4026531992]', uts: 'uts:[4026531838]', ipc: 'ipc:[4026531839]',
    cgroup: 'cgroup:[4026531835]', time: 'time:[4026532950]', pid: 'pid:[4026531836]', user: 'user:[4026531837]',
  })
  const d = discoverNamespaces({procRoot: root, relations: false})
  assert.deepEqual(d.get('pid', 4026531836)?.pids, [300], 'the zombie leader still counts in its pid namespace')
  assert.deepEqual(d.get('time', 4026532950)?.holders, [{kind: 'thread', pid: 300, tid: 301}])
  assert.deepEqual(d.get('net', 4026531992)?.holders, [{kind: 'thread', pid: 300, tid: 301}])
  assert.deepEqual(discoverNamespaces({procRoot: root, relations: false, types: ['time']}).get('time', 4026532950)?.holders, [{kind: 'thread', pid: 300, tid: 301}])
})

test('fd tables: holders in the name order readdir gave them, every entry of a table longer than one getdents buffer, only nsfs links', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nsx-fd-table-'))
  t.after(() => rmSync(root, {recursive: true, force: true}))
  mkdirSync(join(root, '400', 'ns'), {recursive: true})
  symlinkSync('net:[4026531992]', join(root, '400', 'ns', 'net'))
  const fds = join(root, '400', 'fd')
  mkdirSync(fds)
  // 2,500 entries (about 60 KB of dirents): the nsfs ones come in no particular directory order.
  for (let fd = 0; fd < 2500; fd++) symlinkSync(fd % 2 === 0 ? '/dev/null' : `pipe:[${fd}]`, join(fds, `x${fd}`))
  for (let fd = 0; fd < 2500; fd++) rmSync(join(fds, `x${fd}`))
  for (let fd = 0; fd < 2500; fd++) {
    const target =
      fd === 2 || fd === 10 || fd === 9 || fd === 2499
        ? `net:[${4026532500 + fd}]`
        : fd === 11
          ? `/${'long/'.repeat(40)}net:[4026532011]` // not nsfs however it ends
          : fd === 12
            ? 'net:[40265x]'
            : fd === 13
              ? 'network:[4026532013]'
              : fd % 2 === 0
                ? '/dev/null'
                : `socket:[${fd}]`
    symlinkSync(target, join(fds, String(fd)))
  }
  const d = discoverNamespaces({procRoot: root, relations: false})
  const held = d.namespaces.filter((r) => r.pids.length === 0)
  // Every nsfs link of the 2,500 entries, none of the look-alikes (one namespace each, ascending inode).
  assert.deepEqual(
    held.flatMap((r) => r.holders),
    [
      {kind: 'fd', pid: 400, fd: 2},
      {kind: 'fd', pid: 400, fd: 9},
      {kind: 'fd', pid: 400, fd: 10},
      {kind: 'fd', pid: 400, fd: 2499},
    ],
  )
  assert.deepEqual(held.map((r) => `${r.type}:${r.inode}`), ['net:4026532502', 'net:4026532509', 'net:4026532510', 'net:4026534999'])
  // Three fds on one namespace: one holder each, in the name (strcmp) order readdirSync listed them in.
  const two = mkdtempSync(join(tmpdir(), 'nsx-fd-order-'))
  t.after(() => rmSync(two, {recursive: true, force: true}))
  mkdirSync(join(two, '401', 'fd'), {recursive: true})
  mkdirSync(join(two, '401', 'ns'))
  symlinkSync('net:[4026531992]', join(two, '401', 'ns', 'net'))
  for (const fd of ['9', '10', '2']) symlinkSync('net:[4026532600]', join(two, '401', 'fd', fd))
  assert.deepEqual(discoverNamespaces({procRoot: two, relations: false}).get('net', 4026532600)?.holders, [
    {kind: 'fd', pid: 401, fd: 10},
    {kind: 'fd', pid: 401, fd: 2},
    {kind: 'fd', pid: 401, fd: 9},
  ])
})

test('getdents64 without the glibc wrapper (glibc before 2.30): the raw system call lists the same entries', () => {
  const c = loadLibc()
  const names = (fn: ReturnType<typeof getdents64Fn>) => {
    const fd = openSync(join(PROC, '1', 'fd'), 'r')
    const buf = new Uint8Array(4096)
    const view = new DataView(buf.buffer)
    const out: string[] = []
    try {
      for (let len = Number(fn(fd, buf, buf.length)); len > 0; len = Number(fn(fd, buf, buf.length))) {
        for (let off = 0; off < len; off += view.getUint16(off + 16, endianness() === 'LE')) {
          const end = buf.indexOf(0, off + 19)
          out.push(Buffer.from(buf.subarray(off + 19, end)).toString())
        }
      }
    } finally {
      closeSync(fd)
    }
    return out.sort()
  }
  const raw = names(getdents64Fn(c, false))
  assert.deepEqual(raw, ['.', '..', '0', '3', '5', '6'])
  assert.deepEqual(names(getdents64Fn(c)), raw)
})
