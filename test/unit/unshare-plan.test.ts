import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {REPO, run} from '../helpers/env.js'
import {CURRENT, parseUnshareArgs} from '../../src/unshare/options.js'
import {buildUnsharePlan} from '../../src/unshare/plan.js'
import type {UnshareFacts} from '../../src/unshare/facts.js'
import {encodeOp, opArity} from '../../src/plan/encode.js'
import {describePlan} from '../../src/plan/describe.js'
import {validatePlan} from '../../src/plan/validate.js'
import type {NsType} from '../../src/ns/types.js'
import type {Op} from '../../src/plan/ops.js'
import {UNSHARE_ENCODERS} from '../../src/plan/unshare-ops.js'

const ALL_CAPS = (1n << 41n) - 1n
const SUBUID = 'alice:100000:65536\n'

const user: UnshareFacts = {euid: 1000, egid: 1000, userName: 'alice', capEff: 0n, uidMap: '0 0 4294967295\n', gidMap: '0 0 4294967295\n', subuid: SUBUID, subgid: SUBUID, newidmap: true}
const root: UnshareFacts = {...user, euid: 0, egid: 0, userName: 'root', capEff: ALL_CAPS, subuid: 'root:200000:1000\n', subgid: 'root:200000:1000\n'}

/** The plan as the executor receives it, one string per op. */
function plan(argv: string[], f: UnshareFacts = user, persist: Record<string, string> = {}): string[] {
  const o = parseUnshareArgs(argv)
  const id = (v: string | typeof CURRENT | undefined, own: number) => (v === undefined ? undefined : v === CURRENT ? own : Number(v))
  const facts = {...f, mapUid: id(o.mapUser, f.euid), mapGid: id(o.mapGroup, f.egid)}
  const p = validatePlan(buildUnsharePlan(o, facts, new Map(Object.entries(persist)) as Map<NsType, string>))
  return p.ops.map((op) => encodeOp(op).join(' '))
}

test('-r as an ordinary user: one unshare, setgroups denied before our own single-id maps, then the command', () => {
  assert.deepEqual(plan(['-r', 'id', '-u']), [
    'unshare user', 'setgroups-write deny', 'map-write uid 0 1000 1', 'map-write gid 0 1000 1', 'exec id -u',
  ])
})

test('the user namespace is unshared together with the others, so it is created first and owns them', () => {
  assert.deepEqual(plan(['-rmunipCT', '-f', '--mount-proc', 'sh']), [
    'unshare mnt,net,pid,user,uts,ipc,cgroup,time', 'setgroups-write deny', 'map-write uid 0 1000 1', 'map-write gid 0 1000 1',
    'fork-wait 0', 'propagation private /', 'mount-proc /proc', 'exec sh',
  ])
})

test('-c maps our own ids; with --map-user after it the uid is that one and the gid still ours', () => {
  assert.deepEqual(plan(['-c', 'true']).slice(2, 4), ['map-write uid 1000 1000 1', 'map-write gid 1000 1000 1'])
  assert.deepEqual(plan(['-c', '--map-user=5', 'true']).slice(2, 4), ['map-write uid 5 1000 1', 'map-write gid 1000 1000 1'])
})

test('an ordinary user without a user namespace is told what privilege is missing and how to get it', () => {
  assert.throws(() => plan(['-n', 'true']), /unsharing net needs CAP_SYS_ADMIN: run as root, or add a user namespace first \(-r/)
  assert.deepEqual(plan(['-n', 'true'], root), ['unshare net', 'exec true'])
})

test('root with ranges: a helper started before unshare writes both maps from outside', () => {
  assert.deepEqual(plan(['--map-users=0:100000:65536', '--map-groups=100000,0,65536', 'true'], root), [
    'helper-start', 'unshare user', 'helper-map uid write 0 100000 65536', 'helper-map gid write 0 100000 65536', 'helper-commit', 'exec true',
  ])
})

test('an ordinary user with --map-auto -r: newuidmap and newgidmap get our id as root and the subids from 1', () => {
  assert.deepEqual(plan(['--map-auto', '-r', 'true']), [
    'helper-start', 'unshare user', 'helper-map uid newidmap 0 1000 1,1 100000 65535', 'helper-map gid newidmap 0 1000 1,1 100000 65535', 'helper-commit', 'exec true',
  ])
})

test('ranges an ordinary user does not own, or without newuidmap, fail before anything runs', () => {
  assert.throws(() => plan(['--map-users=0:200000:10', 'true']), /--map-users: outer uids 200000-200009 are not alice's to map \(\/etc\/subuid gives alice: 100000-165535\)/)
  assert.throws(() => plan(['--map-users=0:100000:10', 'true'], {...user, newidmap: false}), /needs newuidmap and newgidmap \(Debian package uidmap\)/)
  assert.throws(() => plan(['--map-auto', 'true'], {...user, subuid: ''}), /no line for user alice in \/etc\/subuid/)
})

test('a map longer than the kernel takes in one write (a page) is refused up front', () => {
  const many = Array.from({length: 300}, (_, i) => `--map-users=${1000000 + i * 10}:${3000000000 + i * 10}:1`)
  assert.throws(() => plan([...many, 'true'], root), /--map-users: the map is \d+ bytes written out; the kernel takes less than 4096/)
})

test('root may map only ids its own user namespace has', () => {
  assert.throws(() => plan(['--map-users=0:70000:10', 'true'], {...root, uidMap: '0 100000 65536\n'}), /outer uids 70000-70009 do not exist in this user namespace/)
})

test('--setgroups allow with a single gid map is refused for anyone, as unshare refuses it; with a --map-groups range root writes it from outside', () => {
  assert.throws(() => plan(['-r', '--setgroups=allow', 'true']), /^NsxError: options --setgroups=allow and --map-group are mutually exclusive$/)
  assert.throws(() => plan(['-r', '--setgroups=allow', 'true'], root), /options --setgroups=allow and --map-group are mutually exclusive/)
  assert.deepEqual(plan(['--map-users=0:0:1', '--map-groups=0:0:1', '--setgroups=allow', 'true'], root), [
    'helper-start', 'unshare user', 'setgroups-write allow', 'helper-map uid write 0 0 1', 'helper-map gid write 0 0 1', 'helper-commit', 'exec true',
  ])
  assert.throws(() => plan(['--setgroups=deny', '-n', 'true'], root), /--setgroups needs a new user namespace/)
})

test('persistence is queued after the maps and offsets, made at commit without fork, by the fork parent with one', () => {
  assert.deepEqual(plan(['-n', '-T', '--boottime=10', 'true'], root, {net: '/run/n', time: '/run/t'}), [
    'helper-start', 'unshare net,time', 'timens-offset boottime 10', 'persist net /run/n', 'persist time /run/t', 'helper-commit', 'exec true',
  ])
  assert.deepEqual(plan(['-pf', '--mount-proc', 'true'], root, {pid: '/run/p'}), [
    'helper-start', 'unshare mnt,pid', 'persist pid /run/p', 'fork-wait 0', 'propagation private /', 'mount-proc /proc', 'exec true',
  ])
})

test('a pid namespace kept or given a /proc without --fork is refused, as is persistence without CAP_SYS_ADMIN', () => {
  assert.throws(() => plan(['-p', 'true'], root, {pid: '/run/p'}), /--pid=FILE needs --fork/)
  assert.throws(() => plan(['-p', '--mount-proc', 'true'], root), /--mount-proc with --pid needs --fork/)
  assert.throws(() => plan(['-r', '-n', 'true'], user, {net: '/run/n'}), /needs CAP_SYS_ADMIN in the original mount namespace/)
})

test('setup after the fork follows util-linux: propagation, root, wd, /proc (inside the new root), gid, uid, capabilities', () => {
  assert.deepEqual(plan(['-r', '--kill-child=TERM', '-m', '-R', '/srv/root', '-w', '/tmp', '--mount-proc', '-S', '0', '-G', '0', '--keep-caps', 'id']), [
    'unshare mnt,user', 'setgroups-write deny', 'map-write uid 0 1000 1', 'map-write gid 0 1000 1', 'fork-wait 15',
    'propagation private /', 'open-root /srv/root', 'chroot', 'chdir /tmp', 'mount-proc /proc',
    'setgroups', 'setgid 0', 'setuid 0', 'keep-caps', 'exec id',
  ])
})

test('with a propagation other than private, /proc is made private before the new proc is mounted on it', () => {
  assert.deepEqual(plan(['--propagation=unchanged', '--mount-proc', 'true'], root), ['unshare mnt', 'proc-private /proc', 'mount-proc /proc', 'exec true'])
  assert.deepEqual(plan(['--propagation=slave', '--mount-proc', 'true'], root), ['unshare mnt', 'propagation slave /', 'proc-private /proc', 'mount-proc /proc', 'exec true'])
  assert.deepEqual(plan(['-m'], root), ['unshare mnt', 'propagation private /', 'exec-shell'])
})

test('--forward-signals comes before the fork, the environment is cleared last before exec', () => {
  assert.deepEqual(plan(['-r', '--forward-signals', '--whitelist-env=PATH', 'id']), [
    'unshare user', 'setgroups-write deny', 'map-write uid 0 1000 1', 'map-write gid 0 1000 1', 'forward-signals', 'fork-wait 0', 'env-keep PATH', 'exec id',
  ])
})

test('--owner: the helper starts first (it keeps root for the maps), then nsx becomes the owner and unshares', () => {
  assert.deepEqual(plan(['--owner=1234:5678', '-r', 'true'], root), [
    'helper-start', 'setgroups', 'setgid 5678', 'setuid 1234', 'unshare user', 'helper-map uid write 0 0 1', 'helper-map gid write 0 0 1', 'helper-commit', 'exec true',
  ])
  assert.deepEqual(plan(['--owner=1234:5678', 'true'], root), ['setgroups', 'setgid 5678', 'setuid 1234', 'unshare user', 'exec true'])
  assert.throws(() => plan(['--owner=1:1', 'true']), /--owner needs CAP_SETUID and CAP_SETGID/)
  assert.throws(() => parseUnshareArgs(['--owner=1']), /--owner: '1' is not UID:GID/)
})

test('--keep-caps needs a user namespace', () => {
  assert.throws(() => plan(['-n', '--keep-caps', 'true'], root), /--keep-caps needs a new user namespace/)
})

test('every unshare op has the arity the executor\'s op table declares (nsx-exec --ops) and a description', () => {
  const bin = join(REPO, 'native', 'build', 'nsx-exec')
  assert.ok(existsSync(bin), 'native/build/nsx-exec is not built: run npm run build:native')
  const table = new Map(run(bin, ['--ops']).stdout.trim().split('\n').map((l) => [l.split('\t')[0], Number(l.split('\t')[1])] as const))
  const every: Op[] = [
    {op: 'helper-start'}, {op: 'helper-map', kind: 'uid', mode: 'write', text: '0 0 1\n'}, {op: 'map-write', kind: 'gid', text: '0 0 1\n'},
    {op: 'setgroups-write', mode: 'deny'}, {op: 'timens-offset', clock: 'monotonic', seconds: -3n}, {op: 'persist', ns: 'net', path: '/x'},
    {op: 'helper-commit'}, {op: 'fork-wait', killSignal: 9}, {op: 'proc-private', path: '/proc'},
    {op: 'forward-signals'}, {op: 'env-keep', names: ['PATH', 'HOME']},
  ]
  assert.deepEqual(new Set(every.map((o) => o.op)), new Set(Object.keys(UNSHARE_ENCODERS)), 'a new unshare op must be added here')
  for (const op of every) assert.equal(table.get(op.op), opArity(op), `arity of ${op.op}`)
  const steps = describePlan({command: 'nsx unshare', ops: [...every, {op: 'exec', argv: ['true']}]}, encodeOp)
  for (const s of steps.slice(0, -1)) assert.ok(s.action.length > 10, `${s.op} is described`)
})
