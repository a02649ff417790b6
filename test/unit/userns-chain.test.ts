import {test} from 'node:test'
import assert from 'node:assert/strict'
import {ChainReader, INITIAL_USERNS_INODE, TranslationError, buildUsernsChain, translateId} from '../../src/userns/chain.js'
import {renderChain} from '../../src/inspect/render-userns.js'
import {palette} from '../../src/render/colour.js'

/**
 * A three-level chain below the host, as root on the host reads it. The kernel shows every
 * map in host ids: C's "0 50 10" relative to B reads as "0 101050 10" (B maps 0 -> 1000
 * relative to A, A maps 0 -> 100000 on the host), which is what these files hold.
 */
const A = 4026532100
const B = 4026532101
const C = 4026532102
const HOST = INITIAL_USERNS_INODE
const IDENTITY = '         0          0 4294967295\n'

interface Proc {
  userns: number
  uid_map: string
  gid_map: string
  setgroups: string
}

const PROCS: Record<number, Proc> = {
  300: {userns: C, uid_map: '0 101050 10\n', gid_map: '0 202001 1\n', setgroups: 'allow\n'},
  200: {userns: B, uid_map: '0 101000 100\n200 105000 10\n', gid_map: '0 202000 10\n', setgroups: 'deny\n'},
  100: {userns: A, uid_map: '0 100000 65536\n', gid_map: '0 200000 65536\n', setgroups: 'deny\n'},
  9: {userns: HOST, uid_map: IDENTITY, gid_map: IDENTITY, setgroups: 'allow\n'},
}

function reader(hidden: number[] = []): ChainReader {
  return {
    processIn: (inode) => {
      const hit = Object.entries(PROCS).find(([pid, p]) => p.userns === inode && !hidden.includes(Number(pid)))
      return hit ? Number(hit[0]) : undefined
    },
    read: (pid, file) => PROCS[pid]?.[file],
  }
}

const ANCESTRY = [
  {inode: C, ownerUid: 101000},
  {inode: B, ownerUid: 100000},
  {inode: A, ownerUid: 0},
  {inode: HOST, ownerUid: 0},
]

test('each level is read through a process living in it, and maps are rebased onto the parent level', () => {
  const chain = buildUsernsChain(300, ANCESTRY, HOST, reader())
  assert.equal(chain.top, 'initial')
  assert.deepEqual(
    chain.levels.map((l) => [l.depth, l.inode, l.readVia, l.setgroups, l.initial, l.viewer]),
    [
      [0, C, 300, 'allow', false, false],
      [1, B, 200, 'deny', false, false],
      [2, A, 100, 'deny', false, false],
      [3, HOST, 9, 'allow', true, true],
    ],
  )
  // What each creator wrote: C relative to B, B relative to A, A relative to the host.
  assert.deepEqual(chain.levels[0].uidMap?.toParent, [{inside: 0, outside: 50, count: 10}])
  assert.deepEqual(chain.levels[1].uidMap?.toParent, [
    {inside: 0, outside: 1000, count: 100},
    {inside: 200, outside: 5000, count: 10},
  ])
  assert.deepEqual(chain.levels[2].uidMap?.toParent, [{inside: 0, outside: 100000, count: 65536}])
  assert.deepEqual(chain.levels[0].gidMap?.toParent, [{inside: 0, outside: 1, count: 1}])
  assert.equal(chain.levels[0].ownerUid, 101000)
})

test('uid 0 of the innermost namespace is translated through every level to the host', () => {
  const chain = buildUsernsChain(300, ANCESTRY, HOST, reader())
  const t = translateId(chain, 'uid', 0, 'to-host', 65534)
  assert.deepEqual(
    t.steps.map((s) => [s.inode, s.id]),
    [
      [C, 0],
      [B, 50],
      [A, 1050],
      [HOST, 101050],
    ],
  )
  assert.equal(t.result, 101050)
  assert.equal(t.unmappedAt, null)
})

test('an id no line of the innermost map covers is unmapped at depth 0 and has no host id', () => {
  const chain = buildUsernsChain(300, ANCESTRY, HOST, reader())
  const t = translateId(chain, 'uid', 10, 'to-host', 65534)
  assert.equal(t.result, null)
  assert.equal(t.unmappedAt, 0)
  assert.deepEqual(
    t.steps.map((s) => s.id),
    [10, null, null, null],
  )
})

test('a host id is translated inward level by level, and unmapped where a level lacks it', () => {
  const chain = buildUsernsChain(300, ANCESTRY, HOST, reader())
  const ok = translateId(chain, 'gid', 202001, 'to-inside', 65534)
  assert.deepEqual(
    ok.steps.map((s) => [s.inode, s.id]),
    [
      [HOST, 202001],
      [A, 2001],
      [B, 1],
      [C, 0],
    ],
  )
  assert.equal(ok.result, 0)
  // Host uid 101000 is uid 0 in B, but C maps only B's 50..59.
  const lost = translateId(chain, 'uid', 101000, 'to-inside', 65534)
  assert.equal(lost.unmappedAt, 0)
  assert.equal(lost.result, null)
  assert.deepEqual(
    lost.steps.map((s) => s.id),
    [101000, 1000, 0, null],
  )
  assert.equal(lost.overflowId, 65534)
  // Host uid 5 is not even in A.
  assert.equal(translateId(chain, 'uid', 5, 'to-inside', 65534).unmappedAt, 2)
})

test('a level no visible process lives in has unknown maps; translation still reaches the host exactly', () => {
  const chain = buildUsernsChain(300, ANCESTRY, HOST, reader([200]))
  const b = chain.levels[1]
  assert.equal(b.readVia, null)
  assert.equal(b.uidMap, null)
  assert.equal(b.setgroups, null)
  // C's map relative to B cannot be known without B's map; as read (host ids) it still is.
  assert.equal(chain.levels[0].uidMap?.toParent, null)
  assert.deepEqual(chain.levels[0].uidMap?.asRead, [{inside: 0, outside: 101050, count: 10}])
  const t = translateId(chain, 'uid', 3, 'to-host', 65534)
  assert.deepEqual(
    t.steps.map((s) => [s.id, s.known]),
    [
      [3, true],
      [null, false],
      [1053, true],
      [101053, true],
    ],
  )
  assert.equal(t.result, 101053)
})

test('a chain that stops at nsx\'s own non-initial user namespace translates to nsx\'s ids', () => {
  // nsx runs inside A: the kernel shows B's map in A's ids, and A's own map relative to the host.
  const inA: ChainReader = {
    processIn: (inode) => (inode === A ? 100 : undefined),
    read: (pid, file) => (pid === 200 ? {uid_map: '0 1000 100\n', gid_map: '0 2000 10\n', setgroups: 'deny\n'}[file] : PROCS[pid]?.[file]),
  }
  const chain = buildUsernsChain(200, [{inode: B}, {inode: A}], A, inA)
  assert.equal(chain.top, 'viewer')
  assert.deepEqual(chain.levels[0].uidMap?.toParent, [{inside: 0, outside: 1000, count: 100}])
  const t = translateId(chain, 'uid', 7, 'to-host', 65534)
  assert.equal(t.result, 1007)
})

test('translation refuses invalid ids and chains that do not reach nsx\'s user namespace', () => {
  const chain = buildUsernsChain(300, ANCESTRY, HOST, reader())
  assert.throws(() => translateId(chain, 'uid', 4294967295, 'to-host', 65534), TranslationError)
  assert.throws(() => translateId(chain, 'uid', -1, 'to-host', 65534), TranslationError)
  const foreign = buildUsernsChain(300, ANCESTRY.slice(0, 2), HOST, reader())
  assert.equal(foreign.top, 'unknown')
  assert.throws(() => translateId(foreign, 'uid', 0, 'to-host', 65534), /does not reach/)
})

test('a host process is one level: the initial namespace with the identity map', () => {
  const chain = buildUsernsChain(9, [{inode: HOST, ownerUid: 0}], HOST, reader())
  assert.equal(chain.levels.length, 1)
  assert.equal(chain.levels[0].initial, true)
  const t = translateId(chain, 'uid', 1000, 'to-host', 65534)
  assert.equal(t.result, 1000)
  assert.equal(translateId(chain, 'uid', 1000, 'to-inside', 65534).result, 1000)
})

test('a user namespace whose maps are not written yet says so in text and JSON, instead of bare column headers', () => {
  const D = 4026532103
  const procs: Record<number, Proc> = {...PROCS, 400: {userns: D, uid_map: '', gid_map: '', setgroups: 'allow\n'}}
  const chain = buildUsernsChain(400, [{inode: D, ownerUid: 0}, {inode: HOST, ownerUid: 0}], HOST, {
    processIn: (inode) => (inode === HOST ? 9 : undefined),
    read: (pid, file) => procs[pid]?.[file],
  })
  assert.deepEqual(
    chain.levels.map((l) => [l.uidMap?.written, l.gidMap?.written]),
    [
      [false, false],
      [true, true],
    ],
  )
  assert.deepEqual(JSON.parse(JSON.stringify(chain)).levels[0].uidMap, {asRead: [], toParent: [], written: false})
  const text = renderChain({...chain, overflowUid: 65534, overflowGid: 65533}, palette({isTTY: false}))
  assert.match(text, /^  uid_map +not written yet: every uid is unmapped, inside and out \(each shows as the overflow uid, 65534\)$/m)
  assert.match(text, /^  gid_map +not written yet: every gid is unmapped, inside and out \(each shows as the overflow gid, 65533\)$/m)
  assert.doesNotMatch(text.split(`user:[${HOST}]`)[0], /INSIDE/, 'column headers over an empty map')
  assert.match(renderChain(chain, palette({isTTY: false})), /overflow uid, usually 65534\)/)
  const u = translateId(chain, 'uid', 0, 'to-host', 65534)
  assert.equal(u.result, null)
  assert.equal(u.unmappedAt, 0)
})
