import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {REPO} from '../helpers/env.js'
import {discoverNamespaces} from '../../src/ns/discover.js'
import {NsRecord} from '../../src/ns/records.js'
import {holderPath, NsHandle, openNamespaceFd, RelationSource} from '../../src/ns/relations.js'
import type {NsType} from '../../src/ns/types.js'

const PROC = join(REPO, 'test/unit/fixtures/proc-ls')

/** The kernel's answers to NS_GET_PARENT / NS_GET_USERNS, as a table; counts open handles. */
class TableSource implements RelationSource {
  open = 0
  opened: number[] = []
  constructor(private readonly table: Record<number, {parent?: number; owner?: number}>) {}

  private handle(inode: number): NsHandle {
    this.open++
    const entry = this.table[inode] ?? {}
    return {
      inode,
      parent: () => (entry.parent === undefined ? undefined : this.handle(entry.parent)),
      owner: () => (entry.owner === undefined ? undefined : this.handle(entry.owner)),
      close: () => {
        this.open--
      },
    }
  }

  source(): RelationSource {
    return {
      open: (r: NsRecord) => {
        this.opened.push(r.inode)
        return this.handle(r.inode)
      },
    }
  }
}

const INIT_USER = 4026531837
const INIT_PID = 4026531836
const GHOST_PID = 4026532700 // parent of the container's pid namespace; nothing else holds it
const GHOST_USER = 4026532800 // owns the container's net namespace; nothing else holds it

function table(): TableSource {
  const t: Record<number, {parent?: number; owner?: number}> = {
    4026532503: {parent: GHOST_PID, owner: INIT_USER},
    [GHOST_PID]: {parent: INIT_PID, owner: GHOST_USER},
    4026532504: {owner: GHOST_USER},
    [GHOST_USER]: {parent: INIT_USER},
  }
  // Everything else found in the fixture is owned by the initial user namespace.
  for (const ino of [4026532900, 4026531840, 4026531992, INIT_PID, 4026531838, 4026531839, 4026531835, 4026531834, 4026532500, 4026532501, 4026532502, 4026532300, 4026532400, 4026532401, 4026532600]) {
    t[ino] = {owner: INIT_USER}
  }
  return new TableSource(t)
}

const discover = (src: TableSource, types?: NsType[]) => discoverNamespaces({procRoot: PROC, relations: src.source(), types})

test('a pid namespace held only as the parent of another appears, held as "parent of"', () => {
  const src = table()
  const d = discover(src)
  const ghost = d.get('pid', GHOST_PID)
  assert.ok(ghost, 'ghost pid namespace missing')
  assert.deepEqual(ghost.pids, [])
  assert.deepEqual(ghost.holders, [{kind: 'parent', of: 4026532503}])
  assert.equal(d.get('pid', 4026532503)?.parent, GHOST_PID)
  // The ghost's own relations were followed through the handle that found it.
  assert.equal(ghost.parent, INIT_PID)
  assert.equal(ghost.owner, GHOST_USER)
})

test('a user namespace held only as an owner appears once, naming everything it owns', () => {
  const src = table()
  const d = discover(src)
  const ghost = d.get('user', GHOST_USER)
  assert.ok(ghost)
  assert.deepEqual(
    [...ghost.holders].sort((a, b) => ('of' in a && 'of' in b ? a.of - b.of : 0)),
    [
      {kind: 'owner', of: 4026532504},
      {kind: 'owner', of: GHOST_PID},
    ],
  )
  // A user namespace's owner is its parent.
  assert.equal(ghost.parent, INIT_USER)
  assert.equal(ghost.owner, INIT_USER)
})

test('namespaces with real holders get parent/owner fields but no relation holders', () => {
  const src = table()
  const d = discover(src)
  const initUser = d.get('user', INIT_USER)
  assert.ok(initUser)
  assert.ok(initUser.holders.every((h) => h.kind === 'process'))
  assert.equal(d.get('net', 4026532504)?.owner, GHOST_USER)
  assert.equal(d.get('mnt', 4026531840)?.owner, INIT_USER)
  assert.equal(d.get('mnt', 4026531840)?.parent, undefined, 'mount namespaces have no parent')
})

test('every handle opened for relations is closed', () => {
  const src = table()
  discover(src)
  assert.equal(src.open, 0)
})

test('each namespace is opened at most once', () => {
  const src = table()
  discover(src)
  assert.equal(new Set(src.opened).size, src.opened.length)
})

test('with a type filter, relations are still recorded but ghosts of other types are not listed', () => {
  const src = table()
  const d = discover(src, ['net'])
  assert.equal(d.get('user', GHOST_USER), undefined)
  assert.equal(d.get('net', 4026532504)?.owner, GHOST_USER)
  assert.ok(d.namespaces.every((r) => r.type === 'net'))
  assert.equal(src.open, 0)
})

test('a namespace that can no longer be opened keeps its scan data and no relations', () => {
  const d = discoverNamespaces({procRoot: PROC, relations: {open: () => undefined}})
  assert.equal(d.get('pid', 4026532503)?.parent, undefined)
  assert.equal(d.get('pid', 4026532503)?.pids.length, 3)
})

test('holderPath opens processes, threads and fds through /proc, and mounts through the holding mount namespace', () => {
  assert.equal(holderPath({kind: 'process', pid: 7}, 'net', '/proc'), '/proc/7/ns/net')
  assert.equal(holderPath({kind: 'thread', pid: 7, tid: 9}, 'uts', '/proc'), '/proc/7/task/9/ns/uts')
  assert.equal(holderPath({kind: 'fd', pid: 7, fd: 3}, 'net', '/proc'), '/proc/7/fd/3')
  assert.equal(holderPath({kind: 'bind-mount', path: '/run/netns/a', mountPid: 7}, 'net', '/proc'), '/proc/7/root/run/netns/a')
  assert.equal(holderPath({kind: 'for-children', pid: 7}, 'time', '/proc'), '/proc/7/ns/time_for_children')
  assert.equal(holderPath({kind: 'parent', of: 1}, 'pid', '/proc'), undefined)
})

test('a holder path that is no longer a namespace file is refused: a FIFO does not block, a file with the same inode number gets no ioctl', (t) => {
  // What a process may put at /proc/PID/fd/N (or under a mount point) between the scan and the open.
  const root = mkdtempSync(join(tmpdir(), 'nsx-holder-'))
  t.after(() => rmSync(root, {recursive: true, force: true}))
  mkdirSync(join(root, '7', 'fd'), {recursive: true})
  const fifo = join(root, '7', 'fd', '3')
  const made = spawnSync('mkfifo', [fifo])
  assert.equal(made.status, 0, String(made.stderr))
  const file = join(root, '7', 'fd', '4')
  writeFileSync(file, '')
  // In a child with a time limit: a blocking open(2) on a FIFO without a writer never returns.
  const script = `import {openNamespaceFd} from ${JSON.stringify(join(REPO, 'src/ns/relations.ts'))}
const fd = openNamespaceFd({inode: ${statSync(fifo).ino}, type: 'net', pids: [], holders: [{kind: 'fd', pid: 7, fd: 3}]}, ${JSON.stringify(root)})
process.stdout.write(String(fd))`
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {encoding: 'utf8', timeout: 20000})
  assert.equal(r.signal, null, 'opening a FIFO holder blocked')
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'undefined')
  // Same inode number, but not on nsfs.
  assert.equal(openNamespaceFd({inode: statSync(file).ino, type: 'net', pids: [], holders: [{kind: 'fd', pid: 7, fd: 4}]}, root), undefined)
})
