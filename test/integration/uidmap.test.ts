import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {NSX_BIN, assertOneLineError, needCommand, needRoot, nsx, nsxJson, run} from '../helpers/env.js'
import {TestProcesses, waitFor, waitForComm} from '../helpers/processes.js'
import {UsernsLevelSpec, nestedUserNamespaces, nsInode} from '../helpers/userns.js'
import {parseIdMap} from '../../src/userns/maps.js'
import type {UidmapReport} from '../../src/inspect/uidmap.js'

/** Three levels below the host; each map written relative to its parent, as its creator would. */
const LEVELS: UsernsLevelSpec[] = [
  {uidMap: '0 100000 65536', gidMap: '0 200000 65536', setgroups: 'deny'},
  {uidMap: '0 1000 100\n200 5000 10', gidMap: '0 2000 10'},
  {uidMap: '0 50 10', gidMap: '0 1 1'},
]

function statusIds(pid: number, field: 'Uid' | 'Gid'): number[] {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`))
  return (line ?? '').slice(field.length + 1).trim().split(/\s+/).map(Number)
}

function ready(t: Parameters<typeof needRoot>[0]): boolean {
  return needRoot(t) && needCommand(t, 'unshare', 'util-linux') && needCommand(t, 'nsenter', 'util-linux') && needCommand(t, 'setpriv', 'util-linux')
}

test('three nested user namespaces: each level with the map its creator wrote, setgroups, and the kernel\'s own view', async (t) => {
  if (!ready(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const levels = await nestedUserNamespaces(procs, LEVELS)
  const inner = levels[2].pid
  const r = nsxJson<UidmapReport>(['uidmap', String(inner)])

  assert.deepEqual(
    r.levels.map((l) => l.inode),
    [levels[2].inode, levels[1].inode, levels[0].inode, nsInode(process.pid, 'user')],
  )
  assert.equal(r.top, 'initial')
  for (let depth = 0; depth < 3; depth++) {
    const spec = LEVELS[2 - depth]
    const l = r.levels[depth]
    assert.deepEqual(l.uidMap?.toParent, parseIdMap(spec.uidMap), `uid_map at depth ${depth}`)
    assert.deepEqual(l.gidMap?.toParent, parseIdMap(spec.gidMap), `gid_map at depth ${depth}`)
    // "deny" is inherited: the innermost level, written nothing, is "deny" like its parent.
    assert.equal(l.setgroups, 'deny', `setgroups at depth ${depth}`)
    // As read, the maps are exactly what the kernel shows root on the host.
    const pid = levels[2 - depth].pid
    assert.deepEqual(l.uidMap?.asRead, parseIdMap(readFileSync(`/proc/${pid}/uid_map`, 'utf8')))
    assert.equal(l.readVia, pid)
  }
  // The owner of each level is its creator's euid, in host ids: root of the level above.
  assert.deepEqual(
    r.levels.slice(0, 3).map((l) => l.ownerUid),
    [101000, 100000, 0],
  )
})

test('--uid and --gid translations agree with the ids the kernel gives a process switched to them inside', async (t) => {
  if (!ready(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const levels = await nestedUserNamespaces(procs, LEVELS)
  const inner = levels[2].pid
  for (const [uid, gid] of [
    [0, 0],
    [7, 0],
  ]) {
    const r = nsxJson<UidmapReport>(['uidmap', String(inner), '--uid', String(uid), '--gid', String(gid)])
    const [tu, tg] = r.translations
    // The kernel's answer: a process inside, switched to uid/gid, seen from the host.
    const probe = procs.spawn('nsenter', [`--user=/proc/${inner}/ns/user`, '-S', String(uid), '-G', String(gid), '--', 'sleep', '1000']).pid!
    await waitForComm(probe, 'sleep')
    assert.equal(tu.result, statusIds(probe, 'Uid')[1], `uid ${uid}`)
    assert.equal(tg.result, statusIds(probe, 'Gid')[1], `gid ${gid}`)
  }
  const zero = nsxJson<UidmapReport>(['uidmap', String(inner), '--uid', '0']).translations[0]
  assert.deepEqual(
    zero.steps.map((s) => s.id),
    [0, 50, 1050, 101050],
  )
})

test('--to-inside agrees with how a process inside sees a host process\'s ids, 65534 when unmapped', async (t) => {
  if (!ready(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const levels = await nestedUserNamespaces(procs, LEVELS)
  const inner = levels[2].pid
  for (const hostUid of [101053, 101000, 5]) {
    const owner = procs.spawn('setpriv', [`--reuid=${hostUid}`, '--regid=0', '--clear-groups', '--', 'sleep', '1000']).pid!
    await waitForComm(owner, 'sleep')
    const seen = run('nsenter', [`--user=/proc/${inner}/ns/user`, '--', 'cat', `/proc/${owner}/status`])
    assert.equal(seen.status, 0, seen.stderr)
    const inside = Number(/^Uid:\s+(\d+)/m.exec(seen.stdout)?.[1])
    const r = nsxJson<UidmapReport>(['uidmap', String(inner), '--uid', String(hostUid), '--to-inside'])
    const tr = r.translations[0]
    if (tr.result === null) assert.equal(inside, tr.overflowId, `host uid ${hostUid} shows as the overflow id inside`)
    else assert.equal(tr.result, inside, `host uid ${hostUid}`)
  }
  // 101000 is uid 0 one level up, but the innermost level maps only 50..59 of it.
  const lost = nsxJson<UidmapReport>(['uidmap', String(inner), '--uid', '101000', '--to-inside']).translations[0]
  assert.equal(lost.unmappedAt, 0)
  const text = nsx(['uidmap', String(inner), '--uid', '101000', '--to-inside'])
  assert.match(text.stdout, new RegExp(`uid 101000 on the host \\(user:\\[\\d+\\]\\) is unmapped in user:\\[${levels[2].inode}\\].*see it as 65534 \\(overflowuid\\)`))
})

test('an id no map line covers is reported unmapped in plain words', async (t) => {
  if (!ready(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const levels = await nestedUserNamespaces(procs, LEVELS.slice(0, 1))
  const r = nsx(['uidmap', String(levels[0].pid), '--uid', '70000'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^uid 70000 in user:\[\d+\] is unmapped: no line of the uid_map of user:\[\d+\] covers it, so it has no uid outside$/m)
  // The kernel agrees: nothing inside can become uid 70000.
  const become = run('nsenter', [`--user=/proc/${levels[0].pid}/ns/user`, '-S', '70000', '--', 'true'])
  assert.notEqual(become.status, 0)
})

test('a level no process lives in: maps unknown, yet the translation to the host stays exact', async (t) => {
  if (!ready(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const levels = await nestedUserNamespaces(procs, LEVELS)
  // The middle level's only process goes; the namespace lives on as the parent of the innermost.
  process.kill(levels[1].pid, 'SIGKILL')
  // Until reaped, a zombie keeps its credentials, and with them its user namespace link.
  await waitFor(() => !existsSync(`/proc/${levels[1].pid}`), 5000, 'the middle process to be reaped')
  const r = nsxJson<UidmapReport>(['uidmap', String(levels[2].pid), '--uid', '3'])
  assert.equal(r.levels[1].inode, levels[1].inode)
  assert.equal(r.levels[1].readVia, null)
  assert.equal(r.levels[1].uidMap, null)
  const tr = r.translations[0]
  assert.deepEqual(
    tr.steps.map((s) => [s.id, s.known]),
    [
      [3, true],
      [null, false],
      [1053, true],
      [101053, true],
    ],
  )
  const text = nsx(['uidmap', String(levels[2].pid), '--uid', '3'])
  assert.match(text.stdout, /maps unknown: no visible process lives in it/)
  assert.match(text.stdout, /-> \? in user:\[\d+\] \(maps unknown\) ->/)
})

test('a host process has one level, the initial namespace, and ids translate to themselves', async (t) => {
  if (!needRoot(t)) return
  const r = nsxJson<UidmapReport>(['uidmap', String(process.pid), '--uid', '1000', '--gid', '5'])
  assert.equal(r.levels.length, 1)
  assert.equal(r.levels[0].initial, true)
  assert.deepEqual(r.levels[0].uidMap?.asRead, parseIdMap(readFileSync('/proc/self/uid_map', 'utf8')))
  assert.deepEqual(
    r.translations.map((x) => x.result),
    [1000, 5],
  )
})

test('bad input fails in one line with exit 1: pids, ids, --to-inside alone, a process nobody may open', async (t) => {
  if (!needRoot(t)) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  const self = String(process.pid)
  assertOneLineError(nsx(['uidmap', 'abc']), 1, /no such process or container: abc/)
  assertOneLineError(nsx(['uidmap', '0']), 1, /invalid pid '0'/)
  assertOneLineError(nsx(['uidmap', self, '--uid', 'root']), 1, /invalid uid 'root'/)
  assertOneLineError(nsx(['uidmap', self, '--uid=-1']), 1, /invalid uid '-1'/)
  assertOneLineError(nsx(['uidmap', self, '--gid', '4294967295']), 1, /invalid gid '4294967295'.*4294967294/)
  assertOneLineError(nsx(['uidmap', self, '--to-inside']), 1, /--to-inside.*--uid or --gid/)
  const gone = procs.spawn('true', [])
  await new Promise((res) => gone.once('exit', res))
  assertOneLineError(nsx(['uidmap', String(gone.pid)]), 1, /no such process/)
  if (readFileSync('/proc/2/status', 'utf8').includes('kthreadd')) assertOneLineError(nsx(['uidmap', '2']), 1, /kernel thread/)
  const root = procs.spawn('sleep', ['1000']).pid!
  await waitForComm(root, 'sleep')
  const denied = run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, NSX_BIN, 'uidmap', String(root)], {
    env: {...process.env, NO_COLOR: '1', HOME: '/nonexistent'},
  })
  assertOneLineError(denied, 1, /permission denied/)
})

test('run inside a user namespace of its own, nsx shows the chain up to there and says the kernel hides the rest', (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  // unshare -r maps root inside to root outside; nsx runs in that namespace and inspects its shell.
  const r = run('unshare', ['-U', '-r', '--', 'sh', '-c', `${process.execPath} ${NSX_BIN} uidmap $$ --uid 0 --json`])
  assert.equal(r.status, 0, r.stderr)
  const j = JSON.parse(r.stdout) as UidmapReport
  assert.equal(j.top, 'viewer')
  assert.equal(j.levels.length, 1)
  assert.equal(j.levels[0].viewer, true)
  assert.equal(j.levels[0].initial, false)
  assert.notEqual(j.levels[0].inode, nsInode(process.pid, 'user'))
  assert.deepEqual(j.levels[0].uidMap?.asRead, [{inside: 0, outside: 0, count: 1}])
  assert.equal(j.translations[0].result, 0)
  const text = run('unshare', ['-U', '-r', '--', 'sh', '-c', `${process.execPath} ${NSX_BIN} uidmap $$ --uid 0`], {env: {...process.env, NO_COLOR: '1'}})
  assert.match(text.stdout, /^uid 0 in user:\[\d+\] \(nsx's own user namespace: the kernel shows nothing above it\)$/m)
})

test('a user namespace whose maps are not written yet: said plainly in text, written false in JSON, every id unmapped', async (t) => {
  if (!needRoot(t) || !needCommand(t, 'unshare', 'util-linux')) return
  const procs = new TestProcesses()
  t.after(() => procs.killAll())
  // unshare -U without -r/--map-*: nobody writes the maps of the new namespace.
  const pid = procs.spawn('unshare', ['-U', '--', 'sleep', '1000']).pid!
  await waitForComm(pid, 'sleep')
  assert.equal(readFileSync(`/proc/${pid}/uid_map`, 'utf8'), '')
  const j = nsxJson<UidmapReport>(['uidmap', String(pid), '--uid', '0'])
  assert.deepEqual(
    [j.levels[0].uidMap?.written, j.levels[0].gidMap?.written, j.levels[1].uidMap?.written],
    [false, false, true],
  )
  assert.equal(j.translations[0].result, null)
  const text = nsx(['uidmap', String(pid)], {env: {...process.env, NO_COLOR: '1'}}).stdout
  const overflow = readFileSync('/proc/sys/kernel/overflowuid', 'utf8').trim()
  assert.match(text, new RegExp(`^  uid_map +not written yet: every uid is unmapped, inside and out \\(each shows as the overflow uid, ${overflow}\\)$`, 'm'))
  assert.match(text, /^  gid_map +not written yet: every gid is unmapped/m)
})
